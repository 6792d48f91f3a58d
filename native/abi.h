// Our own copy of the io_uring kernel ABI (uapi include/uapi/linux/io_uring.h, up to 6.18): no system io_uring headers.
#pragma once

#include <cstddef>
#include <cstdint>

// Values checked against the kernel's include/uapi/linux/io_uring.h (mainline, 6.1x series).
// Names drop the IORING_ prefix and live in namespace abi, so they can never collide with
// macros from a system <linux/io_uring.h> that some other header might pull in.
namespace abi {

// ---------------------------------------------------------------------------
// Syscall numbers. io_uring_setup/enter/register are 425/426/427 on every
// architecture that uses the unified syscall table (x86_64, aarch64, arm, riscv,
// ppc, s390, ...); alpha (535/536/537) and mips (425 plus the ABI's base: o32 4000,
// n64 5000, n32 6000) are the exceptions.
// ---------------------------------------------------------------------------
#if defined(__alpha__)
constexpr long NR_io_uring_setup = 535;
constexpr long NR_io_uring_enter = 536;
constexpr long NR_io_uring_register = 537;
#elif defined(__mips__)
#if _MIPS_SIM == _ABIO32
constexpr long kMipsSyscallBase = 4000;
#elif _MIPS_SIM == _ABI64
constexpr long kMipsSyscallBase = 5000;
#else
constexpr long kMipsSyscallBase = 6000;  // n32
#endif
constexpr long NR_io_uring_setup = kMipsSyscallBase + 425;
constexpr long NR_io_uring_enter = kMipsSyscallBase + 426;
constexpr long NR_io_uring_register = kMipsSyscallBase + 427;
#elif defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__) || \
    defined(__riscv) || defined(__powerpc__) || defined(__s390__) || defined(__loongarch__) ||     \
    defined(__sparc__)
constexpr long NR_io_uring_setup = 425;
constexpr long NR_io_uring_enter = 426;
constexpr long NR_io_uring_register = 427;
#else
#error "uring-probe: unknown architecture; add its io_uring syscall numbers to native/abi.h"
#endif

// ---------------------------------------------------------------------------
// io_uring_setup() flags (io_uring_params.flags)
// ---------------------------------------------------------------------------
constexpr uint32_t SETUP_IOPOLL = 1u << 0;
constexpr uint32_t SETUP_SQPOLL = 1u << 1;
constexpr uint32_t SETUP_SQ_AFF = 1u << 2;
constexpr uint32_t SETUP_CQSIZE = 1u << 3;
constexpr uint32_t SETUP_CLAMP = 1u << 4;
constexpr uint32_t SETUP_ATTACH_WQ = 1u << 5;
constexpr uint32_t SETUP_R_DISABLED = 1u << 6;
constexpr uint32_t SETUP_SUBMIT_ALL = 1u << 7;
constexpr uint32_t SETUP_COOP_TASKRUN = 1u << 8;
constexpr uint32_t SETUP_TASKRUN_FLAG = 1u << 9;
constexpr uint32_t SETUP_SQE128 = 1u << 10;
constexpr uint32_t SETUP_CQE32 = 1u << 11;
constexpr uint32_t SETUP_SINGLE_ISSUER = 1u << 12;
constexpr uint32_t SETUP_DEFER_TASKRUN = 1u << 13;
constexpr uint32_t SETUP_NO_MMAP = 1u << 14;
constexpr uint32_t SETUP_REGISTERED_FD_ONLY = 1u << 15;
constexpr uint32_t SETUP_NO_SQARRAY = 1u << 16;
constexpr uint32_t SETUP_HYBRID_IOPOLL = 1u << 17;
constexpr uint32_t SETUP_CQE_MIXED = 1u << 18;

// ---------------------------------------------------------------------------
// io_uring_params.features
// ---------------------------------------------------------------------------
constexpr uint32_t FEAT_SINGLE_MMAP = 1u << 0;
constexpr uint32_t FEAT_NODROP = 1u << 1;
constexpr uint32_t FEAT_SUBMIT_STABLE = 1u << 2;
constexpr uint32_t FEAT_RW_CUR_POS = 1u << 3;
constexpr uint32_t FEAT_CUR_PERSONALITY = 1u << 4;
constexpr uint32_t FEAT_FAST_POLL = 1u << 5;
constexpr uint32_t FEAT_POLL_32BITS = 1u << 6;
constexpr uint32_t FEAT_SQPOLL_NONFIXED = 1u << 7;
constexpr uint32_t FEAT_EXT_ARG = 1u << 8;
constexpr uint32_t FEAT_NATIVE_WORKERS = 1u << 9;
constexpr uint32_t FEAT_RSRC_TAGS = 1u << 10;
constexpr uint32_t FEAT_CQE_SKIP = 1u << 11;
constexpr uint32_t FEAT_LINKED_FILE = 1u << 12;
constexpr uint32_t FEAT_REG_REG_RING = 1u << 13;
constexpr uint32_t FEAT_RECVSEND_BUNDLE = 1u << 14;
constexpr uint32_t FEAT_MIN_TIMEOUT = 1u << 15;
constexpr uint32_t FEAT_RW_ATTR = 1u << 16;
constexpr uint32_t FEAT_NO_IOWAIT = 1u << 17;

// ---------------------------------------------------------------------------
// SQE opcodes (enum io_uring_op)
// ---------------------------------------------------------------------------
enum Opcode : uint8_t {
  OP_NOP = 0,
  OP_READV = 1,
  OP_WRITEV = 2,
  OP_FSYNC = 3,
  OP_READ_FIXED = 4,
  OP_WRITE_FIXED = 5,
  OP_POLL_ADD = 6,
  OP_POLL_REMOVE = 7,
  OP_SYNC_FILE_RANGE = 8,
  OP_SENDMSG = 9,
  OP_RECVMSG = 10,
  OP_TIMEOUT = 11,
  OP_TIMEOUT_REMOVE = 12,
  OP_ACCEPT = 13,
  OP_ASYNC_CANCEL = 14,
  OP_LINK_TIMEOUT = 15,
  OP_CONNECT = 16,
  OP_FALLOCATE = 17,
  OP_OPENAT = 18,
  OP_CLOSE = 19,
  OP_FILES_UPDATE = 20,
  OP_STATX = 21,
  OP_READ = 22,
  OP_WRITE = 23,
  OP_FADVISE = 24,
  OP_MADVISE = 25,
  OP_SEND = 26,
  OP_RECV = 27,
  OP_OPENAT2 = 28,
  OP_EPOLL_CTL = 29,
  OP_SPLICE = 30,
  OP_PROVIDE_BUFFERS = 31,
  OP_REMOVE_BUFFERS = 32,
  OP_TEE = 33,
  OP_SHUTDOWN = 34,
  OP_RENAMEAT = 35,
  OP_UNLINKAT = 36,
  OP_MKDIRAT = 37,
  OP_SYMLINKAT = 38,
  OP_LINKAT = 39,
  OP_MSG_RING = 40,
  OP_FSETXATTR = 41,
  OP_SETXATTR = 42,
  OP_FGETXATTR = 43,
  OP_GETXATTR = 44,
  OP_SOCKET = 45,
  OP_URING_CMD = 46,
  OP_SEND_ZC = 47,
  OP_SENDMSG_ZC = 48,
  OP_READ_MULTISHOT = 49,
  OP_WAITID = 50,
  OP_FUTEX_WAIT = 51,
  OP_FUTEX_WAKE = 52,
  OP_FUTEX_WAITV = 53,
  OP_FIXED_FD_INSTALL = 54,
  OP_FTRUNCATE = 55,
  OP_BIND = 56,
  OP_LISTEN = 57,
  OP_RECV_ZC = 58,
  OP_EPOLL_WAIT = 59,
  OP_READV_FIXED = 60,
  OP_WRITEV_FIXED = 61,
  OP_PIPE = 62,
};

// ---------------------------------------------------------------------------
// io_uring_register() opcodes (enum io_uring_register_op)
// ---------------------------------------------------------------------------
constexpr uint32_t REGISTER_BUFFERS = 0;
constexpr uint32_t UNREGISTER_BUFFERS = 1;
constexpr uint32_t REGISTER_FILES = 2;
constexpr uint32_t UNREGISTER_FILES = 3;
constexpr uint32_t REGISTER_EVENTFD = 4;
constexpr uint32_t UNREGISTER_EVENTFD = 5;
constexpr uint32_t REGISTER_FILES_UPDATE = 6;
constexpr uint32_t REGISTER_EVENTFD_ASYNC = 7;
constexpr uint32_t REGISTER_PROBE = 8;
constexpr uint32_t REGISTER_PERSONALITY = 9;
constexpr uint32_t UNREGISTER_PERSONALITY = 10;
constexpr uint32_t REGISTER_RESTRICTIONS = 11;
constexpr uint32_t REGISTER_ENABLE_RINGS = 12;
constexpr uint32_t REGISTER_FILES2 = 13;
constexpr uint32_t REGISTER_FILES_UPDATE2 = 14;
constexpr uint32_t REGISTER_BUFFERS2 = 15;
constexpr uint32_t REGISTER_BUFFERS_UPDATE = 16;
constexpr uint32_t REGISTER_IOWQ_AFF = 17;
constexpr uint32_t UNREGISTER_IOWQ_AFF = 18;
constexpr uint32_t REGISTER_IOWQ_MAX_WORKERS = 19;
constexpr uint32_t REGISTER_RING_FDS = 20;
constexpr uint32_t UNREGISTER_RING_FDS = 21;
constexpr uint32_t REGISTER_PBUF_RING = 22;
constexpr uint32_t UNREGISTER_PBUF_RING = 23;
constexpr uint32_t REGISTER_SYNC_CANCEL = 24;
constexpr uint32_t REGISTER_FILE_ALLOC_RANGE = 25;
constexpr uint32_t REGISTER_PBUF_STATUS = 26;
constexpr uint32_t REGISTER_NAPI = 27;
constexpr uint32_t UNREGISTER_NAPI = 28;
constexpr uint32_t REGISTER_CLOCK = 29;
constexpr uint32_t REGISTER_CLONE_BUFFERS = 30;
constexpr uint32_t REGISTER_SEND_MSG_RING = 31;
constexpr uint32_t REGISTER_ZCRX_IFQ = 32;
constexpr uint32_t REGISTER_RESIZE_RINGS = 33;
constexpr uint32_t REGISTER_MEM_REGION = 34;

// ---------------------------------------------------------------------------
// io_uring_enter() flags
// ---------------------------------------------------------------------------
constexpr uint32_t ENTER_GETEVENTS = 1u << 0;
constexpr uint32_t ENTER_SQ_WAKEUP = 1u << 1;
constexpr uint32_t ENTER_SQ_WAIT = 1u << 2;
constexpr uint32_t ENTER_EXT_ARG = 1u << 3;
constexpr uint32_t ENTER_REGISTERED_RING = 1u << 4;

// ---------------------------------------------------------------------------
// sqe->flags, sqe->ioprio for send/recv, cqe->flags
// ---------------------------------------------------------------------------
constexpr uint8_t IOSQE_FIXED_FILE = 1u << 0;
constexpr uint8_t IOSQE_IO_DRAIN = 1u << 1;
constexpr uint8_t IOSQE_IO_LINK = 1u << 2;
constexpr uint8_t IOSQE_IO_HARDLINK = 1u << 3;
constexpr uint8_t IOSQE_ASYNC = 1u << 4;
constexpr uint8_t IOSQE_BUFFER_SELECT = 1u << 5;
constexpr uint8_t IOSQE_CQE_SKIP_SUCCESS = 1u << 6;

constexpr uint16_t RECVSEND_POLL_FIRST = 1u << 0;
constexpr uint16_t RECV_MULTISHOT = 1u << 1;
constexpr uint16_t RECVSEND_FIXED_BUF = 1u << 2;

constexpr uint32_t CQE_F_BUFFER = 1u << 0;
constexpr uint32_t CQE_F_MORE = 1u << 1;
constexpr uint32_t CQE_F_SOCK_NONEMPTY = 1u << 2;
constexpr uint32_t CQE_F_NOTIF = 1u << 3;
constexpr uint32_t CQE_BUFFER_SHIFT = 16;

constexpr uint32_t SQ_NEED_WAKEUP = 1u << 0;
constexpr uint32_t SQ_CQ_OVERFLOW = 1u << 1;
constexpr uint32_t SQ_TASKRUN = 1u << 2;

constexpr uint16_t IO_URING_OP_SUPPORTED = 1u << 0;

// ---------------------------------------------------------------------------
// mmap offsets
// ---------------------------------------------------------------------------
constexpr uint64_t OFF_SQ_RING = 0ULL;
constexpr uint64_t OFF_CQ_RING = 0x8000000ULL;
constexpr uint64_t OFF_SQES = 0x10000000ULL;

// ---------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------
struct io_sqring_offsets {
  uint32_t head;
  uint32_t tail;
  uint32_t ring_mask;
  uint32_t ring_entries;
  uint32_t flags;
  uint32_t dropped;
  uint32_t array;
  uint32_t resv1;
  uint64_t user_addr;
};

// 40 bytes, as in every kernel since 5.1. The seed's Go ioCqringOffsets ends in `Resv [2]uint32`
// after Cqes (32 bytes), so its ioUringParams is 112 bytes while io_uring_setup copies 120 in and
// out: every setup reads and writes cq_off.user_addr past the seed's variable. We use the kernel's
// layout; the cqe-alignment probe measures the copy and reports the seed's (SEED_LAYOUT).
struct io_cqring_offsets {
  uint32_t head;
  uint32_t tail;
  uint32_t ring_mask;
  uint32_t ring_entries;
  uint32_t overflow;
  uint32_t cqes;
  uint32_t flags;
  uint32_t resv1;
  uint64_t user_addr;
};

struct io_uring_params {
  uint32_t sq_entries;
  uint32_t cq_entries;
  uint32_t flags;
  uint32_t sq_thread_cpu;
  uint32_t sq_thread_idle;
  uint32_t features;
  uint32_t wq_fd;
  uint32_t resv[3];
  io_sqring_offsets sq_off;
  io_cqring_offsets cq_off;
};

// The 64-byte SQE with the fields the seed (and our probes) write; unions of the
// kernel struct are flattened to the member we use, at the same offset.
struct io_uring_sqe {
  uint8_t opcode;
  uint8_t flags;
  uint16_t ioprio;
  int32_t fd;
  uint64_t off;  // union: off / addr2
  uint64_t addr;  // union: addr / splice_off_in
  uint32_t len;
  uint32_t msg_flags;  // union: rw_flags / msg_flags / ...
  uint64_t user_data;
  uint16_t buf_index;  // union: buf_index / buf_group (packed)
  uint16_t personality;
  int32_t splice_fd_in;  // union: splice_fd_in / file_index / optlen
  uint64_t addr3;
  uint64_t pad2;
};

struct io_uring_cqe {
  uint64_t user_data;
  int32_t res;
  uint32_t flags;
};

struct io_uring_probe_op {
  uint8_t op;
  uint8_t resv;
  uint16_t flags;
  uint32_t resv2;
};

struct io_uring_probe {
  uint8_t last_op;
  uint8_t ops_len;
  uint16_t resv;
  uint32_t resv2[3];
  // followed by io_uring_probe_op ops[ops_len]
};

struct io_uring_buf {
  uint64_t addr;
  uint32_t len;
  uint16_t bid;
  uint16_t resv;  // in bufs[0] this is the ring tail
};

// argument for REGISTER_PBUF_RING
struct io_uring_buf_reg {
  uint64_t ring_addr;
  uint32_t ring_entries;
  uint16_t bgid;
  uint16_t flags;
  uint64_t resv[3];
};

// header the kernel writes at the start of each buffer of a multishot RECVMSG
struct io_uring_recvmsg_out {
  uint32_t namelen;
  uint32_t controllen;
  uint32_t payloadlen;
  uint32_t flags;
};

struct kernel_timespec {
  int64_t tv_sec;
  long long tv_nsec;
};

// argument for io_uring_enter(..., ENTER_EXT_ARG, arg, sizeof arg)
struct io_uring_getevents_arg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t min_wait_usec;  // "pad" before 6.12
  uint64_t ts;             // pointer to kernel_timespec
};

// ---- sizes and offsets pinned to the kernel ABI ----
static_assert(sizeof(io_sqring_offsets) == 40, "io_sqring_offsets is 40 bytes");
static_assert(sizeof(io_cqring_offsets) == 40, "io_cqring_offsets is 40 bytes");
static_assert(offsetof(io_sqring_offsets, array) == 24, "sq_off.array at 24");
static_assert(offsetof(io_cqring_offsets, cqes) == 20, "cq_off.cqes at 20");
static_assert(sizeof(io_uring_params) == 120, "io_uring_params is 120 bytes");
static_assert(offsetof(io_uring_params, features) == 20, "params.features at 20");
static_assert(offsetof(io_uring_params, sq_off) == 40, "params.sq_off at 40");
static_assert(offsetof(io_uring_params, cq_off) == 80, "params.cq_off at 80");
static_assert(sizeof(io_uring_sqe) == 64, "io_uring_sqe is 64 bytes");
static_assert(offsetof(io_uring_sqe, fd) == 4, "sqe.fd at 4");
static_assert(offsetof(io_uring_sqe, off) == 8, "sqe.off at 8");
static_assert(offsetof(io_uring_sqe, addr) == 16, "sqe.addr at 16");
static_assert(offsetof(io_uring_sqe, len) == 24, "sqe.len at 24");
static_assert(offsetof(io_uring_sqe, msg_flags) == 28, "sqe.msg_flags at 28");
static_assert(offsetof(io_uring_sqe, user_data) == 32, "sqe.user_data at 32");
static_assert(offsetof(io_uring_sqe, buf_index) == 40, "sqe.buf_index at 40");
static_assert(offsetof(io_uring_sqe, personality) == 42, "sqe.personality at 42");
static_assert(offsetof(io_uring_sqe, splice_fd_in) == 44, "sqe.splice_fd_in at 44");
static_assert(offsetof(io_uring_sqe, addr3) == 48, "sqe.addr3 at 48");
static_assert(sizeof(io_uring_cqe) == 16, "io_uring_cqe is 16 bytes");
static_assert(offsetof(io_uring_cqe, res) == 8, "cqe.res at 8");
static_assert(offsetof(io_uring_cqe, flags) == 12, "cqe.flags at 12");
static_assert(sizeof(io_uring_probe_op) == 8, "io_uring_probe_op is 8 bytes");
static_assert(sizeof(io_uring_probe) == 16, "io_uring_probe header is 16 bytes");
static_assert(sizeof(io_uring_buf) == 16, "io_uring_buf is 16 bytes");
static_assert(offsetof(io_uring_buf, resv) == 14, "buf ring tail overlays bufs[0].resv at 14");
static_assert(sizeof(io_uring_buf_reg) == 40, "io_uring_buf_reg is 40 bytes");
static_assert(sizeof(io_uring_recvmsg_out) == 16, "io_uring_recvmsg_out is 16 bytes");
static_assert(sizeof(kernel_timespec) == 16, "__kernel_timespec is 16 bytes");
static_assert(sizeof(io_uring_getevents_arg) == 24, "io_uring_getevents_arg is 24 bytes");
static_assert(offsetof(io_uring_getevents_arg, ts) == 16, "getevents_arg.ts at 16");

// ---------------------------------------------------------------------------
// Name tables (name -> value) so that JS can decode bits by name.
// ---------------------------------------------------------------------------
struct NamedValue {
  const char* name;
  uint32_t value;
};

inline constexpr NamedValue kSetupFlagNames[] = {
    {"IOPOLL", SETUP_IOPOLL},
    {"SQPOLL", SETUP_SQPOLL},
    {"SQ_AFF", SETUP_SQ_AFF},
    {"CQSIZE", SETUP_CQSIZE},
    {"CLAMP", SETUP_CLAMP},
    {"ATTACH_WQ", SETUP_ATTACH_WQ},
    {"R_DISABLED", SETUP_R_DISABLED},
    {"SUBMIT_ALL", SETUP_SUBMIT_ALL},
    {"COOP_TASKRUN", SETUP_COOP_TASKRUN},
    {"TASKRUN_FLAG", SETUP_TASKRUN_FLAG},
    {"SQE128", SETUP_SQE128},
    {"CQE32", SETUP_CQE32},
    {"SINGLE_ISSUER", SETUP_SINGLE_ISSUER},
    {"DEFER_TASKRUN", SETUP_DEFER_TASKRUN},
    {"NO_MMAP", SETUP_NO_MMAP},
    {"REGISTERED_FD_ONLY", SETUP_REGISTERED_FD_ONLY},
    {"NO_SQARRAY", SETUP_NO_SQARRAY},
    {"HYBRID_IOPOLL", SETUP_HYBRID_IOPOLL},
    {"CQE_MIXED", SETUP_CQE_MIXED},
};

inline constexpr NamedValue kFeatureNames[] = {
    {"SINGLE_MMAP", FEAT_SINGLE_MMAP},
    {"NODROP", FEAT_NODROP},
    {"SUBMIT_STABLE", FEAT_SUBMIT_STABLE},
    {"RW_CUR_POS", FEAT_RW_CUR_POS},
    {"CUR_PERSONALITY", FEAT_CUR_PERSONALITY},
    {"FAST_POLL", FEAT_FAST_POLL},
    {"POLL_32BITS", FEAT_POLL_32BITS},
    {"SQPOLL_NONFIXED", FEAT_SQPOLL_NONFIXED},
    {"EXT_ARG", FEAT_EXT_ARG},
    {"NATIVE_WORKERS", FEAT_NATIVE_WORKERS},
    {"RSRC_TAGS", FEAT_RSRC_TAGS},
    {"CQE_SKIP", FEAT_CQE_SKIP},
    {"LINKED_FILE", FEAT_LINKED_FILE},
    {"REG_REG_RING", FEAT_REG_REG_RING},
    {"RECVSEND_BUNDLE", FEAT_RECVSEND_BUNDLE},
    {"MIN_TIMEOUT", FEAT_MIN_TIMEOUT},
    {"RW_ATTR", FEAT_RW_ATTR},
    {"NO_IOWAIT", FEAT_NO_IOWAIT},
};

inline constexpr NamedValue kOpcodeNames[] = {
    {"NOP", OP_NOP},
    {"READV", OP_READV},
    {"WRITEV", OP_WRITEV},
    {"FSYNC", OP_FSYNC},
    {"READ_FIXED", OP_READ_FIXED},
    {"WRITE_FIXED", OP_WRITE_FIXED},
    {"POLL_ADD", OP_POLL_ADD},
    {"POLL_REMOVE", OP_POLL_REMOVE},
    {"SYNC_FILE_RANGE", OP_SYNC_FILE_RANGE},
    {"SENDMSG", OP_SENDMSG},
    {"RECVMSG", OP_RECVMSG},
    {"TIMEOUT", OP_TIMEOUT},
    {"TIMEOUT_REMOVE", OP_TIMEOUT_REMOVE},
    {"ACCEPT", OP_ACCEPT},
    {"ASYNC_CANCEL", OP_ASYNC_CANCEL},
    {"LINK_TIMEOUT", OP_LINK_TIMEOUT},
    {"CONNECT", OP_CONNECT},
    {"FALLOCATE", OP_FALLOCATE},
    {"OPENAT", OP_OPENAT},
    {"CLOSE", OP_CLOSE},
    {"FILES_UPDATE", OP_FILES_UPDATE},
    {"STATX", OP_STATX},
    {"READ", OP_READ},
    {"WRITE", OP_WRITE},
    {"FADVISE", OP_FADVISE},
    {"MADVISE", OP_MADVISE},
    {"SEND", OP_SEND},
    {"RECV", OP_RECV},
    {"OPENAT2", OP_OPENAT2},
    {"EPOLL_CTL", OP_EPOLL_CTL},
    {"SPLICE", OP_SPLICE},
    {"PROVIDE_BUFFERS", OP_PROVIDE_BUFFERS},
    {"REMOVE_BUFFERS", OP_REMOVE_BUFFERS},
    {"TEE", OP_TEE},
    {"SHUTDOWN", OP_SHUTDOWN},
    {"RENAMEAT", OP_RENAMEAT},
    {"UNLINKAT", OP_UNLINKAT},
    {"MKDIRAT", OP_MKDIRAT},
    {"SYMLINKAT", OP_SYMLINKAT},
    {"LINKAT", OP_LINKAT},
    {"MSG_RING", OP_MSG_RING},
    {"FSETXATTR", OP_FSETXATTR},
    {"SETXATTR", OP_SETXATTR},
    {"FGETXATTR", OP_FGETXATTR},
    {"GETXATTR", OP_GETXATTR},
    {"SOCKET", OP_SOCKET},
    {"URING_CMD", OP_URING_CMD},
    {"SEND_ZC", OP_SEND_ZC},
    {"SENDMSG_ZC", OP_SENDMSG_ZC},
    {"READ_MULTISHOT", OP_READ_MULTISHOT},
    {"WAITID", OP_WAITID},
    {"FUTEX_WAIT", OP_FUTEX_WAIT},
    {"FUTEX_WAKE", OP_FUTEX_WAKE},
    {"FUTEX_WAITV", OP_FUTEX_WAITV},
    {"FIXED_FD_INSTALL", OP_FIXED_FD_INSTALL},
    {"FTRUNCATE", OP_FTRUNCATE},
    {"BIND", OP_BIND},
    {"LISTEN", OP_LISTEN},
    {"RECV_ZC", OP_RECV_ZC},
    {"EPOLL_WAIT", OP_EPOLL_WAIT},
    {"READV_FIXED", OP_READV_FIXED},
    {"WRITEV_FIXED", OP_WRITEV_FIXED},
    {"PIPE", OP_PIPE},
};

inline constexpr NamedValue kRegisterOpNames[] = {
    {"BUFFERS", REGISTER_BUFFERS},
    {"UNREGISTER_BUFFERS", UNREGISTER_BUFFERS},
    {"FILES", REGISTER_FILES},
    {"UNREGISTER_FILES", UNREGISTER_FILES},
    {"EVENTFD", REGISTER_EVENTFD},
    {"UNREGISTER_EVENTFD", UNREGISTER_EVENTFD},
    {"FILES_UPDATE", REGISTER_FILES_UPDATE},
    {"EVENTFD_ASYNC", REGISTER_EVENTFD_ASYNC},
    {"PROBE", REGISTER_PROBE},
    {"PERSONALITY", REGISTER_PERSONALITY},
    {"UNREGISTER_PERSONALITY", UNREGISTER_PERSONALITY},
    {"RESTRICTIONS", REGISTER_RESTRICTIONS},
    {"ENABLE_RINGS", REGISTER_ENABLE_RINGS},
    {"FILES2", REGISTER_FILES2},
    {"FILES_UPDATE2", REGISTER_FILES_UPDATE2},
    {"BUFFERS2", REGISTER_BUFFERS2},
    {"BUFFERS_UPDATE", REGISTER_BUFFERS_UPDATE},
    {"IOWQ_AFF", REGISTER_IOWQ_AFF},
    {"UNREGISTER_IOWQ_AFF", UNREGISTER_IOWQ_AFF},
    {"IOWQ_MAX_WORKERS", REGISTER_IOWQ_MAX_WORKERS},
    {"RING_FDS", REGISTER_RING_FDS},
    {"UNREGISTER_RING_FDS", UNREGISTER_RING_FDS},
    {"PBUF_RING", REGISTER_PBUF_RING},
    {"UNREGISTER_PBUF_RING", UNREGISTER_PBUF_RING},
    {"SYNC_CANCEL", REGISTER_SYNC_CANCEL},
    {"FILE_ALLOC_RANGE", REGISTER_FILE_ALLOC_RANGE},
    {"PBUF_STATUS", REGISTER_PBUF_STATUS},
    {"NAPI", REGISTER_NAPI},
    {"UNREGISTER_NAPI", UNREGISTER_NAPI},
    {"CLOCK", REGISTER_CLOCK},
    {"CLONE_BUFFERS", REGISTER_CLONE_BUFFERS},
    {"SEND_MSG_RING", REGISTER_SEND_MSG_RING},
    {"ZCRX_IFQ", REGISTER_ZCRX_IFQ},
    {"RESIZE_RINGS", REGISTER_RESIZE_RINGS},
    {"MEM_REGION", REGISTER_MEM_REGION},
};

}  // namespace abi

// The ring-access layer (issue 12): the one place that writes SQEs, publishes the SQ tail, reads
// and retires CQEs, waits on the kernel and refills a provided-buffer ring. Every ring of this
// addon (send ring, receive ring, the probes' raw rings, the bench engine's rings) goes through
// these functions; nothing else touches sq_off/cq_off fields. In the spirit of liburing's
// io_uring_get_sqe / io_uring_prep_* / io_uring_submit_and_wait / io_uring_cq_advance, written
// for this codebase: every result is >= 0 or -errno, every wait ends at a deadline.
//
// Ordering, once for all functions below (the kernel is the other party):
//   SQ: we write SQEs and the SQ array, then store the tail with release; the kernel loads the
//       tail with acquire, reads the SQEs, then stores its head with release. We load the head
//       with acquire before reusing an SQE slot.
//   CQ: the kernel writes a CQE, then stores the tail with release; we load the tail with
//       acquire, read the CQE, then store our head with release (the kernel may reuse the slot).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <cstring>

#include "abi.h"
#include "ring.h"

namespace uring {

// Ring and RingAttach are in ring.h (the rings' classes hold one).

// ---------------------------------------------------------------------------
// SQ side
// ---------------------------------------------------------------------------

// The kernel's SQ head (acquire: SQEs before it have been read by the kernel).
inline uint32_t SqHead(const Ring& r) { return __atomic_load_n(r.mem.sqHead, __ATOMIC_ACQUIRE); }

// SQEs reserved but not yet taken by the kernel (published or not).
inline uint32_t SqUnsubmitted(const Ring& r) { return r.sqTail - SqHead(r); }

// Free SQE slots.
inline uint32_t SqSpace(const Ring& r) { return *r.mem.sqRingEntries - SqUnsubmitted(r); }

// Whether the kernel has taken the SQE at position `pos` (a value of sqTail when it was reserved).
inline bool SqTaken(const Ring& r, uint32_t pos) { return static_cast<int32_t>(SqHead(r) - pos) > 0; }

// Reserve the next SQE: zeroed, its SQ array entry set, not visible to the kernel until Publish.
// nullptr when the SQ is full (submit, then try again).
inline abi::io_uring_sqe* GetSqe(Ring& r) {
  if (SqUnsubmitted(r) >= *r.mem.sqRingEntries) return nullptr;
  const uint32_t idx = r.sqTail & *r.mem.sqRingMask;
  abi::io_uring_sqe* sqe = &r.mem.sqes[idx];
  std::memset(sqe, 0, sizeof(*sqe));
  if (r.mem.sqArray) r.mem.sqArray[idx] = idx;  // NO_SQARRAY rings have none
  r.sqTail++;
  return sqe;
}

// Make every reserved SQE visible to the kernel (release: the SQE writes come first).
inline void Publish(Ring& r) { __atomic_store_n(r.mem.sqTail, r.sqTail, __ATOMIC_RELEASE); }

// Take back the SQEs from position `from` on that the kernel has not taken (after a failed or
// partial enter), calling onSqe(sqe) for each, and republish the shorter tail. Not under SQPOLL:
// there the kernel's thread may take them at any moment (returns 0). Returns how many.
template <typename F>
uint32_t TakeBack(Ring& r, uint32_t from, F&& onSqe) {
  if (r.sqpoll()) return 0;
  const uint32_t head = SqHead(r);
  const uint32_t start = static_cast<int32_t>(head - from) > 0 ? head : from;
  if (static_cast<int32_t>(r.sqTail - start) <= 0) return 0;
  uint32_t n = 0;
  for (uint32_t pos = start; pos != r.sqTail; pos++, n++) onSqe(r.mem.sqes[pos & *r.mem.sqRingMask]);
  r.sqTail = start;
  Publish(r);
  return n;
}

// ---------------------------------------------------------------------------
// Prep helpers: fill a reserved SQE (user_data last, as everything else).
// ---------------------------------------------------------------------------
inline void PrepNop(abi::io_uring_sqe* sqe, uint64_t userData) {
  sqe->opcode = abi::OP_NOP;
  sqe->fd = -1;
  sqe->user_data = userData;
}

inline void PrepSendmsg(abi::io_uring_sqe* sqe, int fd, const struct msghdr* msg, uint32_t msgFlags,
                        uint64_t userData) {
  sqe->opcode = abi::OP_SENDMSG;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(msg);
  sqe->len = 1;
  sqe->msg_flags = msgFlags;
  sqe->user_data = userData;
}

inline void PrepRecvmsg(abi::io_uring_sqe* sqe, int fd, struct msghdr* msg, uint32_t msgFlags, uint64_t userData) {
  sqe->opcode = abi::OP_RECVMSG;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(msg);
  sqe->len = 1;
  sqe->msg_flags = msgFlags;
  sqe->user_data = userData;
}

// Multishot RECVMSG from provided-buffer group `bgid` (5.20/6.0): `msg` gives only namelen and
// controllen (each buffer starts with an io_uring_recvmsg_out header).
inline void PrepRecvmsgMultishot(abi::io_uring_sqe* sqe, int fd, struct msghdr* msg, uint16_t bgid,
                                 uint64_t userData) {
  PrepRecvmsg(sqe, fd, msg, 0, userData);
  sqe->flags |= abi::IOSQE_BUFFER_SELECT;
  sqe->ioprio = abi::RECV_MULTISHOT;
  sqe->buf_index = bgid;
}

// Add IOSQE_* flags (IOSQE_ASYNC, ...) to a prepared SQE, as liburing's io_uring_sqe_set_flags.
inline void SqeAddFlags(abi::io_uring_sqe* sqe, uint8_t flags) { sqe->flags |= flags; }

// Cancel the request whose user_data is `target`; the cancel's own CQE carries `userData`.
inline void PrepCancel(abi::io_uring_sqe* sqe, uint64_t target, uint64_t userData) {
  sqe->opcode = abi::OP_ASYNC_CANCEL;
  sqe->fd = -1;
  sqe->addr = target;
  sqe->user_data = userData;
}

// ---------------------------------------------------------------------------
// CQ side
// ---------------------------------------------------------------------------

// CQEs ready to read (acquire on the kernel's tail: their contents are visible after it).
inline uint32_t CqReady(const Ring& r) {
  return __atomic_load_n(r.mem.cqTail, __ATOMIC_ACQUIRE) - __atomic_load_n(r.mem.cqHead, __ATOMIC_RELAXED);
}

// The oldest ready CQE, or nullptr. It stays ours until CqAdvance.
inline const abi::io_uring_cqe* PeekCqe(const Ring& r) {
  if (CqReady(r) == 0) return nullptr;
  return &r.mem.cqes[__atomic_load_n(r.mem.cqHead, __ATOMIC_RELAXED) & *r.mem.cqRingMask];
}

// Retire `n` CQEs (release: our reads of them are done; the kernel may reuse the slots).
inline void CqAdvance(Ring& r, uint32_t n) {
  if (n == 0) return;
  __atomic_store_n(r.mem.cqHead, __atomic_load_n(r.mem.cqHead, __ATOMIC_RELAXED) + n, __ATOMIC_RELEASE);
}

// Copy out and retire the oldest CQE; false when none is ready.
inline bool PopCqe(Ring& r, abi::io_uring_cqe* out) {
  const abi::io_uring_cqe* cqe = PeekCqe(r);
  if (!cqe) return false;
  *out = *cqe;
  CqAdvance(r, 1);
  return true;
}

// Visit every CQE ready now, oldest first: f(const io_uring_cqe&) returns false to stop (that CQE
// is retired too). Each CQE is retired right after f saw it. Returns how many were visited.
template <typename F>
uint32_t ForEachCqe(Ring& r, F&& f) {
  uint32_t n = 0;
  abi::io_uring_cqe cqe;
  while (PopCqe(r, &cqe)) {
    n++;
    if (!f(static_cast<const abi::io_uring_cqe&>(cqe))) break;
  }
  return n;
}

// ---------------------------------------------------------------------------
// Entering the kernel (ring_access.cc)
// ---------------------------------------------------------------------------

// The one io_uring_enter wrapper every wait goes through (Submit and SubmitAndWait below).
// Bounded io_uring_enter: submit `toSubmit`, wait for `waitNr` completions at most timeoutMs.
// EXT_ARG timeout when `features` has FEAT_EXT_ARG (and !forcePoll), else poll() on the ring fd.
// Returns the enter result (>= 0, SQEs consumed) or -errno; -ETIME when the wait ran out.
// EINTR is retried, as the seed does.
// SQPOLL rings: an enter with toSubmit > 0 passes ENTER_SQ_WAKEUP when the SQ thread sleeps
// (IORING_SQ_NEED_WAKEUP in *sqFlags, the ring's mapped sq_off.flags word; sq_wakeup.h). Pass
// sqFlags for such rings: without it (nullptr) every submitting enter on an SQPOLL ring wakes the
// thread. (Under SQPOLL the kernel returns to_submit even when the GETEVENTS wait ran out.)
int EnterBounded(int ringFd, uint32_t features, uint32_t ringFlags, uint32_t toSubmit, uint32_t waitNr,
                 int timeoutMs, bool forcePoll, const uint32_t* sqFlags = nullptr);

// Hand the kernel every published SQE it has not taken, without waiting (SQPOLL: wakes the SQ
// thread when it sleeps). Returns the enter's result (SQEs taken) or -errno.
int Submit(Ring& r);

// Hand over every published SQE and wait until at least `waitNr` CQEs are ready (clamped to the
// CQ ring's size: older kernels do not clamp and would wait for good) or `deadlineMs`
// (MonotonicMs clock) passes. Exact where the kernel is not: an enter that returns the submit
// count in place of its wait's -ETIME, or a poll() that woke on the first of several CQEs, is
// followed by another bounded wait, never by a return. Returns the number of ready CQEs
// (>= min(waitNr, cq entries)), -ETIME at the deadline, or the enter's -errno.
int SubmitAndWait(Ring& r, uint32_t waitNr, int64_t deadlineMs);

// ---------------------------------------------------------------------------
// Provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): `bufs` has `entries` (a power of two)
// slots; the ring's tail is bufs[0].resv.
// ---------------------------------------------------------------------------
struct BufRing {
  abi::io_uring_buf* bufs = nullptr;
  uint16_t entries = 0;
  uint16_t tail = 0;  // ours: slots filled up to here (published by BufRingAdvance)
};

inline void BufRingInit(BufRing* br, abi::io_uring_buf* bufs, uint16_t entries) {
  br->bufs = bufs;
  br->entries = entries;
  br->tail = 0;
  __atomic_store_n(&bufs[0].resv, static_cast<uint16_t>(0), __ATOMIC_RELAXED);
}

// Put buffer `bid` into the slot `offset` past our tail (not visible until BufRingAdvance).
inline void BufRingAdd(BufRing* br, void* addr, uint32_t len, uint16_t bid, uint16_t offset) {
  abi::io_uring_buf* b = &br->bufs[static_cast<uint16_t>(br->tail + offset) & (br->entries - 1)];
  b->addr = reinterpret_cast<uint64_t>(addr);
  b->len = len;
  b->bid = bid;
}

// Publish `count` added buffers (release: the kernel sees the entries before the new tail).
inline void BufRingAdvance(BufRing* br, uint16_t count) {
  br->tail = static_cast<uint16_t>(br->tail + count);
  __atomic_store_n(&br->bufs[0].resv, br->tail, __ATOMIC_RELEASE);
}

}  // namespace uring

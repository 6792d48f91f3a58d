/* Plain C reference for the loopback throughput engine: one UDP technique per run, same harness shape. */
/*
 * Usage: udp_loopback_ref MODE SIZE DURATION_MS [BATCH] [DEPTH] [EXTRA_RING_FLAGS]
 *   MODE: syscall | mmsg | seed | seed-batch | multishot | gso
 * Prints one JSON line: {"mode":..,"size":..,"sent":..,"received":..,"corrupt":..,"elapsedUs":..,
 *   "rxPps":..,"txPps":..,"senderCpuUs":..,"receiverCpuUs":..,"res":0}
 * Written independently of native/bench (no shared code): it exists to tell whether the engine
 * adds overhead on top of the technique itself. Only what the technique needs, nothing else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>  /* struct timeval: glibc brings it through <sys/socket.h>, musl does not */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- minimal io_uring ABI (own definitions, checked against the kernel uapi by size) ---- */
struct sq_off { uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; uint64_t resv2; };
struct cq_off { uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; uint64_t resv2; };
struct uring_params {
  uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
  struct sq_off sq_off; struct cq_off cq_off;
};
struct sqe {
  uint8_t opcode, flags; uint16_t ioprio; int32_t fd; uint64_t off, addr; uint32_t len, msg_flags;
  uint64_t user_data; uint16_t buf_group, personality; int32_t splice_fd_in; uint64_t addr3, pad;
};
struct cqe { uint64_t user_data; int32_t res; uint32_t flags; };
struct getevents_arg { uint64_t sigmask; uint32_t sigmask_sz, min_wait_usec; uint64_t ts; };
struct kts { int64_t tv_sec; long long tv_nsec; };
struct ubuf { uint64_t addr; uint32_t len; uint16_t bid, resv; };
struct ubuf_reg { uint64_t ring_addr; uint32_t ring_entries; uint16_t bgid, flags; uint64_t resv[3]; };
struct recvmsg_out { uint32_t namelen, controllen, payloadlen, flags; };
_Static_assert(sizeof(struct uring_params) == 120, "params");
_Static_assert(sizeof(struct sqe) == 64, "sqe");
_Static_assert(sizeof(struct cqe) == 16, "cqe");

enum { OP_SENDMSG = 9, OP_RECVMSG = 10 };
#define SETUP_CQSIZE (1u << 3)
#define SETUP_CLAMP (1u << 4)
#define SETUP_COOP_TASKRUN (1u << 8)
#define FEAT_SINGLE_MMAP (1u << 0)
#define FEAT_EXT_ARG (1u << 8)
#define ENTER_GETEVENTS 1u
#define ENTER_EXT_ARG 8u
#define SQE_BUFFER_SELECT (1u << 5)
#define RECV_MULTISHOT (1u << 1)
#define CQE_F_BUFFER 1u
#define CQE_F_MORE 2u
#define REGISTER_PBUF_RING 22
#define SOL_UDP_ 17
#define UDP_SEGMENT_ 103
#define UDP_GRO_ 104

/* ---- payload: 16-byte header + 4-byte trailer, both derived from the sequence number ---- */
#define MAGIC 0x55524e47u
static void stamp(uint8_t *p, uint32_t size, uint64_t seq) {
  uint32_t h[2] = {MAGIC, size};
  memcpy(p, h, 8); memcpy(p + 8, &seq, 8);
  uint32_t t = MAGIC ^ (uint32_t)seq; memcpy(p + size - 4, &t, 4);
}
static int valid(const uint8_t *p, size_t len, uint32_t size) {
  uint32_t h[2], t; uint64_t seq;
  if (len != size) return 0;
  memcpy(h, p, 8); memcpy(&seq, p + 8, 8); memcpy(&t, p + size - 4, 4);
  return h[0] == MAGIC && h[1] == size && t == (MAGIC ^ (uint32_t)seq);
}

/* ---- shared state ---- */
static const char *g_mode; static uint32_t g_size, g_batch = 32, g_depth = 64, g_extra_flags;
static struct sockaddr_in g_dst; static int g_rx_fd, g_tx_fd;
static atomic_int g_stop, g_tx_done, g_ready;
static uint64_t g_sent, g_received, g_corrupt;
static uint64_t g_tx_cpu, g_rx_cpu, g_t0, g_tx_end, g_rx_last;
static int g_err;

static uint64_t now_ns(clockid_t c) { struct timespec ts; clock_gettime(c, &ts); return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec; }
static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); sched_setaffinity(0, sizeof s, &s); }
static void fail(int e) { if (!g_err) g_err = e; }

/* ---- minimal ring ---- */
struct ring {
  int fd; uint32_t features, sq_entries, cq_entries;
  uint8_t *sqr, *cqr; struct sqe *sqes; size_t sqr_len, cqr_len, sqes_len;
  uint32_t *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask; struct cqe *cqes;
};
static int ring_init(struct ring *r, uint32_t entries, uint32_t flags, uint32_t cq_entries) {
  struct uring_params p; memset(&p, 0, sizeof p);
  p.flags = flags | g_extra_flags; if (cq_entries) { p.flags |= SETUP_CQSIZE; p.cq_entries = cq_entries; }
  int fd = (int)syscall(425, entries, &p);
  if (fd < 0) { p.flags &= ~SETUP_COOP_TASKRUN; fd = (int)syscall(425, entries, &p); }
  if (fd < 0) return -errno;
  r->fd = fd; r->features = p.features; r->sq_entries = p.sq_entries; r->cq_entries = p.cq_entries;
  r->sqr_len = p.sq_off.array + p.sq_entries * 4; r->cqr_len = p.cq_off.cqes + p.cq_entries * 16;
  if (p.features & FEAT_SINGLE_MMAP) { if (r->cqr_len > r->sqr_len) r->sqr_len = r->cqr_len; }
  r->sqr = mmap(0, r->sqr_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (r->sqr == MAP_FAILED) return -errno;
  if (p.features & FEAT_SINGLE_MMAP) r->cqr = r->sqr;
  else { r->cqr = mmap(0, r->cqr_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0x8000000); if (r->cqr == MAP_FAILED) return -errno; }
  r->sqes_len = p.sq_entries * sizeof(struct sqe);
  r->sqes = mmap(0, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0x10000000);
  if (r->sqes == MAP_FAILED) return -errno;
  r->sq_head = (uint32_t *)(r->sqr + p.sq_off.head); r->sq_tail = (uint32_t *)(r->sqr + p.sq_off.tail);
  r->sq_mask = (uint32_t *)(r->sqr + p.sq_off.ring_mask); r->sq_array = (uint32_t *)(r->sqr + p.sq_off.array);
  r->cq_head = (uint32_t *)(r->cqr + p.cq_off.head); r->cq_tail = (uint32_t *)(r->cqr + p.cq_off.tail);
  r->cq_mask = (uint32_t *)(r->cqr + p.cq_off.ring_mask); r->cqes = (struct cqe *)(r->cqr + p.cq_off.cqes);
  return 0;
}
static struct sqe *ring_sqe(struct ring *r) {
  uint32_t tail = *r->sq_tail, head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  if (tail - head >= r->sq_entries) return NULL;
  uint32_t idx = tail & *r->sq_mask; struct sqe *s = &r->sqes[idx];
  memset(s, 0, sizeof *s); r->sq_array[idx] = idx;
  __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
  return s;
}
/* submit and wait, bounded by a 100 ms timeout through EXT_ARG (this kernel has it) */
static int ring_enter(struct ring *r, uint32_t submit, uint32_t wait) {
  struct kts ts = {0, 100 * 1000000LL};
  struct getevents_arg arg = {0, 8, 0, (uint64_t)(uintptr_t)&ts};
  unsigned flags = wait ? ENTER_GETEVENTS | ENTER_EXT_ARG : 0;
  for (;;) {
    long n = wait ? syscall(426, r->fd, submit, wait, flags, &arg, sizeof arg) : syscall(426, r->fd, submit, 0, 0, NULL, 0);
    if (n >= 0) return (int)n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

/* ---- senders ---- */
static void *tx_thread(void *arg) {
  (void)arg; pin(0);
  uint32_t nbuf = g_batch < 1 ? 1 : g_batch;
  uint32_t gso_segs = 0;
  if (!strcmp(g_mode, "gso")) { gso_segs = 65000 / g_size; if (gso_segs > 64) gso_segs = 64; nbuf = 1; }
  uint8_t *bufs = aligned_alloc(64, ((size_t)nbuf * (gso_segs ? gso_segs : 1) * g_size + 63) / 64 * 64);
  struct iovec *iov = calloc(nbuf, sizeof *iov); struct msghdr *msgs = calloc(nbuf, sizeof *msgs);
  struct mmsghdr *mm = calloc(nbuf, sizeof *mm);
  for (uint32_t i = 0; i < nbuf; i++) {
    iov[i].iov_base = bufs + (size_t)i * g_size; iov[i].iov_len = g_size;
    msgs[i].msg_name = &g_dst; msgs[i].msg_namelen = sizeof g_dst; msgs[i].msg_iov = &iov[i]; msgs[i].msg_iovlen = 1;
    mm[i].msg_hdr = msgs[i];
  }
  int uring_mode = !strcmp(g_mode, "seed") || !strcmp(g_mode, "seed-batch") || !strcmp(g_mode, "multishot");
  struct ring r; memset(&r, 0, sizeof r);
  if (uring_mode) { int e = ring_init(&r, 256, SETUP_CLAMP | SETUP_COOP_TASKRUN, 0); if (e < 0) { fail(e); atomic_store(&g_ready, -1); return NULL; } }
  if (gso_segs) { int seg = (int)g_size; setsockopt(g_tx_fd, SOL_UDP_, UDP_SEGMENT_, &seg, sizeof seg); iov[0].iov_len = (size_t)g_size * gso_segs; }
  atomic_fetch_add(&g_ready, 1);
  while (atomic_load(&g_ready) < 2) { if (atomic_load(&g_ready) < 0) return NULL; sched_yield(); }
  uint64_t c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), seq = 0;
  int single = !strcmp(g_mode, "seed") || !strcmp(g_mode, "syscall");
  uint32_t per = single ? 1 : gso_segs ? gso_segs : nbuf;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
    for (uint32_t i = 0; i < (gso_segs ? gso_segs : per); i++) stamp(bufs + (size_t)i * g_size, g_size, seq + i);
    if (!strcmp(g_mode, "syscall") || gso_segs) {
      ssize_t n = sendmsg(g_tx_fd, &msgs[0], 0);
      if (n < 0) { fail(-errno); break; }
      seq += per;
    } else if (!strcmp(g_mode, "mmsg")) {
      int n = sendmmsg(g_tx_fd, mm, per, 0);
      if (n < 0) { fail(-errno); break; }
      seq += (uint64_t)n;
    } else { /* io_uring SENDMSG: one SQE and one submit-and-wait (seed), or N SQEs and one submit (batch) */
      for (uint32_t i = 0; i < per; i++) {
        struct sqe *s = ring_sqe(&r); s->opcode = OP_SENDMSG; s->fd = g_tx_fd;
        s->addr = (uint64_t)(uintptr_t)&msgs[i]; s->user_data = seq + i + 1;
      }
      int e = ring_enter(&r, per, per);
      if (e < 0 && e != -ETIME) { fail(e); break; }
      uint32_t got = 0;
      while (got < per) {
        uint32_t head = *r.cq_head, tail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
        if (head == tail) { e = ring_enter(&r, 0, per - got); if (e < 0 && e != -ETIME) { fail(e); break; } continue; }
        for (; head != tail; head++, got++) { struct cqe *c = &r.cqes[head & *r.cq_mask]; if (c->res < 0) fail(c->res); }
        __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
      }
      if (g_err) break;
      seq += per;
    }
  }
  g_tx_end = now_ns(CLOCK_MONOTONIC);
  g_tx_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0; g_sent = seq;
  atomic_store(&g_tx_done, 1);
  return NULL;
}

/* ---- receivers ---- */
static int rx_should_stop(uint64_t idle_since) {
  if (!atomic_load_explicit(&g_tx_done, memory_order_acquire)) return 0;
  if (g_received + g_corrupt >= g_sent) return 1;
  return now_ns(CLOCK_MONOTONIC) - idle_since > 50 * 1000000ull;
}
static void count(const uint8_t *p, size_t len) { if (valid(p, len, g_size)) g_received++; else g_corrupt++; }

static void rx_sockets(void) {
  int gso = !strcmp(g_mode, "gso"), mmsg = gso || !strcmp(g_mode, "mmsg");
  uint32_t vlen = mmsg ? (g_batch < 1 ? 1 : g_batch) : 1;
  size_t bsz = gso ? 65536 : 2048; if (bsz < g_size) bsz = g_size;
  uint8_t *buf = malloc(vlen * bsz); struct iovec *iov = calloc(vlen, sizeof *iov);
  struct mmsghdr *mm = calloc(vlen, sizeof *mm); char (*ctl)[64] = calloc(vlen, 64);
  struct sockaddr_in *names = calloc(vlen, sizeof *names);
  if (gso) { int one = 1; setsockopt(g_rx_fd, SOL_UDP_, UDP_GRO_, &one, sizeof one); }
  atomic_fetch_add(&g_ready, 1);
  uint64_t idle = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  for (;;) {
    for (uint32_t i = 0; i < vlen; i++) {
      iov[i].iov_base = buf + i * bsz; iov[i].iov_len = bsz;
      mm[i].msg_hdr.msg_iov = &iov[i]; mm[i].msg_hdr.msg_iovlen = 1;
      mm[i].msg_hdr.msg_name = &names[i]; mm[i].msg_hdr.msg_namelen = sizeof names[i];
      mm[i].msg_hdr.msg_control = gso ? ctl[i] : NULL; mm[i].msg_hdr.msg_controllen = gso ? 64 : 0;
    }
    int n;
    if (mmsg) n = recvmmsg(g_rx_fd, mm, vlen, MSG_WAITFORONE, NULL);
    else { ssize_t r = recvmsg(g_rx_fd, &mm[0].msg_hdr, 0); n = r < 0 ? -1 : 1; mm[0].msg_len = (unsigned)r; }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) { if (rx_should_stop(idle)) break; continue; }
      fail(-errno); break;
    }
    for (int i = 0; i < n; i++) {
      uint8_t *p = iov[i].iov_base; size_t len = mm[i].msg_len, seg = len;
      if (gso) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c; c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
          if (c->cmsg_level == SOL_UDP_ && c->cmsg_type == UDP_GRO_) { int v; memcpy(&v, CMSG_DATA(c), sizeof v); seg = (size_t)v; }
      }
      for (size_t off = 0; off < len; off += seg) count(p + off, len - off < seg ? len - off : seg);
    }
    idle = g_rx_last = now_ns(CLOCK_MONOTONIC);
    if (rx_should_stop(idle)) break;
  }
  g_rx_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

/* the seed's receive ring: a pool of DEPTH queued RECVMSG, reaped and resubmitted */
static void rx_pool(void) {
  struct ring r; uint32_t depth = g_depth;
  int e = ring_init(&r, depth, SETUP_CLAMP | SETUP_COOP_TASKRUN, 0);
  if (e < 0) { fail(e); atomic_store(&g_ready, -1); return; }
  uint8_t *pay = malloc((size_t)depth * 2048); struct sockaddr_in6 *names = calloc(depth, sizeof *names);
  char (*ctl)[256] = calloc(depth, 256); struct iovec *iov = calloc(depth, sizeof *iov);
  struct msghdr *msgs = calloc(depth, sizeof *msgs); uint8_t *idle_buf = calloc(depth, 1);
  for (uint32_t i = 0; i < depth; i++) { idle_buf[i] = 1; msgs[i].msg_iov = &iov[i]; msgs[i].msg_iovlen = 1; }
  atomic_fetch_add(&g_ready, 1);
  uint64_t idle = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  for (;;) {
    uint32_t submitted = 0;
    for (uint32_t i = 0; i < depth; i++) {
      if (!idle_buf[i]) continue;
      struct msghdr *m = &msgs[i];
      iov[i].iov_base = pay + (size_t)i * 2048; iov[i].iov_len = 2048;
      m->msg_name = &names[i]; m->msg_namelen = sizeof names[i]; m->msg_control = ctl[i]; m->msg_controllen = 256; m->msg_flags = 0;
      struct sqe *s = ring_sqe(&r); if (!s) break;
      s->opcode = OP_RECVMSG; s->fd = g_rx_fd; s->addr = (uint64_t)(uintptr_t)m; s->len = 1; s->user_data = i + 1;
      idle_buf[i] = 0; submitted++;
    }
    e = ring_enter(&r, submitted, 1);
    if (e < 0 && e != -ETIME && e != -EINTR) { fail(e); break; }
    uint32_t head = *r.cq_head, tail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
    if (head != tail) idle = g_rx_last = now_ns(CLOCK_MONOTONIC);
    for (; head != tail; head++) {
      struct cqe *c = &r.cqes[head & *r.cq_mask]; uint32_t i = (uint32_t)c->user_data - 1;
      idle_buf[i] = 1;
      if (c->res > 0) count(pay + (size_t)i * 2048, (size_t)c->res);
    }
    __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
    if (rx_should_stop(idle)) break;
  }
  g_rx_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

/* multishot RECVMSG over a provided buffer ring */
static void rx_multishot(void) {
  enum { NBUF = 512, BGID = 7 };
  struct ring r; int e = ring_init(&r, 64, SETUP_CLAMP | SETUP_COOP_TASKRUN, 4096);
  if (e < 0) { fail(e); atomic_store(&g_ready, -1); return; }
  size_t bsz = sizeof(struct recvmsg_out) + sizeof(struct sockaddr_in) + (g_size > 2048 ? g_size : 2048);
  uint8_t *pool = malloc(NBUF * bsz);
  struct ubuf *br = mmap(0, NBUF * sizeof(struct ubuf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct ubuf_reg reg; memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)br; reg.ring_entries = NBUF; reg.bgid = BGID;
  if (syscall(427, r.fd, REGISTER_PBUF_RING, &reg, 1) < 0) { fail(-errno); atomic_store(&g_ready, -1); return; }
  uint16_t *br_tail = (uint16_t *)((uint8_t *)br + 14); uint16_t tail = 0;
  for (uint32_t i = 0; i < NBUF; i++, tail++) { struct ubuf *b = &br[tail & (NBUF - 1)]; b->addr = (uint64_t)(uintptr_t)(pool + i * bsz); b->len = (uint32_t)bsz; b->bid = (uint16_t)i; }
  __atomic_store_n(br_tail, tail, __ATOMIC_RELEASE);
  struct msghdr tmpl; memset(&tmpl, 0, sizeof tmpl); tmpl.msg_namelen = sizeof(struct sockaddr_in);
  int armed = 0;
  atomic_fetch_add(&g_ready, 1);
  uint64_t idle = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  for (;;) {
    uint32_t submit = 0;
    if (!armed) {
      struct sqe *s = ring_sqe(&r); s->opcode = OP_RECVMSG; s->fd = g_rx_fd; s->addr = (uint64_t)(uintptr_t)&tmpl;
      s->ioprio = RECV_MULTISHOT; s->flags = SQE_BUFFER_SELECT; s->buf_group = BGID; s->user_data = 1;
      armed = 1; submit = 1;
    }
    e = ring_enter(&r, submit, 1);
    if (e < 0 && e != -ETIME && e != -EINTR) { fail(e); break; }
    uint32_t head = *r.cq_head, ctail = __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE);
    if (head != ctail) idle = g_rx_last = now_ns(CLOCK_MONOTONIC);
    for (; head != ctail; head++) {
      struct cqe *c = &r.cqes[head & *r.cq_mask];
      if (!(c->flags & CQE_F_MORE)) armed = 0;
      if (!(c->flags & CQE_F_BUFFER)) { if (c->res < 0 && c->res != -ENOBUFS) { fail(c->res); } continue; }
      uint16_t bid = (uint16_t)(c->flags >> 16); uint8_t *b = pool + (size_t)bid * bsz;
      if (c->res > 0) {
        struct recvmsg_out *o = (struct recvmsg_out *)b;
        uint8_t *payload = b + sizeof *o + o->namelen + o->controllen;
        size_t have = (size_t)c->res - (sizeof *o + o->namelen + o->controllen);
        count(payload, o->payloadlen <= have ? o->payloadlen : 0);
      }
      struct ubuf *nb = &br[tail & (NBUF - 1)]; nb->addr = (uint64_t)(uintptr_t)b; nb->len = (uint32_t)bsz; nb->bid = bid; tail++;
    }
    __atomic_store_n(br_tail, tail, __ATOMIC_RELEASE);
    __atomic_store_n(r.cq_head, head, __ATOMIC_RELEASE);
    if (rx_should_stop(idle)) break;
  }
  g_rx_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

static void *rx_thread(void *arg) {
  (void)arg; pin(1);
  if (!strcmp(g_mode, "seed") || !strcmp(g_mode, "seed-batch")) rx_pool();
  else if (!strcmp(g_mode, "multishot")) rx_multishot();
  else rx_sockets();
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s MODE SIZE DURATION_MS [BATCH] [DEPTH] [EXTRA_RING_FLAGS]\n", argv[0]); return 64; }
  g_mode = argv[1]; g_size = (uint32_t)atoi(argv[2]); int dur = atoi(argv[3]);
  if (argc > 4) g_batch = (uint32_t)atoi(argv[4]);
  if (argc > 5) g_depth = (uint32_t)atoi(argv[5]);
  if (argc > 6) g_extra_flags = (uint32_t)strtoul(argv[6], NULL, 0);
  if (g_size < 24 || g_size > 2048) { fprintf(stderr, "size must be 24..2048\n"); return 64; }
  g_rx_fd = socket(AF_INET, SOCK_DGRAM, 0); g_tx_fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcv = 4 << 20; if (setsockopt(g_rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) setsockopt(g_rx_fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  int snd = 4 << 20; if (setsockopt(g_tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof snd) < 0) setsockopt(g_tx_fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
  struct timeval tv = {0, 100000}; setsockopt(g_rx_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  memset(&g_dst, 0, sizeof g_dst); g_dst.sin_family = AF_INET; g_dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(g_rx_fd, (struct sockaddr *)&g_dst, sizeof g_dst) < 0) { perror("bind"); return 1; }
  socklen_t l = sizeof g_dst; getsockname(g_rx_fd, (struct sockaddr *)&g_dst, &l);
  pthread_t tx, rx;
  pthread_create(&rx, NULL, rx_thread, NULL);
  while (atomic_load(&g_ready) == 0 && !g_err) sched_yield();
  g_t0 = now_ns(CLOCK_MONOTONIC);
  pthread_create(&tx, NULL, tx_thread, NULL);
  struct timespec d = {dur / 1000, (long)(dur % 1000) * 1000000L}; nanosleep(&d, NULL);
  atomic_store(&g_stop, 1);
  pthread_join(tx, NULL); atomic_store(&g_tx_done, 1); pthread_join(rx, NULL);
  double el = (double)((g_rx_last > g_t0 ? g_rx_last : g_tx_end) - g_t0) / 1e9, tel = (double)(g_tx_end - g_t0) / 1e9;
  printf("{\"mode\":\"%s\",\"size\":%u,\"res\":%d,\"sent\":%llu,\"received\":%llu,\"corrupt\":%llu,\"elapsedUs\":%.0f,"
         "\"rxPps\":%.0f,\"txPps\":%.0f,\"senderCpuUs\":%.0f,\"receiverCpuUs\":%.0f}\n",
         g_mode, g_size, g_err, (unsigned long long)g_sent, (unsigned long long)g_received, (unsigned long long)g_corrupt,
         el * 1e6, g_received / el, g_sent / tel, g_tx_cpu / 1e3, g_rx_cpu / 1e3);
  return g_err ? 1 : 0;
}

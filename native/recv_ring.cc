// Receive ring (the seed's ioUringRecvState): a pool of RECVMSG buffers kept queued, reaped and resubmitted.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "ring.h"
#include "syscalls.h"

namespace uring {

namespace {
constexpr uint32_t kNameSize = sizeof(struct sockaddr_in6);  // the seed's nameBuf
constexpr size_t kNameSlot = 32;                              // name storage, 16-byte aligned
}  // namespace

struct RecvRing::Buffer {
  uint8_t* payload;
  uint8_t* name;
  uint8_t* control;
  struct msghdr msg;
  struct iovec iov;
  uint64_t userData;
  bool inFlight;
};

RecvRing::RecvRing() = default;

RecvRing::~RecvRing() { Close(); }

int RecvRing::Setup(int sockFd, const SetupOptions& opts, SetupReport* report) {
  if (fd_ >= 0) return -EBUSY;
  int poolSize = opts.poolSize;
  if (poolSize < 1) poolSize = kDefaultRecvPoolSize;
  if (poolSize > kMaxRecvPoolSize) poolSize = kMaxRecvPoolSize;
  int bufferSize = opts.bufferSize > 0 ? opts.bufferSize : kDefaultRecvBufferSize;
  uint32_t entries = opts.entries;
  if (entries == 0) entries = static_cast<uint32_t>(poolSize);
  if (entries < static_cast<uint32_t>(poolSize)) entries = static_cast<uint32_t>(poolSize);
  if (entries < kMinEntries) entries = kMinEntries;
  waitTimeoutMs_ = opts.waitTimeoutMs;
  forcePoll_ = opts.forcePollWait;
  sockFd_ = sockFd;

  int r = RunSetupLadder(entries, opts, MapStyle::SingleIfFeature, report, &fd_, &params_, &mem_);
  if (r < 0) return r;

  // The pool: one allocation for every payload, name and control buffer (no per-packet heap).
  const size_t payloadSlot = (static_cast<size_t>(bufferSize) + 15) & ~static_cast<size_t>(15);
  const size_t perBuffer = payloadSlot + kNameSlot + kRecvControlSize;
  storage_ = static_cast<uint8_t*>(calloc(static_cast<size_t>(poolSize), perBuffer));
  pool_ = new (std::nothrow) Buffer[poolSize];
  if (!storage_ || !pool_) {
    Close();
    if (report) report->res = -ENOMEM;
    return -ENOMEM;
  }
  poolSize_ = poolSize;
  bufferSize_ = bufferSize;
  for (int i = 0; i < poolSize; i++) {
    Buffer& b = pool_[i];
    uint8_t* base = storage_ + static_cast<size_t>(i) * perBuffer;
    b.payload = base;
    b.name = base + payloadSlot;
    b.control = base + payloadSlot + kNameSlot;
    b.iov.iov_base = b.payload;
    b.iov.iov_len = static_cast<size_t>(bufferSize);
    memset(&b.msg, 0, sizeof(b.msg));
    b.msg.msg_name = b.name;
    b.msg.msg_namelen = kNameSize;
    b.msg.msg_iov = &b.iov;
    b.msg.msg_iovlen = 1;
    b.msg.msg_control = b.control;
    b.msg.msg_controllen = kRecvControlSize;
    b.userData = static_cast<uint64_t>(i) + 1;  // the seed numbers buffers from 1
    b.inFlight = false;
  }
  sqTailLocal_ = __atomic_load_n(mem_.sqTail, __ATOMIC_RELAXED);
  closed_ = false;

  if (opts.registerMaxWorkers) RegisterMaxWorkers(fd_, report ? &report->maxWorkers : nullptr);
  return 0;
}

int RecvRing::inFlight() const {
  int n = 0;
  for (int i = 0; i < poolSize_; i++) n += pool_[i].inFlight ? 1 : 0;
  return n;
}

// submitRecvLocked: one RECVMSG for `buf` (len = 1 as the seed). -EBUSY when the buffer is
// already queued, -EAGAIN when the SQ ring is full.
int RecvRing::submitRecv(Buffer* buf) {
  if (buf->inFlight) return -EBUSY;
  buf->msg.msg_namelen = kNameSize;
  buf->msg.msg_controllen = kRecvControlSize;
  buf->msg.msg_flags = 0;
  buf->iov.iov_len = static_cast<size_t>(bufferSize_);

  // Acquire on the kernel's SQ head: SQEs behind it have been consumed and may be reused.
  uint32_t head = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
  if (sqTailLocal_ - head >= *mem_.sqRingEntries) return -EAGAIN;
  uint32_t idx = sqTailLocal_ & *mem_.sqRingMask;
  abi::io_uring_sqe* sqe = &mem_.sqes[idx];
  memset(sqe, 0, sizeof(*sqe));
  sqe->opcode = abi::OP_RECVMSG;
  sqe->fd = sockFd_;
  sqe->addr = reinterpret_cast<uint64_t>(&buf->msg);
  sqe->len = 1;
  if (forceAsync_) sqe->flags = abi::IOSQE_ASYNC;
  sqe->user_data = buf->userData;
  if (mem_.sqArray) mem_.sqArray[idx] = idx;
  sqTailLocal_++;
  // Release: the SQE (and the msghdr it points at) must be visible before the new tail.
  __atomic_store_n(mem_.sqTail, sqTailLocal_, __ATOMIC_RELEASE);
  buf->inFlight = true;
  return 0;
}

// SQEs published but not yet taken by the kernel: what the next enter must submit.
uint32_t RecvRing::pendingSqes() const {
  return sqTailLocal_ - __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
}

// After a failed or partial enter: take back the SQEs from tail position `start` on that the
// kernel did not take and make their buffers idle again (the next call queues them anew), so no
// buffer counts as in flight while its RECVMSG sits unsubmitted. Not with SQPOLL (its kernel
// thread may take them at any moment; they stay queued).
uint32_t RecvRing::retractUntaken(uint32_t start) {
  if (params_.flags & abi::SETUP_SQPOLL) return 0;
  uint32_t head = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
  uint32_t from = static_cast<int32_t>(head - start) > 0 ? head : start;
  if (static_cast<int32_t>(sqTailLocal_ - from) <= 0) return 0;
  uint32_t n = 0;
  for (uint32_t pos = from; pos != sqTailLocal_; pos++, n++) {
    const abi::io_uring_sqe& sqe = mem_.sqes[pos & *mem_.sqRingMask];
    uint64_t index = sqe.user_data - 1;
    if (sqe.user_data != 0 && index < static_cast<uint64_t>(poolSize_)) pool_[index].inFlight = false;
  }
  sqTailLocal_ = from;
  __atomic_store_n(mem_.sqTail, sqTailLocal_, __ATOMIC_RELEASE);
  return n;
}

// Queue every idle buffer. stopQuietly: the first failure ends the loop without an error
// (receivePackets); otherwise a failure before anything was queued is returned (fillRecvQueue).
int RecvRing::queueIdle(uint32_t* queued, bool stopQuietly) {
  uint32_t n = 0;
  for (int i = 0; i < poolSize_; i++) {
    Buffer* b = &pool_[i];
    if (b->inFlight) continue;
    int r = submitRecv(b);
    if (r < 0) {
      if (stopQuietly || n > 0) break;  // queue full: submit what we have
      return r;
    }
    n++;
  }
  *queued = n;
  return 0;
}

int RecvRing::FillRecvQueue(FillReport* report) {
  FillReport local;
  FillReport& rep = report ? *report : local;
  rep = FillReport{};
  if (closed_ || fd_ < 0) return -EBADF;
  const uint32_t start = sqTailLocal_;
  uint32_t queued = 0;
  int r = queueIdle(&queued, false);
  rep.written = queued;
  if (r < 0) return r;
  if (queued == 0 && pendingSqes() == 0) return 0;
  // What the kernel took is io_uring_enter's result (and its SQ head), not what we wrote: it
  // stops at the first SQE it cannot take, and refuses the whole call on an error.
  rep.entered = true;
  rep.sqHeadBefore = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
  // Everything pending (SQEs an earlier failed enter left behind too, under SQPOLL).
  r = EnterBounded(fd_, params_.features, params_.flags, pendingSqes(), 0, waitTimeoutMs_, forcePoll_, mem_.sqFlags);
  rep.sqHeadAfter = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
  rep.enterRes = r;
  // What the kernel did not take is taken back: those buffers are idle, not in flight.
  retractUntaken(start);
  return r;
}

int RecvRing::ReceivePackets(bool wait, RecvCallback cb, void* ctx, RecvStats* stats) {
  if (closed_ || fd_ < 0) return -EBADF;
  // First resubmit idle buffers, so receives stay queued.
  const uint32_t start = sqTailLocal_;
  uint32_t submitted = 0;
  queueIdle(&submitted, true);
  // DEFER_TASKRUN rings only post completions inside io_uring_enter(GETEVENTS), so a reap
  // without anything to submit still has to enter the kernel there (the seed's rings never
  // use that flag).
  const bool deferred = (params_.flags & abi::SETUP_DEFER_TASKRUN) != 0;
  const uint32_t pending = pendingSqes();
  if (pending > 0 || wait || deferred) {
    const int64_t deadline = MonotonicMs() + (waitTimeoutMs_ < 0 ? 0 : waitTimeoutMs_);
    int r = EnterBounded(fd_, params_.features, params_.flags, pending, wait ? 1 : 0, waitTimeoutMs_, forcePoll_,
                         mem_.sqFlags);
    // Buffers whose RECVMSG the kernel did not take (failed or partial enter) go back to idle.
    retractUntaken(start);
    if (r < 0) return r;
    // An enter that submitted something returns the submit count even when its wait ran out (or
    // was interrupted): wait on, for what is left of the one bound, while no completion is there.
    while (wait && pending > 0 &&
           __atomic_load_n(mem_.cqTail, __ATOMIC_ACQUIRE) == __atomic_load_n(mem_.cqHead, __ATOMIC_RELAXED)) {
      int64_t left = deadline - MonotonicMs();
      if (left <= 0) return -ETIME;
      r = EnterBounded(fd_, params_.features, params_.flags, 0, 1, static_cast<int>(left), forcePoll_, mem_.sqFlags);
      if (r < 0) return r;
    }
  }

  int packets = 0;
  const uint32_t mask = *mem_.cqRingMask;
  uint32_t head = __atomic_load_n(mem_.cqHead, __ATOMIC_RELAXED);  // only we write it
  // Acquire on the kernel's CQ tail: CQEs before it are fully written.
  uint32_t tail = __atomic_load_n(mem_.cqTail, __ATOMIC_ACQUIRE);
  while (head != tail) {
    const abi::io_uring_cqe cqe = mem_.cqes[head & mask];
    head++;
    // Release: we are done reading that CQE; the kernel may reuse the slot.
    __atomic_store_n(mem_.cqHead, head, __ATOMIC_RELEASE);
    if (stats) stats->completions++;

    uint64_t index = cqe.user_data - 1;
    if (cqe.user_data == 0 || index >= static_cast<uint64_t>(poolSize_)) {
      if (stats) stats->unknownUserData++;
      continue;
    }
    Buffer* b = &pool_[index];
    b->inFlight = false;
    if (cqe.res < 0) {
      if (cqe.res == -EAGAIN) {
        if (stats) stats->eagain++;
      } else if (stats) {
        stats->errors++;
        if (stats->firstError == 0) stats->firstError = cqe.res;
      }
      continue;
    }
    if (cqe.res == 0) {
      if (stats) stats->empty++;
      continue;
    }
    RecvPacket pkt;
    pkt.data = b->payload;
    pkt.len = cqe.res > bufferSize_ ? static_cast<uint32_t>(bufferSize_) : static_cast<uint32_t>(cqe.res);  // never past the buffer (issue 12 point 6)
    pkt.from = reinterpret_cast<const struct sockaddr*>(b->name);
    pkt.fromLen = b->msg.msg_namelen <= kNameSize ? b->msg.msg_namelen : 0;
    pkt.control = b->control;
    pkt.controlLen = b->msg.msg_controllen <= kRecvControlSize ? static_cast<uint32_t>(b->msg.msg_controllen) : 0;
    pkt.cqeFlags = cqe.flags;
    pkt.msgFlags = b->msg.msg_flags;
    if (stats) {
      stats->packets++;
      stats->bytes += pkt.len;
    }
    packets++;
    if (cb) cb(ctx, pkt);
  }
  return packets;
}

// user_data of Close's ASYNC_CANCEL SQEs (pool buffers are numbered 1..poolSize).
constexpr uint64_t kCancelUserData = 0xCA9CE100000000ull;

// Reap every CQE there is: a pool buffer's CQE ends its request (-ECANCELED, or a normal
// completion that raced the cancel), after which the kernel no longer touches that buffer; the
// cancel SQEs' own CQEs (0, -ENOENT, -EALREADY) are only counted.
void RecvRing::reapCancelled(CancelReport* rep, uint64_t cancelUserData) {
  const uint32_t mask = *mem_.cqRingMask;
  uint32_t head = __atomic_load_n(mem_.cqHead, __ATOMIC_RELAXED);  // only we write it
  const uint32_t tail = __atomic_load_n(mem_.cqTail, __ATOMIC_ACQUIRE);
  while (head != tail) {
    const uint64_t ud = mem_.cqes[head & mask].user_data;
    head++;
    if (ud == cancelUserData) {
      rep->cancelCqes++;
      continue;
    }
    const uint64_t index = ud - 1;
    if (ud != 0 && index < static_cast<uint64_t>(poolSize_) && pool_[index].inFlight) {
      pool_[index].inFlight = false;
      rep->awaited++;
    }
  }
  __atomic_store_n(mem_.cqHead, head, __ATOMIC_RELEASE);
}

// Cancel the receives still queued and wait (bounded by kCancelWaitMs) for each one's CQE before
// their buffers are freed: an ASYNC_CANCEL may complete before the request it cancels (a receive
// running in io-wq is only signalled; the -ECANCELED completion can still be task work), and ring
// teardown cancels asynchronously, so a datagram landing in between would be written into freed
// memory. A request still without a CQE when the bound passes keeps the pool alive for good
// (leaked on purpose, counted in lastCancel()/GetCancelTotals()). The ring goes first (fd closed:
// the kernel's ring exit cancels what is left), the buffers after.
void RecvRing::Close() {
  closed_ = true;
  if (fd_ < 0 && !pool_ && !storage_) return;  // already closed: keep the last report
  lastCancel_ = CancelReport{};
  CancelReport& rep = lastCancel_;
  const int64_t t0 = MonotonicMs();
  const int64_t deadline = t0 + kCancelWaitMs;
  if (fd_ >= 0 && pool_) {
    reapCancelled(&rep, kCancelUserData);  // completions already there need no cancel
    rep.awaited = 0;
    rep.targets = static_cast<uint32_t>(inFlight());
    uint32_t written = 0;
    for (int i = 0; i < poolSize_ && rep.targets > 0; i++) {
      if (!pool_[i].inFlight) continue;
      uint32_t head = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
      if (sqTailLocal_ - head >= *mem_.sqRingEntries) {
        // No free SQE: hand the kernel what is queued (that frees SQ room) and reap, then go on.
        EnterBounded(fd_, params_.features, params_.flags, pendingSqes(), 0, 0, forcePoll_, mem_.sqFlags);
        reapCancelled(&rep, kCancelUserData);
        head = __atomic_load_n(mem_.sqHead, __ATOMIC_ACQUIRE);
        if (sqTailLocal_ - head >= *mem_.sqRingEntries) {
          rep.cancelsFailed++;
          break;  // the kernel takes nothing: the wait below runs out and the pool is leaked
        }
        if (!pool_[i].inFlight) continue;
      }
      uint32_t idx = sqTailLocal_ & *mem_.sqRingMask;
      abi::io_uring_sqe* sqe = &mem_.sqes[idx];
      memset(sqe, 0, sizeof(*sqe));
      sqe->opcode = abi::OP_ASYNC_CANCEL;
      sqe->fd = -1;
      sqe->addr = pool_[i].userData;
      sqe->user_data = kCancelUserData;
      if (mem_.sqArray) mem_.sqArray[idx] = idx;
      sqTailLocal_++;
      __atomic_store_n(mem_.sqTail, sqTailLocal_, __ATOMIC_RELEASE);
      written++;
    }
    // Submit the cancels and wait for every cancelled request's CQE, bounded.
    bool first = true;
    while (inFlight() > 0) {
      const int64_t left = deadline - MonotonicMs();
      if (left <= 0) break;
      const uint32_t pending = pendingSqes();
      int r = EnterBounded(fd_, params_.features, params_.flags, pending, 1, static_cast<int>(left), forcePoll_,
                           mem_.sqFlags);
      if (first) {
        first = false;
        const uint32_t untaken = (params_.flags & abi::SETUP_SQPOLL) ? 0 : pendingSqes();
        const uint32_t notTaken = untaken < written ? untaken : written;
        rep.cancelsSubmitted = written - notTaken;
        rep.cancelsFailed += notTaken;
      }
      reapCancelled(&rep, kCancelUserData);
      if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) break;  // the ring is unusable
    }
    if (first && written > 0) {
      // Every target completed while the cancels were written: hand them over all the same.
      EnterBounded(fd_, params_.features, params_.flags, pendingSqes(), 0, 0, forcePoll_, mem_.sqFlags);
      const uint32_t untaken = (params_.flags & abi::SETUP_SQPOLL) ? 0 : pendingSqes();
      rep.cancelsSubmitted = written - (untaken < written ? untaken : written);
    }
    rep.outstanding = static_cast<uint32_t>(inFlight());
  }
  UnmapRings(&mem_);
  if (fd_ >= 0) sys::Close(fd_);
  fd_ = -1;
  if (rep.outstanding == 0) {
    delete[] pool_;
    free(storage_);
    rep.freed = true;
  } else {
    rep.leaked = true;  // deliberately: the kernel may still write into these buffers
  }
  pool_ = nullptr;
  storage_ = nullptr;
  poolSize_ = 0;
  rep.elapsedMs = MonotonicMs() - t0;
  if (rep.targets > 0) RecordCancel(rep);
}

}  // namespace uring

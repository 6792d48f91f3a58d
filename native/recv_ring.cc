// Receive ring (the seed's ioUringRecvState): a pool of RECVMSG buffers kept queued, reaped and resubmitted.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <new>

#include "ring.h"
#include "ring_access.h"
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
  if (ring_.fd >= 0) return -EBUSY;
  int poolSize = opts.poolSize;
  if (poolSize < 1) poolSize = kDefaultRecvPoolSize;
  if (poolSize > kMaxRecvPoolSize) poolSize = kMaxRecvPoolSize;
  int bufferSize = opts.bufferSize > 0 ? opts.bufferSize : kDefaultRecvBufferSize;
  uint32_t entries = opts.entries;
  if (entries == 0) entries = static_cast<uint32_t>(poolSize);
  if (entries < static_cast<uint32_t>(poolSize)) entries = static_cast<uint32_t>(poolSize);
  if (entries < kMinEntries) entries = kMinEntries;
  waitTimeoutMs_ = opts.waitTimeoutMs;
  sockFd_ = sockFd;

  int fd = -1;
  abi::io_uring_params params{};
  RingMemory mem;
  int r = RunSetupLadder(entries, opts, MapStyle::SingleIfFeature, report, &fd, &params, &mem);
  if (r < 0) return r;
  RingAttach(&ring_, fd, params, mem, opts.forcePollWait);

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
  closed_ = false;

  if (opts.registerMaxWorkers) RegisterMaxWorkers(fd, report ? &report->maxWorkers : nullptr);
  return 0;
}

int RecvRing::inFlight() const {
  int n = 0;
  for (int i = 0; i < poolSize_; i++) n += pool_[i].inFlight ? 1 : 0;
  return n;
}

// submitRecvLocked: one RECVMSG for `buf` (len = 1 as the seed), published. -EBUSY when the
// buffer is already queued, -EAGAIN when the SQ ring is full.
int RecvRing::submitRecv(Buffer* buf) {
  if (buf->inFlight) return -EBUSY;
  abi::io_uring_sqe* sqe = GetSqe(ring_);
  if (!sqe) return -EAGAIN;
  buf->msg.msg_namelen = kNameSize;
  buf->msg.msg_controllen = kRecvControlSize;
  buf->msg.msg_flags = 0;
  buf->iov.iov_len = static_cast<size_t>(bufferSize_);
  PrepRecvmsg(sqe, sockFd_, &buf->msg, 0, buf->userData);
  if (forceAsync_) SqeAddFlags(sqe, abi::IOSQE_ASYNC);
  Publish(ring_);
  buf->inFlight = true;
  return 0;
}

// After a failed or partial enter: take back the SQEs from tail position `start` on that the
// kernel did not take and make their buffers idle again (the next call queues them anew), so no
// buffer counts as in flight while its RECVMSG sits unsubmitted. Not with SQPOLL (its kernel
// thread may take them at any moment; they stay queued).
uint32_t RecvRing::takeBackUntaken(uint32_t start) {
  return TakeBack(ring_, start, [this](const abi::io_uring_sqe& sqe) {
    const uint64_t index = sqe.user_data - 1;
    if (sqe.user_data != 0 && index < static_cast<uint64_t>(poolSize_)) pool_[index].inFlight = false;
  });
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
  if (closed_ || ring_.fd < 0) return -EBADF;
  const uint32_t start = ring_.sqTail;
  uint32_t queued = 0;
  int r = queueIdle(&queued, false);
  rep.written = queued;
  if (r < 0) return r;
  if (queued == 0 && SqUnsubmitted(ring_) == 0) return 0;
  // What the kernel took is io_uring_enter's result (and its SQ head), not what we wrote: it
  // stops at the first SQE it cannot take, and refuses the whole call on an error.
  rep.entered = true;
  rep.sqHeadBefore = SqHead(ring_);
  // Everything pending (SQEs an earlier failed enter left behind too, under SQPOLL).
  r = Submit(ring_);
  rep.sqHeadAfter = SqHead(ring_);
  rep.enterRes = r;
  // What the kernel did not take is taken back: those buffers are idle, not in flight.
  takeBackUntaken(start);
  return r;
}

int RecvRing::ReceivePackets(bool wait, RecvCallback cb, void* ctx, RecvStats* stats) {
  if (closed_ || ring_.fd < 0) return -EBADF;
  // First resubmit idle buffers, so receives stay queued.
  const uint32_t start = ring_.sqTail;
  uint32_t submitted = 0;
  queueIdle(&submitted, true);
  // DEFER_TASKRUN rings only post completions inside io_uring_enter(GETEVENTS), so a reap
  // without anything to submit still has to enter the kernel there (the seed's rings never
  // use that flag).
  const bool deferred = (ring_.params.flags & abi::SETUP_DEFER_TASKRUN) != 0;
  if (SqUnsubmitted(ring_) > 0 || wait || deferred) {
    // One bounded wait for a completion (exact: an enter that returns the submit count when its
    // wait ran out is waited again with what is left of the bound, never taken for a completion).
    const int64_t deadline = MonotonicMs() + (waitTimeoutMs_ < 0 ? 0 : waitTimeoutMs_);
    int r = wait ? SubmitAndWait(ring_, 1, deadline) : Submit(ring_);
    // Buffers whose RECVMSG the kernel did not take (failed or partial enter) go back to idle.
    takeBackUntaken(start);
    if (r < 0) return r;
  }

  int packets = 0;
  ForEachCqe(ring_, [&](const abi::io_uring_cqe& cqe) {
    if (stats) stats->completions++;
    const uint64_t index = cqe.user_data - 1;
    if (cqe.user_data == 0 || index >= static_cast<uint64_t>(poolSize_)) {
      if (stats) stats->unknownUserData++;
      return true;
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
      return true;
    }
    if (cqe.res == 0) {
      if (stats) stats->empty++;
      return true;
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
    return true;
  });
  return packets;
}

// user_data of Close's ASYNC_CANCEL SQEs (pool buffers are numbered 1..poolSize).
constexpr uint64_t kCancelUserData = 0xCA9CE100000000ull;

// Reap every CQE there is: a pool buffer's CQE ends its request (-ECANCELED, or a normal
// completion that raced the cancel), after which the kernel no longer touches that buffer; the
// cancel SQEs' own CQEs (0, -ENOENT, -EALREADY) are only counted.
void RecvRing::reapCancelled(CancelReport* rep, uint64_t cancelUserData) {
  ForEachCqe(ring_, [&](const abi::io_uring_cqe& cqe) {
    const uint64_t ud = cqe.user_data;
    if (ud == cancelUserData) {
      rep->cancelCqes++;
      return true;
    }
    const uint64_t index = ud - 1;
    if (ud != 0 && index < static_cast<uint64_t>(poolSize_) && pool_[index].inFlight) {
      pool_[index].inFlight = false;
      rep->awaited++;
    }
    return true;
  });
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
  if (ring_.fd < 0 && !pool_ && !storage_) return;  // already closed: keep the last report
  lastCancel_ = CancelReport{};
  CancelReport& rep = lastCancel_;
  const int64_t t0 = MonotonicMs();
  const int64_t deadline = t0 + kCancelWaitMs;
  if (ring_.fd >= 0 && pool_) {
    reapCancelled(&rep, kCancelUserData);  // completions already there need no cancel
    rep.awaited = 0;
    rep.targets = static_cast<uint32_t>(inFlight());
    uint32_t written = 0;
    for (int i = 0; i < poolSize_ && rep.targets > 0; i++) {
      if (!pool_[i].inFlight) continue;
      abi::io_uring_sqe* sqe = GetSqe(ring_);
      if (!sqe) {
        // No free SQE: hand the kernel what is queued (that frees SQ room) and reap, then go on.
        Submit(ring_);
        reapCancelled(&rep, kCancelUserData);
        if (!pool_[i].inFlight) continue;  // completed meanwhile: no cancel needed
        sqe = GetSqe(ring_);
        if (!sqe) {
          rep.cancelsFailed++;
          break;  // the kernel takes nothing: the wait below runs out and the pool is leaked
        }
      }
      PrepCancel(sqe, pool_[i].userData, kCancelUserData);
      Publish(ring_);
      written++;
    }
    // Submit the cancels and wait for every cancelled request's CQE, all bounded by one deadline.
    bool first = true;
    while (inFlight() > 0) {
      const int r = SubmitAndWait(ring_, 1, deadline);
      if (first) {
        first = false;
        const uint32_t untaken = ring_.sqpoll() ? 0 : SqUnsubmitted(ring_);
        const uint32_t notTaken = untaken < written ? untaken : written;
        rep.cancelsSubmitted = written - notTaken;
        rep.cancelsFailed += notTaken;
      }
      reapCancelled(&rep, kCancelUserData);
      if (r == -ETIME || MonotonicMs() >= deadline) break;  // the bound passed
      if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) break;  // the ring is unusable
    }
    if (first && written > 0) {
      // Every target completed while the cancels were written: hand them over all the same.
      Submit(ring_);
      const uint32_t untaken = ring_.sqpoll() ? 0 : SqUnsubmitted(ring_);
      rep.cancelsSubmitted = written - (untaken < written ? untaken : written);
    }
    rep.outstanding = static_cast<uint32_t>(inFlight());
  }
  UnmapRings(&ring_.mem);
  if (ring_.fd >= 0) sys::Close(ring_.fd);
  ring_.fd = -1;
  ring_.sqTail = 0;
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

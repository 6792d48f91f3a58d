// Send ring (the seed's ioUringState), the shared setup ladder, ring mapping and bounded waits.
#include "ring.h"
#include "ring_access.h"
#include "ring_geometry.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <new>

#include "syscalls.h"

namespace uring {

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------
namespace {

size_t AlignUp(size_t v, size_t alignment) {
  if (alignment == 0) return v;
  size_t mod = v % alignment;
  return mod == 0 ? v : v + alignment - mod;
}

template <typename T>
T* At(void* base, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(base) + offset);
}

}  // namespace

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Compute the pointers into the mapped regions from the kernel's offsets.
static void SetRingPointers(const abi::io_uring_params& p, RingMemory* mem) {
  void* sq = mem->sqRing;
  void* cq = mem->cqRing;
  mem->sqHead = At<uint32_t>(sq, p.sq_off.head);
  mem->sqTail = At<uint32_t>(sq, p.sq_off.tail);
  mem->sqRingMask = At<uint32_t>(sq, p.sq_off.ring_mask);
  mem->sqRingEntries = At<uint32_t>(sq, p.sq_off.ring_entries);
  mem->sqFlags = At<uint32_t>(sq, p.sq_off.flags);
  // With SETUP_NO_SQARRAY there is no index array: the SQ tail indexes the SQEs directly.
  mem->sqArray = (p.flags & abi::SETUP_NO_SQARRAY) ? nullptr : At<uint32_t>(sq, p.sq_off.array);
  mem->sqes = static_cast<abi::io_uring_sqe*>(mem->sqesMap);
  mem->cqHead = At<uint32_t>(cq, p.cq_off.head);
  mem->cqTail = At<uint32_t>(cq, p.cq_off.tail);
  mem->cqRingMask = At<uint32_t>(cq, p.cq_off.ring_mask);
  mem->cqRingEntries = At<uint32_t>(cq, p.cq_off.ring_entries);
  mem->cqes = At<abi::io_uring_cqe>(cq, p.cq_off.cqes);
}

static void FillMappingInfo(const RingMemory& mem, RingMapping* info) {
  if (!info) return;
  info->single = mem.single;
  info->sqRingSize = mem.sqRingSize;
  info->cqRingSize = mem.cqRingSize;
  info->sqesSize = mem.sqesSize;
  uintptr_t cqesAddr = reinterpret_cast<uintptr_t>(mem.cqes);
  // The seed checks the CQE array address % 8 and warns when it is not 0.
  info->cqesAddrMod16 = static_cast<uint32_t>(cqesAddr % 16);
  info->cqesAddrMod8 = static_cast<uint32_t>(cqesAddr % 8);
  info->sqRingMask = __atomic_load_n(mem.sqRingMask, __ATOMIC_RELAXED);
  info->sqRingEntries = __atomic_load_n(mem.sqRingEntries, __ATOMIC_RELAXED);
  info->cqRingMask = __atomic_load_n(mem.cqRingMask, __ATOMIC_RELAXED);
  info->cqRingEntries = __atomic_load_n(mem.cqRingEntries, __ATOMIC_RELAXED);
}

// Both mapping strategies end the same way: record the regions, derive the ring pointers from
// the kernel's offsets, and read back what the mapping shows.
struct Regions {
  void* sq;
  void* cq;
  void* sqes;
};
struct RegionSizes {
  size_t sq;
  size_t cq;
  size_t sqes;
};
static void AdoptMappings(const abi::io_uring_params& p, Regions r, RegionSizes n, bool single, RingMemory* mem,
                          RingMapping* info) {
  mem->sqRing = r.sq;
  mem->cqRing = r.cq;
  mem->sqesMap = r.sqes;
  mem->sqRingSize = n.sq;
  mem->cqRingSize = n.cq;
  mem->sqesSize = n.sqes;
  mem->single = single;
  SetRingPointers(p, mem);
  FillMappingInfo(*mem, info);
}

// ---------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------
int MapRingsSeparate(int ringFd, const abi::io_uring_params& p, RingMemory* mem, RingMapping* info,
                     GeometryFault* fault) {
  // The kernel's geometry is checked before any size or pointer is derived from it (entries
  // bounded, so the 64-bit sizes below cannot overflow), and read back after mapping.
  int r = CheckParamsShape(p, fault);
  if (r < 0) return r;
  const size_t page = static_cast<size_t>(sys::PageSize());
  const RingBytes need = RingBytesFor(p);
  const size_t sqRingSize = AlignUp(need.sqRing, page);
  const size_t cqRingSize = AlignUp(need.cqRing, page);
  const size_t sqesSize = AlignUp(need.sqes, page);
  r = CheckRingGeometry(p, sqRingSize, cqRingSize, sqesSize, fault);
  if (r < 0) return r;
  const int prot = PROT_READ | PROT_WRITE;

  void* sq = nullptr;
  void* cq = nullptr;
  void* sqes = nullptr;
  r = sys::Mmap(sqRingSize, prot, MAP_SHARED, ringFd, abi::OFF_SQ_RING, &sq);
  if (r < 0) return r;
  r = sys::Mmap(cqRingSize, prot, MAP_SHARED, ringFd, abi::OFF_CQ_RING, &cq);
  if (r < 0) goto unmap_sq;
  r = sys::Mmap(sqesSize, prot, MAP_SHARED, ringFd, abi::OFF_SQES, &sqes);
  if (r < 0) goto unmap_cq;
  r = CheckMappedGeometry(p, sq, cq, fault);
  if (r < 0) goto unmap_sqes;

  AdoptMappings(p, {sq, cq, sqes}, {sqRingSize, cqRingSize, sqesSize}, false, mem, info);
  return 0;

  // One unwind path: undo the mappings made so far, in reverse order.
unmap_sqes:
  sys::Munmap(sqes, sqesSize);
unmap_cq:
  sys::Munmap(cq, cqRingSize);
unmap_sq:
  sys::Munmap(sq, sqRingSize);
  return r;
}

int MapRingsSingle(int ringFd, const abi::io_uring_params& p, bool useSingle, RingMemory* mem, RingMapping* info,
                   GeometryFault* fault) {
  // Checked before and after mapping, as in MapRingsSeparate.
  int r = CheckParamsShape(p, fault);
  if (r < 0) return r;
  const size_t page = static_cast<size_t>(sys::PageSize());
  const RingBytes need = RingBytesFor(p);
  size_t sqRingSize = AlignUp(need.sqRing, page);
  size_t cqRingSize = AlignUp(need.cqRing, page);
  if (useSingle) {
    // FEAT_SINGLE_MMAP: one mapping of the larger size serves both rings.
    if (sqRingSize > cqRingSize) cqRingSize = sqRingSize; else sqRingSize = cqRingSize;
  }
  // The seed maps the SQE array unaligned (sq_entries * 64); mmap rounds it up to pages.
  const size_t sqesSize = need.sqes;
  r = CheckRingGeometry(p, sqRingSize, cqRingSize, sqesSize, fault);
  if (r < 0) return r;
  const int prot = PROT_READ | PROT_WRITE;
  const int flags = MAP_SHARED | MAP_POPULATE;

  void* sq = nullptr;
  void* cq = nullptr;
  void* sqes = nullptr;
  r = sys::Mmap(sqRingSize, prot, flags, ringFd, abi::OFF_SQ_RING, &sq);
  if (r < 0) return r;
  if (useSingle) {
    cq = sq;
  } else {
    r = sys::Mmap(cqRingSize, prot, flags, ringFd, abi::OFF_CQ_RING, &cq);
    if (r < 0) goto unmap_sq;  // the seed returns here without unmapping; its caller's Close() does it
  }
  r = sys::Mmap(sqesSize, prot, flags, ringFd, abi::OFF_SQES, &sqes);
  if (r < 0) goto unmap_cq;
  r = CheckMappedGeometry(p, sq, cq, fault);
  if (r < 0) goto unmap_sqes;

  AdoptMappings(p, {sq, cq, sqes}, {sqRingSize, cqRingSize, sqesSize}, useSingle, mem, info);
  return 0;

unmap_sqes:
  sys::Munmap(sqes, sqesSize);
unmap_cq:
  if (!useSingle) sys::Munmap(cq, cqRingSize);
unmap_sq:
  sys::Munmap(sq, sqRingSize);
  return r;
}

void AdoptUserRingMemory(const abi::io_uring_params& p, void* rings, void* sqes, RingMemory* mem) {
  *mem = RingMemory{};
  mem->sqRing = rings;
  mem->cqRing = rings;
  mem->sqesMap = sqes;
  mem->single = true;
  SetRingPointers(p, mem);
}

// One munmap per mapping: the shared SQ/CQ mapping of a single-mmap ring is unmapped once. The
// seed's ioUringRecvState.Close sets r.sqRing = nil after unmapping it and only then asks whether
// cqRing is a separate mapping (len(r.cqRing) != len(r.sqRing) is then always true), so it calls
// unix.Munmap on the same region a second time: x/sys/unix's bookkeeping no longer knows it and
// returns EINVAL (Close reports that error), or, if another unix.Mmap got the same address in
// between, unmaps that mapping instead.
void UnmapRings(RingMemory* mem) {
  if (mem->sqesMap) sys::Munmap(mem->sqesMap, mem->sqesSize);
  if (mem->cqRing && mem->cqRing != mem->sqRing) sys::Munmap(mem->cqRing, mem->cqRingSize);
  if (mem->sqRing) sys::Munmap(mem->sqRing, mem->sqRingSize);
  *mem = RingMemory{};
}

// ---------------------------------------------------------------------------
// The setup ladder, shared by both rings
// ---------------------------------------------------------------------------
static void Record(SetupReport* rep, AttemptStage stage, uint32_t entries, uint32_t flags, int res) {
  if (!rep || rep->attemptCount >= kMaxAttempts) return;
  rep->attempts[rep->attemptCount++] = SetupAttempt{stage, entries, flags, res};
}

int RunSetupLadder(uint32_t entries, const SetupOptions& opts, MapStyle style, SetupReport* rep, int* fdOut,
                   abi::io_uring_params* paramsOut, RingMemory* mem) {
  const uint32_t* flagSets = opts.flagSets ? opts.flagSets : kSeedFlagSets;
  int flagSetCount = opts.flagSets ? opts.flagSetCount : 2;
  if (flagSetCount < 1 || flagSetCount > kMaxFlagSets) return -EINVAL;
  // Layout flags are refused here, where the rings are built, whatever the caller filtered.
  for (int i = 0; i < flagSetCount; i++) {
    if (flagSets[i] & kUnsupportedLayoutFlags) {
      if (rep) rep->res = -EINVAL;
      return -EINVAL;
    }
  }

  uint32_t tries = entries;
  int flagSetIdx = 0;
  for (;;) {
    abi::io_uring_params params{};
    params.flags = flagSets[flagSetIdx];
    if (opts.cqEntries > 0) {
      params.flags |= abi::SETUP_CQSIZE;
      params.cq_entries = opts.cqEntries;
    }
    int fd = sys::IoUringSetup(tries, &params);
    Record(rep, AttemptStage::Setup, tries, params.flags, fd);
    if (fd < 0) {
      // EINVAL: the kernel does not know these flags -> next flag set, while one is left.
      if (fd == -EINVAL && flagSetIdx < flagSetCount - 1) {
        flagSetIdx++;
        continue;
      }
      // ENOMEM: halve the entries down to the minimum.
      if (fd == -ENOMEM && tries > kMinEntries) {
        tries /= 2;
        if (tries < kMinEntries) tries = kMinEntries;
        continue;
      }
      if (rep) rep->res = fd;
      return fd;
    }
    RingMapping info;
    GeometryFault fault;
    int r = style == MapStyle::Separate
                ? MapRingsSeparate(fd, params, mem, &info, &fault)
                : MapRingsSingle(fd, params, (params.features & abi::FEAT_SINGLE_MMAP) != 0, mem, &info, &fault);
    if (r == kGeometryError && rep) rep->geometry = fault;
    Record(rep, AttemptStage::Mmap, tries, params.flags, r);
    if (r < 0) {
      sys::Close(fd);
      if (r == -ENOMEM && tries > kMinEntries) {
        tries /= 2;
        if (tries < kMinEntries) tries = kMinEntries;
        continue;
      }
      if (rep) rep->res = r;
      return r;
    }
    *fdOut = fd;
    *paramsOut = params;
    if (rep) {
      rep->res = 0;
      rep->ok = true;
      rep->params = params;
      rep->mapping = info;
    }
    return 0;
  }
}

void RegisterMaxWorkers(int ringFd, MaxWorkersRecord* rec) {
  // [0] = bounded workers, [1] = unbounded; the kernel writes the previous limits back.
  uint32_t limits[2] = {4, 4};
  int r = sys::IoUringRegister(ringFd, abi::REGISTER_IOWQ_MAX_WORKERS, limits, 2);
  if (!rec) return;  // the seed ignores the result; callers that pass a record keep it
  rec->attempted = true;
  rec->requested[0] = 4;
  rec->requested[1] = 4;
  rec->res = r < 0 ? r : 0;
  if (r >= 0) {
    rec->previous[0] = limits[0];
    rec->previous[1] = limits[1];
  }
}

// ---------------------------------------------------------------------------
// Awaited-cancel totals
// ---------------------------------------------------------------------------
namespace {
uint64_t gCancelsSubmitted = 0, gAwaited = 0, gOutstanding = 0, gLeaks = 0;  // __atomic
}  // namespace

CancelTotals GetCancelTotals() {
  CancelTotals t;
  t.cancelsSubmitted = __atomic_load_n(&gCancelsSubmitted, __ATOMIC_RELAXED);
  t.awaited = __atomic_load_n(&gAwaited, __ATOMIC_RELAXED);
  t.outstanding = __atomic_load_n(&gOutstanding, __ATOMIC_RELAXED);
  t.leaks = __atomic_load_n(&gLeaks, __ATOMIC_RELAXED);
  return t;
}

void RecordCancel(const CancelReport& rep) {
  __atomic_fetch_add(&gCancelsSubmitted, rep.cancelsSubmitted, __ATOMIC_RELAXED);
  __atomic_fetch_add(&gAwaited, rep.awaited, __ATOMIC_RELAXED);
  __atomic_fetch_add(&gOutstanding, rep.outstanding, __ATOMIC_RELAXED);
  if (rep.leaked) __atomic_fetch_add(&gLeaks, 1, __ATOMIC_RELAXED);
}

// ---------------------------------------------------------------------------
// SendRing
// ---------------------------------------------------------------------------
struct SendRing::Slot {
  enum State : uint8_t { Free, Pending, Completed, Abandoned };
  State state;
  bool isRecv;
  uint64_t userData;
  int32_t res;
  uint32_t flags;
  struct msghdr* callerMsg;  // Recvmsg: where namelen/controllen/flags are copied back
  // Storage that lives until the completion, like the seed's pendingSend heap copies.
  struct msghdr msg;
  struct iovec iov;
  alignas(16) uint8_t name[kSendCopySize];
  alignas(16) uint8_t control[kSendCopySize];
};

SendRing::SendRing() = default;

SendRing::~SendRing() { Close(); }

int SendRing::Setup(const SetupOptions& opts, SetupReport* report) {
  if (ring_.fd >= 0) return -EBUSY;
  uint32_t entries = opts.entries;
  if (entries == 0) entries = kDefaultSendEntries;
  if (entries < kMinEntries) entries = kMinEntries;
  waitTimeoutMs_ = opts.waitTimeoutMs;

  int fd = -1;
  abi::io_uring_params params{};
  RingMemory mem;
  int r = RunSetupLadder(entries, opts, MapStyle::Separate, report, &fd, &params, &mem);
  if (r < 0) return r;
  RingAttach(&ring_, fd, params, mem, opts.forcePollWait);

  // Slot table: a power of two comfortably above everything that can be in flight at once.
  uint32_t want = params.cq_entries * 2;
  if (want < 64) want = 64;
  uint32_t n = 1;
  while (n < want) n <<= 1;
  slots_ = new (std::nothrow) Slot[n];
  if (!slots_) {
    Close();
    if (report) report->res = -ENOMEM;
    return -ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++) slots_[i].state = Slot::Free;
  slotMask_ = n - 1;
  nextUserData_ = 1;

  if (opts.registerMaxWorkers) RegisterMaxWorkers(fd, report ? &report->maxWorkers : nullptr);
  return 0;
}

SendRing::Slot* SendRing::slotFor(uint64_t userData) {
  if (!slots_) return nullptr;
  Slot* s = &slots_[userData & slotMask_];
  return (s->state != Slot::Free && s->userData == userData) ? s : nullptr;
}

// user_data keeps counting up as in the seed; a value whose slot is still taken (an abandoned
// operation the kernel has not completed yet) is skipped, so lookups stay O(1) with no map.
int SendRing::allocSlot(uint32_t* index) {
  for (uint32_t i = 0; i <= slotMask_; i++) {
    uint64_t ud = nextUserData_++;
    if (ud == 0) ud = nextUserData_++;
    Slot* s = &slots_[ud & slotMask_];
    if (s->state == Slot::Free) {
      s->userData = ud;
      *index = static_cast<uint32_t>(ud & slotMask_);
      return 0;
    }
  }
  return -EBUSY;
}

// Every wait of one operation ends at the operation's deadline, however many enters it needs (so
// an operation waits at most its bound in total); outside an operation, one wait timeout from now.
int64_t SendRing::deadline() const {
  if (deadlineMs_ != 0) return deadlineMs_;
  return MonotonicMs() + (waitTimeoutMs_ < 0 ? 0 : waitTimeoutMs_);
}

void SendRing::beginOperation() { deadlineMs_ = MonotonicMs() + (waitTimeoutMs_ < 0 ? 0 : waitTimeoutMs_); }

// Submit every published SQE (not only the caller's: SQEs queued before, under SQPOLL, go too)
// and, when `wait` > 0, wait until that many CQEs are ready or the operation's deadline passes.
// Then the SQEs from `start` on that the kernel did not take (a failed or partial enter) are taken
// back and their slots freed: never submitted, they never will be, so no stale SQE goes out with a
// later enter. Under SQPOLL nothing is taken back (the kernel's thread may take them at any
// moment; their CQEs free the slots) and an SQE the thread has not taken yet is not a failure.
// Returns 0 when every SQE from `start` on was taken (-ETIME when the wait ran out), else the
// enter's -errno (-EAGAIN for an enter that took nothing).
int SendRing::submitFrom(uint32_t start, uint32_t wait) {
  int r = wait > 0 ? SubmitAndWait(ring_, wait, deadline()) : Submit(ring_);
  const bool none = static_cast<int32_t>(ring_.sqTail - start) <= 0;
  if (none || ring_.sqpoll() || SqTaken(ring_, ring_.sqTail - 1)) return r < 0 ? r : 0;
  TakeBack(ring_, start, [this](const abi::io_uring_sqe& sqe) {
    Slot* s = slotFor(sqe.user_data);
    if (s) s->state = Slot::Free;
  });
  return r < 0 && r != -ETIME ? r : -EAGAIN;
}

// getSqeLocked: take the next SQE; when the ring is full, hand the kernel what is queued.
// The seed waits for one completion without submitting (submit 0, wait 1). A full SQ holds only
// SQEs not yet submitted (the kernel's SQ head moves when it takes SQEs, not when they complete),
// so no completion frees a slot and nothing is submitted: the seed blocks in io_uring_enter for
// good (a SendmsgBatch larger than the free SQ does it). Submitting frees room; under SQPOLL (the
// thread takes them by itself) the wait for one completion is bounded by the operation's deadline.
int SendRing::getSqe(abi::io_uring_sqe** out) {
  for (int iterations = 0;; iterations++) {
    abi::io_uring_sqe* sqe = GetSqe(ring_);
    if (sqe) {
      *out = sqe;
      return 0;
    }
    if (iterations >= 8) return -EBUSY;  // bounded: each round is one bounded enter
    int r = ring_.sqpoll() ? SubmitAndWait(ring_, 1, deadline()) : Submit(ring_);
    if (r < 0) return r;
  }
}

int SendRing::enqueueSendmsg(int fd, const struct msghdr* msg, uint32_t msgFlags, uint64_t* userData) {
  if (!msg) return -EINVAL;
  if (msg->msg_iovlen > 1) return -ENOTSUP;  // the seed copies one iovec
  // The seed copies name and control through a (*[256]byte) view: a msg_namelen or msg_controllen
  // above 256 panics there (slice bounds out of range). We refuse it before taking an SQE.
  if (msg->msg_name && msg->msg_namelen > kSendCopySize) return -EINVAL;
  if (msg->msg_control && msg->msg_controllen > kSendCopySize) return -EINVAL;
  uint32_t index;
  int r = allocSlot(&index);
  if (r < 0) return r;
  abi::io_uring_sqe* sqe;
  r = getSqe(&sqe);
  if (r < 0) return r;  // the slot was never marked pending: still free

  Slot& s = slots_[index];
  s.isRecv = false;
  s.callerMsg = nullptr;
  s.res = 0;
  s.flags = 0;
  s.msg = *msg;
  if (msg->msg_iov && msg->msg_iovlen == 1) {
    s.iov = msg->msg_iov[0];
    s.msg.msg_iov = &s.iov;
  }
  if (msg->msg_name && msg->msg_namelen > 0) {
    memcpy(s.name, msg->msg_name, msg->msg_namelen);
    s.msg.msg_name = s.name;
  }
  if (msg->msg_control && msg->msg_controllen > 0) {
    memcpy(s.control, msg->msg_control, msg->msg_controllen);
    s.msg.msg_control = s.control;
  }
  s.state = Slot::Pending;

  PrepSendmsg(sqe, fd, &s.msg, msgFlags, s.userData);
  Publish(ring_);
  *userData = s.userData;
  return 0;
}

int SendRing::enqueueRecvmsg(int fd, struct msghdr* msg, uint32_t msgFlags, uint64_t* userData) {
  if (!msg) return -EINVAL;
  if (msg->msg_iov) {
    if (msg->msg_iovlen == 0) return -EINVAL;
    if (msg->msg_iovlen > 1) return -ENOTSUP;
  }
  uint32_t index;
  int r = allocSlot(&index);
  if (r < 0) return r;
  abi::io_uring_sqe* sqe;
  r = getSqe(&sqe);
  if (r < 0) return r;

  Slot& s = slots_[index];
  s.isRecv = true;
  s.callerMsg = msg;
  s.res = 0;
  s.flags = 0;
  s.msg = *msg;  // name/control/payload point at the caller's buffers, as in the seed
  if (msg->msg_iov) {
    s.iov = msg->msg_iov[0];
    s.msg.msg_iov = &s.iov;
    s.msg.msg_iovlen = 1;
  }
  s.state = Slot::Pending;

  PrepRecvmsg(sqe, fd, &s.msg, msgFlags, s.userData);
  Publish(ring_);
  *userData = s.userData;
  return 0;
}

// popCqeLocked: the next CQE, waiting when the CQ ring is empty until one is there or the
// operation's deadline passes (-ETIME). One SubmitAndWait, which is exact: an enter that returns
// the submit count in place of its wait's -ETIME (every enter with something to submit under
// SQPOLL) is followed by another with less time left, never by a return without a CQE. (This
// loop used to call an enter per round with no deadline of its own: such enters made it spin.)
int SendRing::popCqe(abi::io_uring_cqe* out) {
  if (PopCqe(ring_, out)) return 0;
  int r = SubmitAndWait(ring_, 1, deadline());
  if (r < 0) return r;
  return PopCqe(ring_, out) ? 0 : -ETIME;
}

// waitForCqeLocked: drain CQEs until the one for `userData`; others are kept in their slots.
int SendRing::waitForCqe(uint64_t userData, abi::io_uring_cqe* out) {
  Slot* mine = slotFor(userData);
  if (mine && mine->state == Slot::Completed) {
    out->user_data = userData;
    out->res = mine->res;
    out->flags = mine->flags;
    return 0;
  }
  const int maxIterations = 1000;  // the seed's guard against a runaway loop
  for (int iterations = 0;; iterations++) {
    if (iterations >= maxIterations) return -EIO;
    abi::io_uring_cqe cqe;
    int r = popCqe(&cqe);
    if (r < 0) return r;
    if (cqe.user_data == userData) {
      *out = cqe;
      return 0;
    }
    Slot* other = slotFor(cqe.user_data);
    if (!other) {
      unknownCompletions_++;
      continue;
    }
    if (other->state == Slot::Abandoned) {
      other->state = Slot::Free;  // the kernel is done with its memory now
      continue;
    }
    // Pending (or a duplicate for a Completed slot: overwritten, as the seed does).
    other->state = Slot::Completed;
    other->res = cqe.res;
    other->flags = cqe.flags;
  }
}

void SendRing::releaseSlot(uint64_t userData) {
  Slot* s = slotFor(userData);
  if (!s) return;
  if (s->isRecv && s->callerMsg) {
    s->callerMsg->msg_namelen = s->msg.msg_namelen;
    s->callerMsg->msg_controllen = s->msg.msg_controllen;
    s->callerMsg->msg_flags = s->msg.msg_flags;
  }
  s->state = Slot::Free;
}

// abortPending*: give up on an operation. A slot whose CQE has not arrived stays reserved
// (Abandoned) so its msghdr copy outlives the kernel's use of it; it is freed by its CQE.
// A receive points at the caller's buffers: it is cancelled (when the SQ is full, getSqe submits
// what is queued first to make room) and its CQE awaited, bounded by kCancelWaitMs, so that the
// caller may free them on return. lastCancel().outstanding > 0: the wait ran out, the caller must
// not free them (leak them).
void SendRing::abortPending(uint64_t userData) {
  Slot* s = slotFor(userData);
  if (!s) return;
  if (s->state == Slot::Completed) {
    s->state = Slot::Free;
    return;
  }
  s->state = Slot::Abandoned;
  if (!s->isRecv) return;
  s->callerMsg = nullptr;
  CancelReport rep;
  rep.targets = 1;
  const int64_t t0 = MonotonicMs();
  const int64_t savedDeadline = deadlineMs_;
  deadlineMs_ = t0 + kCancelWaitMs;
  abi::io_uring_sqe* sqe;
  if (getSqe(&sqe) == 0) {
    PrepCancel(sqe, userData, 0);
    Publish(ring_);
    const uint32_t pos = ring_.sqTail - 1;
    Submit(ring_);  // a cancel that fails to go in stays queued: the waits below submit it
    awaitSlots(userData, &rep);
    if (ring_.sqpoll() || SqTaken(ring_, pos)) {
      rep.cancelsSubmitted = 1;
    } else {
      rep.cancelsFailed = 1;
      TakeBack(ring_, pos, [](const abi::io_uring_sqe&) {});  // no stale cancel goes out later
    }
  } else {
    rep.cancelsFailed = 1;
    awaitSlots(userData, &rep);  // it may still complete by itself
  }
  rep.outstanding = slotFor(userData) ? 1 : 0;
  rep.leaked = rep.outstanding > 0;
  rep.freed = !rep.leaked;
  rep.elapsedMs = MonotonicMs() - t0;
  deadlineMs_ = savedDeadline;
  lastCancel_ = rep;
  RecordCancel(rep);
}

uint32_t SendRing::unfinishedSlots() const {
  uint32_t n = 0;
  for (uint32_t i = 0; slots_ && i <= slotMask_; i++) {
    n += (slots_[i].state == Slot::Pending || slots_[i].state == Slot::Abandoned) ? 1 : 0;
  }
  return n;
}

void SendRing::awaitSlots(uint64_t onlyUserData, CancelReport* rep) {
  for (int iterations = 0; iterations < 100000; iterations++) {
    if (onlyUserData != 0 ? slotFor(onlyUserData) == nullptr : unfinishedSlots() == 0) return;
    abi::io_uring_cqe cqe;
    if (popCqe(&cqe) < 0) return;  // -ETIME: the bound passed (or the ring is unusable)
    if (cqe.user_data == 0) {
      rep->cancelCqes++;
      continue;
    }
    Slot* other = slotFor(cqe.user_data);
    if (!other) {
      unknownCompletions_++;
      continue;
    }
    const bool target = onlyUserData == 0 || cqe.user_data == onlyUserData;
    if (other->state == Slot::Abandoned) {
      other->state = Slot::Free;  // the kernel is done with its memory now
      if (target) rep->awaited++;
      continue;
    }
    if (other->state == Slot::Pending && target) rep->awaited++;
    other->state = Slot::Completed;
    other->res = cqe.res;
    other->flags = cqe.flags;
  }
}

int SendRing::Sendmsg(int fd, const struct msghdr* msg, uint32_t msgFlags, uint32_t payloadLen) {
  (void)payloadLen;  // the seed only logs it when the kernel reports 0 bytes
  if (ring_.fd < 0) return -EBADF;
  beginOperation();
  uint64_t ud;
  const uint32_t start = ring_.sqTail;
  int r = enqueueSendmsg(fd, msg, msgFlags, &ud);
  if (r < 0) {
    deadlineMs_ = 0;
    return r;
  }
  abi::io_uring_cqe cqe;
  r = submitAndComplete(ud, start, &cqe);
  if (r < 0) return r;
  return cqe.res;
}

int SendRing::submitAndComplete(uint64_t userData, uint32_t start, abi::io_uring_cqe* out) {
  // Our SQE is the last one published (start is where it went, or before it when getSqe had to
  // submit older ones first). The operation's deadline was set when it began.
  int r = submitFrom(start, 1);
  if (r < 0 && !slotFor(userData)) {
    deadlineMs_ = 0;
    return r;  // taken back: never submitted, its slot is free again
  }
  r = waitForCqe(userData, out);
  deadlineMs_ = 0;
  if (r < 0) {
    abortPending(userData);
    return r;
  }
  releaseSlot(userData);
  return 0;
}

int SendRing::SendmsgBatch(BatchEntry* entries, size_t count) {
  if (count == 0) return 0;
  if (ring_.fd < 0) return -EBADF;
  for (size_t i = 0; i < count; i++) {
    entries[i].userData = 0;
    entries[i].res = 0;
    entries[i].flags = 0;
    entries[i].err = 0;
    entries[i].submitted = false;
  }
  // In chunks of at most the SQ ring's size (the CQ ring is at least as large and the slot table
  // twice the CQ ring): each chunk is prepared, submitted in one enter waiting for all of it, and
  // reaped before the next, so a batch of any size neither overruns the slot table nor strands
  // SQEs. The whole call is bounded by one wait timeout: after a wait ran out, the rest only reaps.
  const size_t chunkMax = *ring_.mem.sqRingEntries;
  beginOperation();
  int failure = 0;
  size_t done = 0;
  while (done < count && failure == 0) {
    const size_t n = count - done < chunkMax ? count - done : chunkMax;
    const uint32_t start = ring_.sqTail;
    size_t prepared = 0;
    for (; prepared < n; prepared++) {
      BatchEntry& e = entries[done + prepared];
      int r = enqueueSendmsg(e.fd, e.msg, e.msgFlags, &e.userData);
      if (r < 0) {
        failure = r;
        break;
      }
    }
    if (prepared > 0) {
      int r = submitFrom(start, failure == 0 ? static_cast<uint32_t>(prepared) : 0);
      if (r < 0 && r != -ETIME && failure == 0) failure = r;
    }
    // Entries whose SQE the kernel took (their slot is still held) complete; the others were
    // taken back (or never prepared) and are not sent.
    for (size_t i = 0; i < prepared; i++) {
      BatchEntry& e = entries[done + i];
      if (!slotFor(e.userData)) {
        e.err = failure != 0 ? failure : -EAGAIN;
        continue;
      }
      e.submitted = true;
      abi::io_uring_cqe cqe;
      int r = waitForCqe(e.userData, &cqe);
      if (r < 0) {
        e.err = r;
        abortPending(e.userData);
        if (r == -ETIME) deadlineMs_ = MonotonicMs();  // reap only from here on
        continue;
      }
      e.res = cqe.res;
      e.flags = cqe.flags;
      releaseSlot(e.userData);
    }
    done += prepared;
    if (prepared < n) break;
  }
  deadlineMs_ = 0;
  if (failure == 0) return 0;
  for (size_t i = done; i < count; i++) entries[i].err = failure;  // never prepared: not sent
  return failure;
}

int SendRing::Recvmsg(int fd, struct msghdr* msg, uint32_t msgFlags, uint32_t* cqeFlags) {
  if (ring_.fd < 0) return -EBADF;
  beginOperation();
  uint64_t ud;
  const uint32_t start = ring_.sqTail;
  int r = enqueueRecvmsg(fd, msg, msgFlags, &ud);
  if (r < 0) {
    deadlineMs_ = 0;
    return r;
  }
  abi::io_uring_cqe cqe;
  r = submitAndComplete(ud, start, &cqe);
  if (r < 0) return r;
  if (cqeFlags) *cqeFlags = cqe.flags;
  return cqe.res;
}

int SendRing::Nop(int32_t* cqeRes) {
  if (ring_.fd < 0) return -EBADF;
  uint32_t index;
  int r = allocSlot(&index);
  if (r < 0) return r;
  beginOperation();
  const uint32_t start = ring_.sqTail;
  abi::io_uring_sqe* sqe;
  r = getSqe(&sqe);
  if (r < 0) {
    deadlineMs_ = 0;
    return r;
  }
  Slot& s = slots_[index];
  s.isRecv = false;
  s.callerMsg = nullptr;
  s.state = Slot::Pending;
  PrepNop(sqe, s.userData);
  Publish(ring_);
  uint64_t ud = s.userData;
  abi::io_uring_cqe cqe;
  r = submitAndComplete(ud, start, &cqe);
  if (r < 0) return r;
  if (cqeRes) *cqeRes = cqe.res;
  return 0;
}

// Close: cancel every operation still in flight (receives point at caller memory, every slot
// holds a msghdr copy the kernel reads) and wait for their CQEs, bounded by kCancelWaitMs, before
// the slot table goes. When the bound passes the table is leaked on purpose (lastCancel(),
// GetCancelTotals()); the ring fd is closed either way (the kernel's ring exit cancels the rest).
void SendRing::Close() {
  if (ring_.fd < 0 && !slots_) return;  // already closed: keep the last report
  CancelReport rep;
  const int64_t t0 = MonotonicMs();
  if (ring_.fd >= 0 && slots_) {
    deadlineMs_ = t0 + kCancelWaitMs;
    uint32_t written = 0;
    for (uint32_t i = 0; i <= slotMask_; i++) {
      Slot& s = slots_[i];
      if (s.state != Slot::Pending && s.state != Slot::Abandoned) continue;
      rep.targets++;
      if (s.state == Slot::Pending) s.state = Slot::Abandoned;
      s.callerMsg = nullptr;
      abi::io_uring_sqe* sqe;
      if (getSqe(&sqe) != 0) {  // a full SQ is submitted first; this fails only when that fails
        rep.cancelsFailed++;
        continue;
      }
      PrepCancel(sqe, s.userData, 0);
      Publish(ring_);
      written++;
    }
    if (rep.targets > 0) {
      if (written > 0) Submit(ring_);
      awaitSlots(0, &rep);  // its waits submit what is still pending, all bounded by the deadline
      // Without SQPOLL, SQEs still queued were not taken by the kernel.
      const uint32_t untaken = ring_.sqpoll() ? 0 : SqUnsubmitted(ring_);
      const uint32_t notTaken = untaken < written ? untaken : written;
      rep.cancelsSubmitted = written - notTaken;
      rep.cancelsFailed += notTaken;
    }
    rep.outstanding = unfinishedSlots();
    deadlineMs_ = 0;
  }
  UnmapRings(&ring_.mem);
  if (ring_.fd >= 0) sys::Close(ring_.fd);
  ring_.fd = -1;
  ring_.sqTail = 0;
  if (rep.outstanding == 0) {
    delete[] slots_;
    rep.freed = true;
  } else {
    rep.leaked = true;  // deliberately: the kernel may still use these msghdr copies
  }
  slots_ = nullptr;
  slotMask_ = 0;
  rep.elapsedMs = MonotonicMs() - t0;
  lastCancel_ = rep;
  if (rep.targets > 0) RecordCancel(rep);
}

}  // namespace uring

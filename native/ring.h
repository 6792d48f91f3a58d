// The seed's two io_uring rings (send ring, receive ring) as a plain C++ core that knows nothing of JS.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "ring_geometry.h"

// Every function returns >= 0 on success or -errno; nothing here throws or touches errno
// (that lives in syscalls.h). Every wait on the kernel is bounded by the ring's wait timeout
// (default 2000 ms): a wait that runs out returns -ETIME. (The seed's submitAndWaitLocked calls
// io_uring_enter(fd, submit, wait, GETEVENTS) with no timeout and retries EINTR forever, so each
// of its waits — popCqeLocked, a full SQ in getSqeLocked, receivePackets(true) — can block for good.)
//
// Threading: a ring is used by one thread at a time (the seed guards each ring with a mutex; the
// callers here own their ring on one thread, which SINGLE_ISSUER rings require anyway).
namespace uring {

constexpr uint32_t kMinEntries = 8;              // the seed's minEntries
constexpr uint32_t kDefaultSendEntries = 256;    // the seed's defaultIoUringEntries
constexpr int kDefaultRecvPoolSize = 64;         // newIoUringRecvState default pool
constexpr int kMaxRecvPoolSize = 2048;           // ... and its cap
constexpr int kDefaultRecvBufferSize = 2048;
constexpr int kDefaultWaitTimeoutMs = 2000;
constexpr int kMaxFlagSets = 8;
constexpr int kMaxAttempts = 64;
constexpr uint32_t kRecvControlSize = 256;       // the seed's controlBuf
constexpr uint32_t kSendCopySize = 256;          // the seed copies at most 256 bytes of name/control

// The seed's flag ladder: [CLAMP|COOP_TASKRUN, CLAMP].
constexpr uint32_t kSeedFlagSets[2] = {abi::SETUP_CLAMP | abi::SETUP_COOP_TASKRUN, abi::SETUP_CLAMP};

// ---------------------------------------------------------------------------
// Setup: options in, a full record of the ladder out.
// ---------------------------------------------------------------------------
struct SetupOptions {
  uint32_t entries = 0;                 // 0 = the seed's default (256 send; poolSize recv)
  const uint32_t* flagSets = nullptr;   // nullptr = kSeedFlagSets
  int flagSetCount = 0;                 // at most kMaxFlagSets
  bool registerMaxWorkers = true;       // IOWQ_MAX_WORKERS {4,4} after setup, as the seed
  int waitTimeoutMs = kDefaultWaitTimeoutMs;
  bool forcePollWait = false;           // use poll() waits even when FEAT_EXT_ARG is present (tests)
  uint32_t cqEntries = 0;               // > 0: IORING_SETUP_CQSIZE with this many CQEs (bench multishot)
  // recv ring only
  int poolSize = kDefaultRecvPoolSize;  // < 1 -> 64, > 2048 -> 2048
  int bufferSize = kDefaultRecvBufferSize;
};

enum class AttemptStage : uint8_t { Setup, Mmap };

struct SetupAttempt {
  AttemptStage stage;
  uint32_t entries;
  uint32_t flags;
  int res;  // fd (already closed when the attempt failed later) or 0 / -errno
};

struct RingMapping {
  bool single = false;        // one mapping for SQ and CQ ring (FEAT_SINGLE_MMAP, recv ring)
  size_t sqRingSize = 0;
  size_t cqRingSize = 0;
  size_t sqesSize = 0;
  uint32_t cqesAddrMod16 = 0;
  uint32_t cqesAddrMod8 = 0;
  uint32_t sqRingMask = 0, sqRingEntries = 0, cqRingMask = 0, cqRingEntries = 0;  // read back
};

struct MaxWorkersRecord {
  bool attempted = false;
  int res = 0;
  uint32_t requested[2] = {4, 4};
  uint32_t previous[2] = {0, 0};  // what the kernel wrote back (valid when res == 0)
};

struct SetupReport {
  int res = 0;  // 0, or -errno of the failure that ended the ladder
  int attemptCount = 0;
  SetupAttempt attempts[kMaxAttempts];
  bool ok = false;
  abi::io_uring_params params{};  // of the accepted setup (flags = the accepted flag set)
  RingMapping mapping;
  MaxWorkersRecord maxWorkers;
  // When the ladder ended in kGeometryError (-EPROTO): the field of the kernel's answer that broke
  // a geometry rule (ring_geometry.h). field == nullptr otherwise.
  GeometryFault geometry;
};

// ---------------------------------------------------------------------------
// Ring memory: the mmapped SQ/CQ rings and the pointers into them.
// ---------------------------------------------------------------------------
struct RingMemory {
  void* sqRing = nullptr;
  void* cqRing = nullptr;  // == sqRing for a single mapping
  void* sqesMap = nullptr;
  size_t sqRingSize = 0, cqRingSize = 0, sqesSize = 0;
  bool single = false;

  uint32_t* sqHead = nullptr;
  uint32_t* sqTail = nullptr;
  uint32_t* sqRingMask = nullptr;
  uint32_t* sqRingEntries = nullptr;
  uint32_t* sqFlags = nullptr;
  uint32_t* sqArray = nullptr;
  abi::io_uring_sqe* sqes = nullptr;
  uint32_t* cqHead = nullptr;
  uint32_t* cqTail = nullptr;
  uint32_t* cqRingMask = nullptr;
  uint32_t* cqRingEntries = nullptr;
  abi::io_uring_cqe* cqes = nullptr;
};

// A mapped ring as the access layer sees it. Owners (SendRing, RecvRing, the probes, the bench)
// keep one and pass it to the ring-access layer (ring_access.h), which never owns fds or mappings.
struct Ring {
  int fd = -1;
  abi::io_uring_params params{};
  RingMemory mem;
  uint32_t sqTail = 0;      // our tail: SQEs reserved up to here (published when Publish ran)
  bool forcePoll = false;   // wait with poll() even when FEAT_EXT_ARG is there (tests)

  bool sqpoll() const { return (params.flags & abi::SETUP_SQPOLL) != 0; }
};

// Point `ring` at an already set-up, mapped ring (sqTail taken from the kernel's tail).
inline void RingAttach(Ring* ring, int fd, const abi::io_uring_params& p, const RingMemory& mem, bool forcePoll = false) {
  ring->fd = fd;
  ring->params = p;
  ring->mem = mem;
  ring->sqTail = mem.sqTail ? __atomic_load_n(mem.sqTail, __ATOMIC_RELAXED) : 0;
  ring->forcePoll = forcePoll;
}

// Map the three regions separately, as the seed's ioUringState.mapRings (page-aligned sizes).
// Both mapping functions check the kernel's geometry first (CheckParamsShape, CheckRingGeometry)
// and read it back from the mapping after (CheckMappedGeometry): a kernel answer that breaks it
// returns kGeometryError (-EPROTO) with `fault` (may be null) naming the field, nothing mapped.
int MapRingsSeparate(int ringFd, const abi::io_uring_params& p, RingMemory* mem, RingMapping* info,
                     GeometryFault* fault = nullptr);
// Map as ioUringRecvState.mapRings: one region for SQ+CQ when FEAT_SINGLE_MMAP (or when
// forceSingle), MAP_POPULATE. Unmaps what it mapped on failure.
int MapRingsSingle(int ringFd, const abi::io_uring_params& p, bool useSingle, RingMemory* mem, RingMapping* info,
                   GeometryFault* fault = nullptr);
void UnmapRings(RingMemory* mem);
// IORING_SETUP_NO_MMAP: the rings live in memory the caller gave the kernel (cq_off.user_addr for
// the SQ/CQ rings, sq_off.user_addr for the SQEs); point `mem` into it. Nothing to unmap later:
// the caller owns that memory (do not pass `mem` to UnmapRings).
void AdoptUserRingMemory(const abi::io_uring_params& p, void* rings, void* sqes, RingMemory* mem);

// The seed's setup ladder (shared by both rings): io_uring_setup with each flag set in turn
// (EINVAL -> next set while one is left; ENOMEM from setup or mapping -> halve entries down to
// kMinEntries), every attempt recorded in `rep` (may be null). On success *fdOut, *paramsOut and
// *mem are set and the caller owns the fd and mappings. A flag set with a layout flag the rings do
// not handle (kUnsupportedLayoutFlags: SQE128, CQE32, CQE_MIXED, NO_MMAP, REGISTERED_FD_ONLY) is
// refused before any setup: -EINVAL, no attempt recorded. A kernel answer whose geometry fails
// the checks ends the ladder with kGeometryError (-EPROTO; rep->geometry names the field), the
// ring fd closed.
enum class MapStyle : uint8_t { Separate, SingleIfFeature };
int RunSetupLadder(uint32_t entries, const SetupOptions& opts, MapStyle style, SetupReport* rep, int* fdOut,
                   abi::io_uring_params* paramsOut, RingMemory* mem);
// IORING_REGISTER_IOWQ_MAX_WORKERS {4,4}; the result and previous limits go into `rec` (may be null).
void RegisterMaxWorkers(int ringFd, MaxWorkersRecord* rec);
// CLOCK_MONOTONIC in milliseconds.
int64_t MonotonicMs();

// ---------------------------------------------------------------------------
// Awaited cancels (issue 12, point 5): a request cancelled with IORING_OP_ASYNC_CANCEL may still
// be running (in io-wq, or its -ECANCELED completion still queued as task work) when the cancel
// SQE is submitted; the memory it points at may go only after its CQE. Every path that cancels
// waits (bounded by kCancelWaitMs in total) for the CQE of each cancelled request; when the bound
// passes, the memory is leaked on purpose (and counted here) instead of freed.
// ---------------------------------------------------------------------------
constexpr int kCancelWaitMs = 1000;

struct CancelReport {
  uint32_t targets = 0;           // requests in flight that had to be cancelled
  uint32_t cancelsSubmitted = 0;  // ASYNC_CANCEL SQEs the kernel took
  uint32_t cancelsFailed = 0;     // cancel SQEs that could not be written or submitted
  uint32_t cancelCqes = 0;        // CQEs of the cancel SQEs themselves (0, -ENOENT, -EALREADY, ...)
  uint32_t awaited = 0;           // CQEs of the cancelled requests reaped (-ECANCELED or normal)
  uint32_t outstanding = 0;       // cancelled requests without a CQE when the bound passed
  bool freed = false;             // the buffers the requests pointed at were freed
  bool leaked = false;            // ... or deliberately leaked (outstanding > 0)
  int64_t elapsedMs = 0;          // time spent cancelling and waiting
};

// Process-wide totals over every awaited cancel (all rings and the multishot probe).
struct CancelTotals {
  uint64_t cancelsSubmitted = 0;
  uint64_t awaited = 0;
  uint64_t outstanding = 0;
  uint64_t leaks = 0;  // times memory was leaked because a cancelled request did not complete
};
CancelTotals GetCancelTotals();
void RecordCancel(const CancelReport& rep);

// ---------------------------------------------------------------------------
// Send ring: the seed's ioUringState.
// ---------------------------------------------------------------------------
struct BatchEntry {
  int fd = -1;
  const struct msghdr* msg = nullptr;
  uint32_t msgFlags = 0;
  uint32_t payloadLen = 0;
  // out
  uint64_t userData = 0;
  int res = 0;        // cqe res (bytes or -errno)
  uint32_t flags = 0; // cqe flags
  int err = 0;        // 0, or -errno when this entry was not sent or waiting for its completion failed
  bool submitted = false;  // the kernel took this entry's SQE (its res/err then say how it went)
};



class SendRing {
 public:
  SendRing();
  ~SendRing();
  SendRing(const SendRing&) = delete;
  SendRing& operator=(const SendRing&) = delete;

  // newIoUringState: the setup ladder, mapping, IOWQ_MAX_WORKERS. `report` may be null.
  int Setup(const SetupOptions& opts, SetupReport* report);

  // Sendmsg: one SENDMSG SQE, submit 1 wait 1, then wait for this user_data.
  // Returns bytes sent (cqe res) or -errno (a negative cqe res is returned as is).
  int Sendmsg(int fd, const struct msghdr* msg, uint32_t msgFlags, uint32_t payloadLen);
  // SendmsgBatch: in chunks of at most the SQ ring's size, each chunk's SQEs in one submit waiting
  // for all of them, then each completed (results in entries); the whole call waits at most one
  // wait timeout. Returns 0 when every entry was submitted, or -errno when preparing/submitting
  // failed: then the entries with `submitted` set were sent (res/err as usual) and the others
  // were not and never will be (err = that -errno; nothing is left queued in the ring). Either
  // way the ring stays usable for the next call.
  int SendmsgBatch(BatchEntry* entries, size_t count);
  // Recvmsg on the send ring (blocks up to the wait timeout); copies back namelen/controllen/flags.
  int Recvmsg(int fd, struct msghdr* msg, uint32_t msgFlags, uint32_t* cqeFlags);
  // Submit a NOP and wait for it (used by probes).
  int Nop(int32_t* cqeRes);

  void Close();

  int fd() const { return ring_.fd; }
  const abi::io_uring_params& params() const { return ring_.params; }
  const RingMemory& memory() const { return ring_.mem; }
  void setWaitTimeoutMs(int ms) { waitTimeoutMs_ = ms; }
  int waitTimeoutMs() const { return waitTimeoutMs_; }
  // CQEs seen for a user_data with nothing pending (the seed's "unknown userData" warning).
  uint64_t unknownCompletions() const { return unknownCompletions_; }
  // What the last cancel (abortPending of a receive, or Close) did.
  const CancelReport& lastCancel() const { return lastCancel_; }

 private:
  struct Slot;
  int getSqe(abi::io_uring_sqe** out);
  int allocSlot(uint32_t* index);
  int enqueueSendmsg(int fd, const struct msghdr* msg, uint32_t msgFlags, uint64_t* userData);
  int enqueueRecvmsg(int fd, struct msghdr* msg, uint32_t msgFlags, uint64_t* userData);
  // The operation's deadline (MonotonicMs): deadlineMs_, or one wait timeout from now.
  int64_t deadline() const;
  void beginOperation();
  // Hand the kernel every published SQE (waiting, bounded, for `wait` CQEs) and take back, freeing
  // their slots, the SQEs from `start` on it did not take.
  int submitFrom(uint32_t start, uint32_t wait);
  int popCqe(abi::io_uring_cqe* out);
  int waitForCqe(uint64_t userData, abi::io_uring_cqe* out);
  // The seed's synchronous tail of Sendmsg/Recvmsg: submit, wait, then wait for *that* CQE.
  int submitAndComplete(uint64_t userData, uint32_t start, abi::io_uring_cqe* out);
  void abortPending(uint64_t userData);
  void releaseSlot(uint64_t userData);
  Slot* slotFor(uint64_t userData);

  Ring ring_;  // fd, params, mapped memory, our SQ tail, forcePoll
  int waitTimeoutMs_ = kDefaultWaitTimeoutMs;
  uint64_t nextUserData_ = 1;
  int64_t deadlineMs_ = 0;  // of the operation in progress (0: none): its waits share one bound
  Slot* slots_ = nullptr;  // fixed table indexed by user_data & slotMask_
  uint32_t slotMask_ = 0;
  uint64_t unknownCompletions_ = 0;
  CancelReport lastCancel_{};
  // Reap CQEs (bounded by deadlineMs_) until the slot of `onlyUserData` (0: every slot) is finished.
  void awaitSlots(uint64_t onlyUserData, CancelReport* rep);
  uint32_t unfinishedSlots() const;  // Pending or Abandoned: the kernel may still use their memory
};

// ---------------------------------------------------------------------------
// Receive ring: the seed's ioUringRecvState with its buffer pool.
// ---------------------------------------------------------------------------
struct RecvPacket {
  const uint8_t* data;
  uint32_t len;
  const struct sockaddr* from;  // the raw name buffer (sockaddr_in or sockaddr_in6)
  uint32_t fromLen;
  const uint8_t* control;
  uint32_t controlLen;
  uint32_t cqeFlags;
  int msgFlags;  // msghdr.msg_flags after the receive (MSG_TRUNC, ...)
};

// Called once per received packet; the pointers are valid only during the call.
using RecvCallback = void (*)(void* ctx, const RecvPacket& packet);

// What fillRecvQueue did, as the kernel saw it.
struct FillReport {
  uint32_t written = 0;       // RECVMSG SQEs written into the SQ ring and published (our tail moved)
  bool entered = false;       // io_uring_enter was called (something was written)
  int enterRes = 0;           // its result: SQEs the kernel took (>= 0), or -errno
  uint32_t sqHeadBefore = 0;  // the kernel's SQ head before and after that call
  uint32_t sqHeadAfter = 0;
};

struct RecvStats {
  uint64_t completions = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t unknownUserData = 0;
  uint64_t eagain = 0;
  uint64_t errors = 0;
  int firstError = 0;  // -errno of the first non-EAGAIN error completion
  uint64_t empty = 0;  // res == 0
};

class RecvRing {
 public:
  RecvRing();
  ~RecvRing();
  RecvRing(const RecvRing&) = delete;
  RecvRing& operator=(const RecvRing&) = delete;

  // newIoUringRecvState(sockFd, entries, poolSize, bufferSize). `report` may be null.
  int Setup(int sockFd, const SetupOptions& opts, SetupReport* report);
  // fillRecvQueue: queue every idle buffer (stop when the SQ is full) and submit them.
  // Returns the number of SQEs the kernel took (io_uring_enter's result, >= 0) or -errno. (The
  // seed looks only at the errno and leaves buffers written but not taken in the SQ ring, marked in
  // flight: nothing submitted them again.) Here the SQEs the kernel did not take are taken back and
  // their buffers are idle again, so the next FillRecvQueue/ReceivePackets queues them anew.
  // `report` (may be null) gets both counts and the SQ head.
  int FillRecvQueue(FillReport* report = nullptr);
  // receivePackets(wait): resubmit idle buffers, submit (+ wait for 1, bounded), reap every CQE.
  // Returns the number of packets handed to `cb` (>= 0) or -errno (-ETIME: nothing arrived in time).
  int ReceivePackets(bool wait, RecvCallback cb, void* ctx, RecvStats* stats);
  void Close();

  int fd() const { return ring_.fd; }
  int poolSize() const { return poolSize_; }
  int bufferSize() const { return bufferSize_; }
  int inFlight() const;
  const abi::io_uring_params& params() const { return ring_.params; }
  const RingMemory& memory() const { return ring_.mem; }
  void setWaitTimeoutMs(int ms) { waitTimeoutMs_ = ms; }
  int waitTimeoutMs() const { return waitTimeoutMs_; }
  // What Close did with the receives still in flight.
  const CancelReport& lastCancel() const { return lastCancel_; }
  // Test-only: queue RECVMSGs with IOSQE_ASYNC (issued from io-wq).
  void setForceAsync(bool on) { forceAsync_ = on; }

 private:
  struct Buffer;
  int submitRecv(Buffer* buf);
  // Take back the SQEs from `start` on that the kernel did not take: their buffers are idle again.
  uint32_t takeBackUntaken(uint32_t start);
  int queueIdle(uint32_t* queued, bool stopQuietly);

  Ring ring_;  // fd, params, mapped memory, our SQ tail, forcePoll
  int sockFd_ = -1;
  int waitTimeoutMs_ = kDefaultWaitTimeoutMs;
  bool closed_ = false;
  int poolSize_ = 0;
  int bufferSize_ = 0;
  Buffer* pool_ = nullptr;
  uint8_t* storage_ = nullptr;  // payload + name + control for the whole pool, one allocation
  bool forceAsync_ = false;
  CancelReport lastCancel_{};
  void reapCancelled(CancelReport* rep, uint64_t cancelUserData);
};

}  // namespace uring

// One multishot RECVMSG over a provided-buffer ring (issue 12): the opcodes probe
// (probes/opcodes.cc, MultishotRecvmsg) and the bench engine (bench/engine.cc, ReceiveMultishot)
// both use this component. It owns a ring (set up through the shared ladder, RunSetupLadder) and
// one anonymous mapping holding the buffer ring's entries, the msghdr the request points at and the
// buffers. SQEs, CQEs, waits and buffer-ring refills go through the ring-access layer
// (ring_access.h); mmap/register through sys::. Every result is >= 0 or -errno, every wait ends at
// a deadline.
//
// Life of a request: Arm() (reserve, prepare, publish; the next Wait submits it) -> Wait()/Reap()
// until the kernel ends it (a CQE without IORING_CQE_F_MORE: armed() turns false; Arm() again to
// re-arm) -> CancelAndAwait() before the buffers go. A request that may still write into the
// mapping (its final CQE not reaped within kCancelWaitMs) leaves the mapping leaked on purpose.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "ring.h"
#include "ring_access.h"

namespace uring {

// One CQE of the multishot request, its buffer parsed (io_uring_recvmsg_out, then the name
// (msg_namelen bytes), the control data (msg_controllen bytes), then the payload).
struct Datagram {
  enum class Status : uint8_t {
    Ok,          // payload/name valid (payloadLen may be 0)
    BadBuffer,   // F_BUFFER with an id outside the pool (whatever res): nothing read, nothing given back
    Error,       // res < 0 (no buffer: -ENOBUFS when the pool ran dry, -EINVAL on pre-6.0 kernels, ...)
    NoBuffer,    // res >= 0 without IORING_CQE_F_BUFFER
    TooLong,     // res past the buffer size: nothing read
    Malformed,   // the payload does not lie inside res (res 0 included)
  };
  Status status = Status::Ok;
  int32_t res = 0;
  bool more = false;    // IORING_CQE_F_MORE: the request stays armed
  bool buffer = false;  // IORING_CQE_F_BUFFER
  uint32_t bid = 0;
  const uint8_t* payload = nullptr;
  size_t payloadLen = 0;
  const uint8_t* name = nullptr;  // the sender's address
  uint32_t nameLen = 0;           // at most msg_namelen
  uint32_t msgFlags = 0;          // io_uring_recvmsg_out.flags (MSG_TRUNC, ...)
};

class MultishotReceiver {
 public:
  static constexpr uint64_t kRecvUserData = 0x4d53;      // "MS"
  static constexpr uint64_t kCancelUserData = 0x4d5343;  // "MSC"

  MultishotReceiver() = default;
  MultishotReceiver(const MultishotReceiver&) = delete;
  MultishotReceiver& operator=(const MultishotReceiver&) = delete;
  // Closes the ring, unmaps it and the buffer mapping (unless leaked: see CancelAndAwait).
  ~MultishotReceiver();

  // The ring, through the shared setup ladder (opts.cqEntries: IORING_SETUP_CQSIZE).
  int SetupRing(uint32_t entries, const SetupOptions& opts, MapStyle style);
  // The buffer mapping and IORING_REGISTER_PBUF_RING for group `bgid`: `nbuf` (a power of two,
  // <= 32768) buffers of `bufSize` bytes, all handed to the kernel. `nameLen` is the room for the
  // sender's address in each buffer. On failure *registerFailed tells whether the register step
  // (rather than the mapping) failed.
  int SetupBuffers(uint16_t bgid, uint32_t nbuf, size_t bufSize, uint32_t nameLen, bool* registerFailed);

  // Reserve, prepare and publish the multishot RECVMSG on `sockFd` (not submitted: Wait/Submit do).
  // -EBUSY when the SQ has no room.
  int Arm(int sockFd);
  // Arm and hand it to the kernel now: 0 once the kernel took it, else -errno (-EAGAIN: not taken),
  // the SQE taken back (not armed).
  int ArmAndSubmit(int sockFd);

  // Submit what is published and wait for a CQE until `deadlineMs` (MonotonicMs clock): the ready
  // CQE count, -ETIME at the deadline, or -errno.
  int Wait(int64_t deadlineMs) { return SubmitAndWait(ring_, 1, deadlineMs); }
  uint32_t Ready() const { return CqReady(ring_); }

  // Visit every ready CQE of the request: onDatagram(const Datagram&), then the buffer goes back to
  // the kernel (unless its id was not ours). A CQE without F_MORE ends the request (armed() false,
  // terminated() true, finalRes()). Returns how many CQEs of the request were visited.
  template <typename F>
  uint32_t Reap(F&& onDatagram) {
    uint32_t n = 0;
    uint16_t returned = 0;
    ForEachCqe(ring_, [&](const abi::io_uring_cqe& cqe) {
      if (cqe.user_data == kCancelUserData) cancelCqes_++;
      if (cqe.user_data != kRecvUserData) return true;
      n++;
      Datagram d;
      Parse(cqe, &d);
      onDatagram(static_cast<const Datagram&>(d));
      if (d.buffer && d.status != Datagram::Status::BadBuffer) GiveBack(d.bid, returned++);
      return true;
    });
    BufRingAdvance(&br_, returned);
    return n;
  }

  // Cancel the armed request and await its final CQE (and the cancel's own), bounded by
  // kCancelWaitMs; past the bound the buffer mapping is leaked on purpose. RecordCancel()s the
  // report. Not armed: an empty report with freed = true.
  CancelReport CancelAndAwait();

  bool armed() const { return armed_; }
  bool terminated() const { return terminated_; }
  int32_t finalRes() const { return finalRes_; }
  const abi::io_uring_params& params() const { return ring_.params; }

 private:
  void Parse(const abi::io_uring_cqe& cqe, Datagram* d);
  void GiveBack(uint32_t bid, uint16_t offset);

  Ring ring_;
  BufRing br_;
  void* map_ = nullptr;  // buffer-ring entries, msghdr, buffers
  size_t mapLen_ = 0;
  uint8_t* bufs_ = nullptr;
  struct msghdr* hdr_ = nullptr;
  uint32_t nbuf_ = 0;
  size_t bufSize_ = 0;
  uint16_t bgid_ = 0;
  bool armed_ = false;
  bool terminated_ = false;
  bool leaked_ = false;
  int32_t finalRes_ = 0;
  uint32_t cancelCqes_ = 0;
};

}  // namespace uring

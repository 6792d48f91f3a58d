// The multishot RECVMSG receiver (see multishot_recv.h).
#include "multishot_recv.h"

#include <errno.h>
#include <sys/mman.h>

#include <cstring>

#include "syscalls.h"

namespace uring {

MultishotReceiver::~MultishotReceiver() {
  // The ring goes first (its fd closed: the kernel drops the buffer-ring registration), then the
  // buffers, unless a request that may still write into them is outstanding.
  if (ring_.fd >= 0) sys::Close(ring_.fd);
  UnmapRings(&ring_.mem);
  if (map_ && !leaked_) sys::Munmap(map_, mapLen_);
}

int MultishotReceiver::SetupRing(uint32_t entries, const SetupOptions& opts, MapStyle style) {
  abi::io_uring_params p{};
  RingMemory mem;
  int fd = -1;
  const int r = RunSetupLadder(entries, opts, style, nullptr, &fd, &p, &mem);
  if (r < 0) return r;
  RingAttach(&ring_, fd, p, mem);
  return 0;
}

int MultishotReceiver::SetupBuffers(uint16_t bgid, uint32_t nbuf, size_t bufSize, uint32_t nameLen,
                                    bool* registerFailed) {
  *registerFailed = false;
  if (nbuf == 0 || nbuf > 32768 || (nbuf & (nbuf - 1)) || bufSize == 0 || bufSize > 0xffffffffu) return -EINVAL;
  // One mapping: the buffer ring's entries (page-aligned, as the kernel requires), the msghdr the
  // RECVMSG points at, then the buffers: all the request can touch, and all there is to leak.
  const size_t page = static_cast<size_t>(sys::PageSize());
  const size_t hdrOff = (nbuf * sizeof(abi::io_uring_buf) + 63) & ~static_cast<size_t>(63);
  const size_t head = (hdrOff + sizeof(struct msghdr) + page - 1) & ~(page - 1);
  const size_t len = head + static_cast<size_t>(nbuf) * bufSize;
  void* m = nullptr;
  int r = sys::Mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0, &m);
  if (r < 0) return r;
  map_ = m;
  mapLen_ = len;
  bufs_ = static_cast<uint8_t*>(m) + head;
  hdr_ = reinterpret_cast<struct msghdr*>(static_cast<uint8_t*>(m) + hdrOff);
  std::memset(hdr_, 0, sizeof(*hdr_));
  hdr_->msg_namelen = nameLen;  // the msghdr only tells the kernel how much room name/control need
  hdr_->msg_controllen = 0;
  nbuf_ = nbuf;
  bufSize_ = bufSize;
  bgid_ = bgid;
  BufRingInit(&br_, static_cast<abi::io_uring_buf*>(m), static_cast<uint16_t>(nbuf));
  for (uint32_t i = 0; i < nbuf; i++) GiveBack(i, static_cast<uint16_t>(i));
  BufRingAdvance(&br_, static_cast<uint16_t>(nbuf));
  abi::io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(m);
  reg.ring_entries = nbuf;
  reg.bgid = bgid;
  r = sys::IoUringRegister(ring_.fd, abi::REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) {
    *registerFailed = true;
    return r;
  }
  return 0;
}

void MultishotReceiver::GiveBack(uint32_t bid, uint16_t offset) {
  BufRingAdd(&br_, bufs_ + static_cast<size_t>(bid) * bufSize_, static_cast<uint32_t>(bufSize_),
             static_cast<uint16_t>(bid), offset);
}

int MultishotReceiver::Arm(int sockFd) {
  abi::io_uring_sqe* sqe = GetSqe(ring_);
  if (!sqe) return -EBUSY;
  PrepRecvmsgMultishot(sqe, sockFd, hdr_, bgid_, kRecvUserData);
  Publish(ring_);
  armed_ = true;
  terminated_ = false;
  return 0;
}

int MultishotReceiver::ArmAndSubmit(int sockFd) {
  int r = Arm(sockFd);
  if (r < 0) return r;
  r = Submit(ring_);  // the ladder's rings are not SQPOLL: r is what the kernel took
  if (r <= 0 || SqUnsubmitted(ring_) != 0) {
    TakeBack(ring_, SqHead(ring_), [](const abi::io_uring_sqe&) {});
    armed_ = false;
    return r < 0 ? r : -EAGAIN;
  }
  return 0;
}

void MultishotReceiver::Parse(const abi::io_uring_cqe& cqe, Datagram* d) {
  d->res = cqe.res;
  d->more = (cqe.flags & abi::CQE_F_MORE) != 0;
  d->buffer = (cqe.flags & abi::CQE_F_BUFFER) != 0;
  d->bid = cqe.flags >> abi::CQE_BUFFER_SHIFT;
  if (!d->more) {  // the kernel ended the request
    armed_ = false;
    terminated_ = true;
    finalRes_ = cqe.res;
  }
  // Not a buffer of ours, or (below) a length past the buffer: the kernel broke the contract;
  // never read.
  if (d->buffer && d->bid >= nbuf_) {
    d->status = Datagram::Status::BadBuffer;
    return;
  }
  if (cqe.res < 0) {
    d->status = Datagram::Status::Error;
    return;
  }
  if (!d->buffer) {
    d->status = Datagram::Status::NoBuffer;
    return;
  }
  if (static_cast<size_t>(cqe.res) > bufSize_) {
    d->status = Datagram::Status::TooLong;
    return;
  }
  const uint8_t* b = bufs_ + static_cast<size_t>(d->bid) * bufSize_;
  abi::io_uring_recvmsg_out o;
  if (static_cast<size_t>(cqe.res) < sizeof(o)) {
    d->status = Datagram::Status::Malformed;
    return;
  }
  std::memcpy(&o, b, sizeof(o));
  // The layout follows the msghdr we gave (liburing's io_uring_recvmsg_payload), not the lengths
  // the kernel reports in `o`.
  const size_t payloadOff = sizeof(o) + hdr_->msg_namelen + hdr_->msg_controllen;
  if (payloadOff + o.payloadlen > static_cast<size_t>(cqe.res)) {
    d->status = Datagram::Status::Malformed;
    return;
  }
  d->status = Datagram::Status::Ok;
  d->payload = b + payloadOff;
  d->payloadLen = o.payloadlen;
  d->name = b + sizeof(o);
  d->nameLen = o.namelen < hdr_->msg_namelen ? o.namelen : hdr_->msg_namelen;
  d->msgFlags = o.flags;
}

CancelReport MultishotReceiver::CancelAndAwait() {
  CancelReport c;
  if (!armed_) {
    c.freed = true;
    return c;
  }
  // A receive in io-wq, or its -ECANCELED completion queued as task work, may still write into
  // the buffers after the cancel SQE went in: await the request's final CQE. Bounded by
  // kCancelWaitMs; past it the mapping is leaked on purpose.
  const int64_t t0 = MonotonicMs();
  const int64_t deadline = t0 + kCancelWaitMs;
  c.targets = 1;
  cancelCqes_ = 0;
  abi::io_uring_sqe* sqe = GetSqe(ring_);
  if (!sqe) {
    SubmitAndWait(ring_, 0, deadline);  // SQ full: hand the kernel what is queued, then there is room
    sqe = GetSqe(ring_);
  }
  if (sqe) {
    PrepCancel(sqe, kRecvUserData, kCancelUserData);
    Publish(ring_);
    const int e = Submit(ring_);
    if (e >= 0 && (ring_.sqpoll() || SqUnsubmitted(ring_) == 0)) {
      c.cancelsSubmitted = 1;
    } else {
      TakeBack(ring_, SqHead(ring_), [](const abi::io_uring_sqe&) {});
      c.cancelsFailed = 1;
    }
  } else {
    c.cancelsFailed = 1;
  }
  // Reap (datagrams still arriving included: their buffers go back) until the request's final CQE
  // and the cancel's own, or the bound.
  auto reap = [&]() { Reap([](const Datagram&) {}); };
  for (;;) {
    reap();
    if (terminated_ && cancelCqes_ >= c.cancelsSubmitted) break;
    if (SubmitAndWait(ring_, 1, deadline) < 0) {  // -ETIME: the bound passed
      reap();
      break;
    }
  }
  c.cancelCqes = cancelCqes_;
  c.awaited = terminated_ ? 1 : 0;
  c.outstanding = c.targets - c.awaited;
  c.leaked = c.outstanding > 0;
  c.freed = !c.leaked;
  c.elapsedMs = MonotonicMs() - t0;
  leaked_ = c.leaked;
  RecordCancel(c);
  return c;
}

}  // namespace uring

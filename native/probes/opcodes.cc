// probeOpcodes and multishotRecvmsg (the opcodes probe): REGISTER_PROBE's opcode table, and one multishot
// RECVMSG with a provided buffer ring tried for real.
#include "probes/probes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <cstdio>
#include "probes/probe_common.h"
#include "ring_access.h"
#include "syscalls.h"

namespace probe {

// ---------------------------------------------------------------------------
// probeOpcodes
// ---------------------------------------------------------------------------
void ProbeOpcodes(OpcodeProbeOutput* out) {
  abi::io_uring_params p{};
  p.flags = abi::SETUP_CLAMP;
  int fd = sys::IoUringSetup(8, &p);
  if (fd < 0) {
    out->res = fd;
    return;
  }
  FdGuard ring(fd);
  constexpr unsigned kOps = 256;
  alignas(8) uint8_t buf[sizeof(abi::io_uring_probe) + kOps * sizeof(abi::io_uring_probe_op)];
  memset(buf, 0, sizeof(buf));
  int r = sys::IoUringRegister(fd, abi::REGISTER_PROBE, buf, kOps);
  out->res = r < 0 ? r : 0;
  if (r < 0) return;
  const abi::io_uring_probe* probe = reinterpret_cast<const abi::io_uring_probe*>(buf);
  const abi::io_uring_probe_op* ops = reinterpret_cast<const abi::io_uring_probe_op*>(buf + sizeof(abi::io_uring_probe));
  out->lastOp = probe->last_op;
  unsigned n = probe->ops_len;
  if (n > kOps) n = kOps;
  out->ops.reserve(n);
  for (unsigned i = 0; i < n; i++) {
    out->ops.emplace_back(ops[i].op, (ops[i].flags & abi::IO_URING_OP_SUPPORTED) != 0);
  }
}

// ---------------------------------------------------------------------------
// multishotRecvmsg
// ---------------------------------------------------------------------------
void MultishotRecvmsg(int timeoutMs, MultishotOutput* out) {
  constexpr uint32_t kBufCount = 8;  // power of two, as the buffer ring requires
  constexpr uint32_t kBufSize = 2048;
  constexpr uint16_t kGroup = 7;
  constexpr uint64_t kRecvUserData = 0x4d53;  // "MS"
  constexpr uint64_t kCancelUserData = 0x4d5343;  // "MSC"
  constexpr int kPackets = 3;
  if (timeoutMs <= 0) timeoutMs = uring::kDefaultWaitTimeoutMs;

  out->stage = "setup";
  uring::SetupOptions opts;
  opts.entries = 16;
  opts.registerMaxWorkers = false;
  int ringFd = -1;
  abi::io_uring_params p{};
  MemGuard mem;
  int r = uring::RunSetupLadder(16, opts, uring::MapStyle::Separate, nullptr, &ringFd, &p, &mem.mem);
  if (r < 0) {
    out->res = r;
    return;
  }
  FdGuard ringGuard(ringFd);

  out->stage = "socket";
  int rs = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (rs < 0) {
    out->res = rs;
    return;
  }
  FdGuard recvSock(rs);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(addr);
  r = sys::Bind(rs, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  if (r == 0) r = sys::GetSockName(rs, reinterpret_cast<struct sockaddr*>(&addr), &alen);
  if (r < 0) {
    out->res = r;
    return;
  }
  int ss = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ss < 0) {
    out->res = ss;
    return;
  }
  FdGuard sendSock(ss);

  // The provided-buffer ring: page-aligned ring memory plus the buffers it hands out. The msghdr the
  // RECVMSG points at lives in the same mapping (after the ring's entries): that one mapping is
  // all the request can touch, and all there is to leak when it does not end in time.
  out->stage = "register-pbuf-ring";
  constexpr size_t kHdrOffset = 256;
  static_assert(kBufCount * sizeof(abi::io_uring_buf) <= kHdrOffset, "the msghdr follows the ring entries");
  static_assert(kHdrOffset + sizeof(struct msghdr) <= 4096, "ring entries and msghdr fit in one page");
  const size_t page = static_cast<size_t>(sys::PageSize());
  const size_t ringBytes = page;  // kBufCount * 16 bytes + the msghdr fit in one page
  const size_t bufBytes = static_cast<size_t>(kBufCount) * kBufSize;
  void* ringMem = nullptr;
  r = sys::Mmap(ringBytes + bufBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &ringMem);
  if (r < 0) {
    out->res = r;
    return;
  }
  MapGuard unmapPbuf{ringMem, ringBytes + bufBytes};
  uint8_t* const bufMem = static_cast<uint8_t*>(ringMem) + ringBytes;
  uring::BufRing br;
  uring::BufRingInit(&br, static_cast<abi::io_uring_buf*>(ringMem), kBufCount);
  for (uint32_t i = 0; i < kBufCount; i++) {
    uring::BufRingAdd(&br, bufMem + i * kBufSize, kBufSize, static_cast<uint16_t>(i), static_cast<uint16_t>(i));
  }
  uring::BufRingAdvance(&br, kBufCount);
  abi::io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ringMem);
  reg.ring_entries = kBufCount;
  reg.bgid = kGroup;
  r = sys::IoUringRegister(ringFd, abi::REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) {
    out->res = r;
    return;
  }

  // One multishot RECVMSG: the msghdr only tells the kernel how much room name/control need.
  out->stage = "submit";
  struct msghdr* hdr = reinterpret_cast<struct msghdr*>(static_cast<uint8_t*>(ringMem) + kHdrOffset);
  memset(hdr, 0, sizeof(*hdr));
  hdr->msg_namelen = sizeof(struct sockaddr_in);
  hdr->msg_controllen = 0;
  uring::Ring ring;
  uring::RingAttach(&ring, ringFd, p, mem.mem);
  {
    abi::io_uring_sqe* sqe = uring::GetSqe(ring);
    if (!sqe) {  // a new ring's SQ is empty
      out->res = -EBUSY;
      return;
    }
    uring::PrepRecvmsgMultishot(sqe, rs, hdr, kGroup, kRecvUserData);
    uring::Publish(ring);
    r = uring::Submit(ring);  // the setup ladder's rings are not SQPOLL: r is what the kernel took
    if (r <= 0 || uring::SqUnsubmitted(ring) != 0) {
      uring::TakeBack(ring, uring::SqHead(ring), [](const abi::io_uring_sqe&) {});
      out->res = r < 0 ? r : -EAGAIN;
      return;
    }
    out->armed = true;
  }

  // From here on the request is armed: every way out goes through the cancel below.
  char payloads[kPackets][48];
  bool seen[kPackets] = {false, false, false};
  int intact = 0;
  // A CQE of the multishot request during the exchange.
  auto onRecv = [&](const abi::io_uring_cqe& cqe) {
    if (cqe.flags & abi::CQE_F_MORE) out->moreFlag = true;
    if (!(cqe.flags & abi::CQE_F_MORE)) {
      out->terminated = true;
      out->finalRes = cqe.res;
    }
    if (cqe.res < 0) {
      out->res = cqe.res;
      return;
    }
    out->completions++;
    if (!(cqe.flags & abi::CQE_F_BUFFER)) return;
    out->bufferFlag = true;
    uint32_t bid = cqe.flags >> abi::CQE_BUFFER_SHIFT;
    if (bid >= kBufCount) return;
    // Layout: io_uring_recvmsg_out, then msg_namelen bytes of name, msg_controllen bytes of
    // control, then the payload.
    const uint8_t* b = bufMem + bid * kBufSize;
    const abi::io_uring_recvmsg_out* o = reinterpret_cast<const abi::io_uring_recvmsg_out*>(b);
    const size_t payloadOff = sizeof(*o) + hdr->msg_namelen + hdr->msg_controllen;
    // A length past the buffer is the kernel breaking the layout: never read beyond kBufSize.
    if (static_cast<size_t>(cqe.res) > kBufSize) return;
    if (payloadOff + o->payloadlen > static_cast<size_t>(cqe.res)) return;
    const uint8_t* payload = b + payloadOff;
    for (int i = 0; i < kPackets; i++) {
      size_t n = strlen(payloads[i]);
      if (!seen[i] && o->payloadlen == n && memcmp(payload, payloads[i], n) == 0) {
        const struct sockaddr_in* from = reinterpret_cast<const struct sockaddr_in*>(b + sizeof(*o));
        if (o->namelen >= sizeof(struct sockaddr_in) && from->sin_family == AF_INET) {
          seen[i] = true;
          intact++;
        }
        break;
      }
    }
  };
  auto exchange = [&]() {
    for (int i = 0; i < kPackets; i++) {
      int n = snprintf(payloads[i], sizeof(payloads[i]), "uring-probe multishot #%d", i);
      int sr = sys::SendTo(ss, payloads[i], static_cast<size_t>(n), 0, reinterpret_cast<struct sockaddr*>(&addr),
                           sizeof(addr));
      if (sr < 0) {
        out->stage = "socket";
        out->res = sr;
        return;
      }
      out->packetsSent++;
    }
    out->stage = "recv";
    const int64_t deadline = uring::MonotonicMs() + timeoutMs;
    while (out->completions < kPackets && !out->terminated) {
      int w = uring::SubmitAndWait(ring, 1, deadline);  // -ETIME at the deadline
      if (w < 0) {
        out->res = w;
        return;
      }
      uring::ForEachCqe(ring, [&](const abi::io_uring_cqe& cqe) {
        if (cqe.user_data == kRecvUserData) onRecv(cqe);
        return true;
      });
    }
  };
  exchange();
  out->payloadOk = intact == kPackets;
  if (out->res == 0) {
    if (out->completions == kPackets && out->payloadOk) {
      out->stage = "done";
    } else if (out->terminated) {
      out->res = -ECANCELED;  // the multishot request ended before every datagram arrived
    }
  }

  // Cancel the multishot request before its buffers go, and await its final CQE (a receive in io-wq,
  // or its -ECANCELED completion queued as task work, may still write into them after the cancel
  // SQE went in). Bounded by kCancelWaitMs; past it the mapping is leaked on purpose.
  if (!out->terminated) {
    uring::CancelReport& c = out->cancel;
    const int64_t t0 = uring::MonotonicMs();
    const int64_t cancelDeadline = t0 + uring::kCancelWaitMs;
    c.targets = 1;
    abi::io_uring_sqe* sqe = uring::GetSqe(ring);
    if (!sqe) {
      // SQ full: hand the kernel what is queued, then there is a free slot.
      uring::SubmitAndWait(ring, 0, cancelDeadline);
      sqe = uring::GetSqe(ring);
    }
    if (sqe) {
      uring::PrepCancel(sqe, kRecvUserData, kCancelUserData);
      uring::Publish(ring);
      const int e = uring::Submit(ring);
      if (e >= 0 && (ring.sqpoll() || uring::SqUnsubmitted(ring) == 0)) {
        c.cancelsSubmitted = 1;
      } else {
        uring::TakeBack(ring, uring::SqHead(ring), [](const abi::io_uring_sqe&) {});
        c.cancelsFailed = 1;
      }
    } else {
      c.cancelsFailed = 1;
    }
    // Reap (other CQEs included) until the request's final CQE and the cancel's own, or the bound.
    auto reap = [&]() {
      uring::ForEachCqe(ring, [&](const abi::io_uring_cqe& cqe) {
        if (cqe.user_data == kRecvUserData && !(cqe.flags & abi::CQE_F_MORE)) {
          out->terminated = true;
          out->finalRes = cqe.res;
        } else if (cqe.user_data == kCancelUserData) {
          c.cancelCqes++;
        }
        return true;
      });
    };
    for (;;) {
      reap();
      if (out->terminated && c.cancelCqes >= c.cancelsSubmitted) break;
      if (uring::SubmitAndWait(ring, 1, cancelDeadline) < 0) {  // -ETIME: the bound passed
        reap();
        break;
      }
    }
    c.awaited = out->terminated ? 1 : 0;
    c.outstanding = c.targets - c.awaited;
    c.leaked = c.outstanding > 0;
    c.freed = !c.leaked;
    c.elapsedMs = uring::MonotonicMs() - t0;
    uring::RecordCancel(c);
  } else {
    out->cancel.freed = true;
  }
  // The kernel may still write into the buffers (and read the msghdr): leave them mapped for good.
  if (out->cancel.leaked) unmapPbuf.p = nullptr;
}

}  // namespace probe

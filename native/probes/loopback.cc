// The kernel operations behind each addon function: ladder, mapping compare, opcode probe, multishot,
// setup flags, single-issuer, loopback — plain C++ results, no JS.
#include "probes/probes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cstdio>
#include <memory>
#include <new>
#include "native_thread.h"
#include "ring_access.h"
#include "syscalls.h"

namespace probe {

using uring::RingMemory;

namespace {

// Closes a file descriptor at scope exit.
struct FdGuard {
  int fd = -1;
  explicit FdGuard(int f = -1) : fd(f) {}
  ~FdGuard() {
    if (fd >= 0) sys::Close(fd);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
};

// Unmaps an anonymous mapping of ours at scope exit (nothing when p is null).
struct MapGuard {
  void* p;
  size_t n;
  ~MapGuard() {
    if (p) sys::Munmap(p, n);
  }
  MapGuard(const MapGuard&) = delete;
  MapGuard& operator=(const MapGuard&) = delete;
};

// Unmaps ring memory at scope exit.
struct MemGuard {
  RingMemory mem;
  ~MemGuard() { uring::UnmapRings(&mem); }
};

// Publish the SQEs reserved on `r` (the probes' rings have nothing else queued), hand them to the
// kernel and wait (until `deadlineMs`) for a CQE. Returns how many of them the kernel took (what the
// probes report as enterRes; under SQPOLL, what its thread took by then) or the submitting enter's
// -errno, in which case the SQEs it did not take are taken back (nothing is left queued). Whether a
// CQE came is for the caller to see (PeekCqe/ForEachCqe).
int SubmitReserved(uring::Ring& r, int64_t deadlineMs) {
  const uint32_t queued = uring::SqUnsubmitted(r);
  uring::Publish(r);
  const int e = uring::Submit(r);
  if (e < 0) {
    uring::TakeBack(r, uring::SqHead(r), [](const abi::io_uring_sqe&) {});
    return e;
  }
  uring::SubmitAndWait(r, 1, deadlineMs);  // -ETIME: the caller finds no CQE
  return static_cast<int>(queued - uring::SqUnsubmitted(r));
}

// Put one NOP into the SQ of `ring` (fd, params, mapping), submit it, and reap CQEs until its own
// (bounded by timeoutMs).
void RawNop(int fd, const abi::io_uring_params& p, const RingMemory& view, uint64_t userData, int timeoutMs,
            NopOutcome* out) {
  out->hasCqeRes = false;
  uring::Ring ring;
  uring::RingAttach(&ring, fd, p, view);
  abi::io_uring_sqe* sqe = uring::GetSqe(ring);
  if (!sqe) {
    out->enterRes = -EBUSY;
    return;
  }
  uring::PrepNop(sqe, userData);
  const int64_t deadline = uring::MonotonicMs() + timeoutMs;
  // SQPOLL: the kernel's SQ thread submits; Submit wakes it when it went idle (IORING_SQ_NEED_WAKEUP).
  out->enterRes = SubmitReserved(ring, deadline);
  if (out->enterRes < 0) return;
  for (;;) {
    uring::ForEachCqe(ring, [&](const abi::io_uring_cqe& cqe) {
      if (cqe.user_data != userData) return true;
      out->hasCqeRes = true;
      out->cqeRes = cqe.res;
      return false;
    });
    if (out->hasCqeRes) return;
    if (uring::SubmitAndWait(ring, 1, deadline) < 0) return;  // -ETIME at the deadline
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// ringLadder
// ---------------------------------------------------------------------------
void RingLadder(const RingLadderInput& in, RingLadderOutput* out) {
  uring::SetupOptions opts;
  opts.entries = in.entries;
  opts.registerMaxWorkers = in.registerMaxWorkers;
  opts.poolSize = in.poolSize;
  opts.bufferSize = in.bufferSize;
  if (!in.flagSets.empty()) {
    opts.flagSets = in.flagSets.data();
    opts.flagSetCount = static_cast<int>(in.flagSets.size());
  }
  if (!in.recv) {
    uring::SendRing ring;
    ring.Setup(opts, &out->report);
    return;  // the ring closes here
  }
  uring::SendRing held;  // closes when this function returns, after the receive ring
  if (in.holdSendRing) {
    uring::SetupOptions sendOpts;
    sendOpts.registerMaxWorkers = in.registerMaxWorkers;
    uring::SetupReport sendReport;
    out->heldSendRes = held.Setup(sendOpts, &sendReport);
    out->heldSendEntries = sendReport.ok ? sendReport.params.sq_entries : 0;
  }
  // The receive ring needs the socket it receives from: a UDP socket on 127.0.0.1.
  int s = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    out->internal = InternalError{"socket", s};
    return;
  }
  FdGuard sock(s);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = sys::Bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  if (r < 0) {
    out->internal = InternalError{"bind", r};
    return;
  }
  uring::RecvRing ring;
  r = ring.Setup(s, opts, &out->report);
  if (r < 0) return;
  out->hasRecvPool = true;
  out->poolSize = ring.poolSize();
  ring.FillRecvQueue(&out->fill);
}

// ---------------------------------------------------------------------------
// mappingCompare
// ---------------------------------------------------------------------------
namespace {

// The CQE at the CQ head as the mapping `view` of ring `fd` shows it, without consuming it (a
// second view of a ring goes through the access layer like the first: a Ring attached to it).
CqeRead PeekThrough(int fd, const abi::io_uring_params& p, const RingMemory& view) {
  CqeRead r;
  uring::Ring ring;
  uring::RingAttach(&ring, fd, p, view);
  const abi::io_uring_cqe* cqe = uring::PeekCqe(ring);
  if (!cqe) return r;
  r.present = true;
  r.userData = cqe->user_data;
  r.res = cqe->res;
  r.flags = cqe->flags;
  return r;
}

struct RingView {
  int fd = -1;
  abi::io_uring_params params{};
  RingMemory mem;
};

// Submit one NOP through `submit` (entering its ring), wait for a completion, read the CQE at the
// CQ head through the separate and through the single view, then consume it through `submit`.
void NopThroughViews(const RingView& submit, const char* name, const RingView& separate, const RingView& single,
                     uint64_t userData, int timeoutMs, NopViews* out) {
  out->submittedThrough = name;
  out->userData = userData;
  // Attached now: the SQ tail is read from this view (the other view may have submitted before).
  uring::Ring ring;
  uring::RingAttach(&ring, submit.fd, submit.params, submit.mem);
  abi::io_uring_sqe* sqe = uring::GetSqe(ring);
  if (!sqe) {
    out->enterRes = -EBUSY;
    return;
  }
  uring::PrepNop(sqe, userData);
  out->enterRes = SubmitReserved(ring, uring::MonotonicMs() + timeoutMs);
  if (out->enterRes < 0) return;
  out->viaSeparate = PeekThrough(separate.fd, separate.params, separate.mem);
  out->viaSingle = PeekThrough(single.fd, single.params, single.mem);
  // Consume it where it was submitted (the other view sees the same head when it is the same ring).
  if (uring::PeekCqe(ring)) uring::CqAdvance(ring, 1);
}

bool SameNop(const CqeRead& a, uint64_t userData) { return a.present && a.userData == userData && a.res == 0; }

}  // namespace

void MappingCompare(uint32_t entries, bool singleFromOtherRing, MappingCompareOutput* out) {
  if (entries == 0) entries = 8;
  RingView ring;
  ring.params.flags = abi::SETUP_CLAMP;
  int fd = sys::IoUringSetup(entries, &ring.params);
  if (fd < 0) {
    out->res = fd;
    return;
  }
  FdGuard ringFd(fd);
  ring.fd = fd;
  out->res = 0;
  out->featSingleMmap = (ring.params.features & abi::FEAT_SINGLE_MMAP) != 0;

  // The single view: the same ring (or, for the tests, a second one).
  RingView other;
  FdGuard otherFd;
  const RingView* singleRing = &ring;
  if (singleFromOtherRing) {
    other.params.flags = abi::SETUP_CLAMP;
    int ofd = sys::IoUringSetup(entries, &other.params);
    if (ofd < 0) {
      out->res = ofd;
      return;
    }
    otherFd.fd = ofd;
    other.fd = ofd;
    singleRing = &other;
  }

  MemGuard sep;
  MemGuard single;
  out->separate.attempted = true;
  out->separate.res = uring::MapRingsSeparate(fd, ring.params, &sep.mem, &out->separate.mapping);
  out->separate.mapped = out->separate.res == 0;
  // Without FEAT_SINGLE_MMAP the SQ ring mapping does not hold the CQ ring: nothing to compare.
  if (out->featSingleMmap) {
    out->single.attempted = true;
    out->single.res = uring::MapRingsSingle(singleRing->fd, singleRing->params, true, &single.mem, &out->single.mapping);
    out->single.mapped = out->single.res == 0;
  }
  if (!out->separate.mapped) return;
  ring.mem = sep.mem;

  // The single view: the single mapping of the same ring (or of the other one); without it, the
  // separate view read twice.
  RingView viaSingle = ring;
  if (out->single.mapped) {
    viaSingle = *singleRing;
    viaSingle.mem = single.mem;
  }
  // NOP 1 through the separate mappings; NOP 2 through the single one. Each CQE is read through both.
  NopThroughViews(ring, "separate", ring, viaSingle, 0x5eed0001, 1000, &out->nops[0]);
  out->nopCount = 1;
  if (out->single.mapped) {
    NopThroughViews(viaSingle, "single", ring, viaSingle, 0x5eed0002, 1000, &out->nops[1]);
    out->nopCount = 2;
  }
  ring.mem = RingMemory{};  // owned by `sep`

  if (!out->single.mapped) return;
  const uring::RingMapping& a = out->separate.mapping;
  const uring::RingMapping& b = out->single.mapping;
  bool sameShape = a.sqRingMask == b.sqRingMask && a.sqRingEntries == b.sqRingEntries &&
                   a.cqRingMask == b.cqRingMask && a.cqRingEntries == b.cqRingEntries;
  bool nopsAgree = true;
  for (int i = 0; i < out->nopCount; i++) {
    const NopViews& n = out->nops[i];
    nopsAgree = nopsAgree && n.enterRes == 1 && SameNop(n.viaSeparate, n.userData) && SameNop(n.viaSingle, n.userData) &&
                n.viaSeparate.flags == n.viaSingle.flags;
  }
  out->agree = sameShape && nopsAgree;
}

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

// ---------------------------------------------------------------------------
// trySetupFlags
// ---------------------------------------------------------------------------
void TrySetupFlags(uint32_t flags, uint32_t entries, uint32_t cqEntries, bool userMemory, SetupFlagOutput* out) {
  if (entries == 0) entries = 8;
  abi::io_uring_params p{};
  p.flags = flags;
  if (flags & abi::SETUP_SQPOLL) p.sq_thread_idle = 10;  // ms
  if (flags & abi::SETUP_CQSIZE) p.cq_entries = cqEntries ? cqEntries : entries * 2;
  out->flags = flags;

  // NO_MMAP: the kernel takes the rings from cq_off.user_addr and the SQEs from sq_off.user_addr,
  // page-aligned memory of ours (without it the addresses are 0 and the kernel faults on them).
  const size_t page = static_cast<size_t>(sys::PageSize());
  void* mem = nullptr;
  size_t ringsBytes = 0, sqesBytes = 0;
  const bool withMemory = userMemory && (flags & abi::SETUP_NO_MMAP);
  if (withMemory) {
    out->userMemory = true;
    // Generous upper bounds of what the kernel computes (rings_size(): the io_rings header, the CQEs
    // (32 bytes with CQE32) and the SQ index array; the SQEs, 128 bytes each with SQE128).
    const size_t cq = (flags & abi::SETUP_CQSIZE) ? p.cq_entries : static_cast<size_t>(entries) * 2;
    ringsBytes = (4096 + cq * 32 + static_cast<size_t>(entries) * 4 + page - 1) / page * page;
    sqesBytes = (static_cast<size_t>(entries) * 128 + page - 1) / page * page;
    out->memRes = sys::Mmap(ringsBytes + sqesBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0,
                            &mem);
    if (out->memRes < 0) {
      out->res = out->memRes;
      return;
    }
    p.cq_off.user_addr = reinterpret_cast<uint64_t>(mem);
    p.sq_off.user_addr = reinterpret_cast<uint64_t>(static_cast<uint8_t*>(mem) + ringsBytes);
  }
  MapGuard unmapMem{mem, ringsBytes + sqesBytes};

  int fd = sys::IoUringSetup(entries, &p);
  if (fd < 0) {
    out->res = fd;
    return;
  }
  FdGuard ring(fd);  // closed (and the kernel's hold on our pages dropped) before the memory goes
  out->res = 0;
  out->features = p.features;
  out->sqEntries = p.sq_entries;
  out->cqEntries = p.cq_entries;
  if (withMemory && !(flags & (abi::SETUP_SQPOLL | abi::SETUP_IOPOLL | abi::SETUP_R_DISABLED))) {
    // The ring works in our memory: one NOP submitted and reaped there.
    RingMemory view;
    uring::AdoptUserRingMemory(p, mem, static_cast<uint8_t*>(mem) + ringsBytes, &view);
    NopOutcome nop;
    RawNop(fd, p, view, 0x4e4d, 1000, &nop);
    out->nopTried = true;
    out->nopEnterRes = nop.enterRes;
    out->nopHasCqe = nop.hasCqeRes;
    out->nopCqeRes = nop.cqeRes;
  }
}

// ---------------------------------------------------------------------------
// paramsLayout
// ---------------------------------------------------------------------------
namespace {

// io_uring_setup with `room` bytes of params right before `limit` (an inaccessible page): the seed's
// zeroed variable, CLAMP in flags when it fits. 0 (ring created and closed) or -errno.
// (ENOMEM right after one of our own rings was closed is retried, as sys::IoUringSetup does.)
int SetupWithRoom(uint8_t* limit, int room, uint32_t entries, uint32_t flags) {
  uint8_t* params = limit - room;
  for (;;) {
    memset(params, 0, static_cast<size_t>(room));
    if (room >= 12) memcpy(params + 8, &flags, sizeof(flags));
    int fd = sys::IoUringSetupRaw(entries, params);
    if (fd == -ENOMEM && ledger::WaitSliceForRelease()) continue;
    if (fd < 0) return fd;
    sys::Close(fd);
    return 0;
  }
}

// One setup with the whole window accessible, bytes [40, window) filled with `canary` (the
// sq_off/cq_off output area: the kernel reads it only for NO_MMAP). Returns 0 or -errno.
int SetupWithCanary(uint8_t* window, uint8_t canary, uint32_t entries, uint32_t flags) {
  for (;;) {
    memset(window, 0, 40);
    memset(window + 40, canary, kParamsWindow - 40);
    memcpy(window + 8, &flags, sizeof(flags));
    int fd = sys::IoUringSetupRaw(entries, window);
    if (fd == -ENOMEM && ledger::WaitSliceForRelease()) continue;
    if (fd < 0) return fd;
    sys::Close(fd);
    return 0;
  }
}

}  // namespace

void ParamsLayout(int probeRoom, ParamsLayoutOutput* out) {
  out->entries = 8;
  out->flags = abi::SETUP_CLAMP;
  out->probeRoom = probeRoom;
  const size_t page = static_cast<size_t>(sys::PageSize());
  void* base = nullptr;
  int r = sys::Mmap(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &base);
  if (r < 0) {
    out->res = r;
    return;
  }
  MapGuard unmap{base, 2 * page};
  uint8_t* limit = static_cast<uint8_t*>(base) + page;  // the first inaccessible byte
  r = sys::Mprotect(limit, page, PROT_NONE);
  if (r < 0) {
    out->res = r;
    return;
  }

  // What the kernel writes: two runs with different canaries past byte 40; a byte the kernel wrote
  // differs from the canary in at least one of them.
  uint8_t* window = limit - kParamsWindow;
  uint8_t first[kParamsWindow];
  out->res = SetupWithCanary(window, 0xa5, out->entries, out->flags);
  if (out->res < 0) return;
  memcpy(first, window, sizeof(first));
  memcpy(out->window, window, sizeof(out->window));
  out->res = SetupWithCanary(window, 0x5a, out->entries, out->flags);
  if (out->res < 0) return;
  out->copyOut = 40;
  for (int i = 40; i < kParamsWindow; i++) {
    if (first[i] != 0xa5 || window[i] != 0x5a) out->copyOut = i + 1;
  }

  // What the kernel reads: the smallest room before the inaccessible page it accepts (it copies the
  // whole struct in first, so any room below that is EFAULT).
  if (probeRoom > 0 && probeRoom <= kParamsWindow) out->probeRoomRes = SetupWithRoom(limit, probeRoom, out->entries, out->flags);
  int lo = 0, hi = 256;  // EFAULT at lo (nothing readable); search up to 256 bytes
  int atHi = SetupWithRoom(limit, hi, out->entries, out->flags);
  if (atHi < 0) {
    out->copyInRes = atHi;
    return;
  }
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    int res = SetupWithRoom(limit, mid, out->entries, out->flags);
    if (res == -EFAULT) {
      lo = mid;
    } else if (res < 0) {
      out->copyInRes = res;  // refused for another reason: no answer
      return;
    } else {
      hi = mid;
    }
  }
  out->copyIn = hi;
}

// ---------------------------------------------------------------------------
// singleIssuerCrossThread
// ---------------------------------------------------------------------------
void SingleIssuerCrossThread(uint32_t extraFlags, SingleIssuerOutput* out) {
  // Thread A is the calling thread: it creates the ring, so it is the ring's single issuer.
  abi::io_uring_params p{};
  p.flags = abi::SETUP_SINGLE_ISSUER | abi::SETUP_CLAMP | extraFlags;
  out->flags = p.flags;
  int fd = sys::IoUringSetup(8, &p);
  out->setupRes = fd < 0 ? fd : 0;
  if (fd < 0) return;
  FdGuard ring(fd);
  MemGuard mem;
  int r = uring::MapRingsSeparate(fd, p, &mem.mem, nullptr);
  if (r < 0) {
    out->internal = InternalError{"mmap", r};
    return;
  }
  RawNop(fd, p, mem.mem, 0xA, 1000, &out->sameThread);
  // Thread B submits through the same ring; the kernel should refuse (-EEXIST).
  native::NativeThread other;
  r = other.Start([&]() { RawNop(fd, p, mem.mem, 0xB, 1000, &out->otherThread); });
  if (r < 0) {
    out->internal = InternalError{"pthread_create", r};
    return;
  }
  other.Join();
}

// ---------------------------------------------------------------------------
// loopback
// ---------------------------------------------------------------------------
uint32_t LoopbackMaxSize(int family) { return family == 6 ? 65527u : 65507u; }

namespace {

constexpr uint32_t kMagic = 0x55525042;  // "URPB"

inline uint8_t PatternByte(uint32_t seq, uint32_t j) {
  return static_cast<uint8_t>((seq * 131u + j * 7u + 0x5au) & 0xffu);
}

void FillPayload(uint8_t* buf, uint32_t size, uint32_t seq) {
  memcpy(buf, &kMagic, 4);
  memcpy(buf + 4, &seq, 4);
  for (uint32_t j = 8; j < size; j++) buf[j] = PatternByte(seq, j);
}

struct Verifier {
  const std::vector<uint32_t>* expectedSizes;
  std::vector<uint8_t> seen;
  int family;
  struct sockaddr_storage source;
  LoopbackOutput* out;

  void Mismatch(const char* fmt, uint32_t a, uint32_t b) {
    if (out->mismatches.size() >= 5) return;
    char line[160];
    snprintf(line, sizeof(line), fmt, a, b);
    out->mismatches.emplace_back(line);
  }

  bool SourceMatches(const struct sockaddr* from, uint32_t fromLen) const {
    if (family == 4) {
      if (fromLen < sizeof(struct sockaddr_in) || from->sa_family != AF_INET) return false;
      const struct sockaddr_in* a = reinterpret_cast<const struct sockaddr_in*>(from);
      const struct sockaddr_in* b = reinterpret_cast<const struct sockaddr_in*>(&source);
      return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    if (fromLen < sizeof(struct sockaddr_in6) || from->sa_family != AF_INET6) return false;
    const struct sockaddr_in6* a = reinterpret_cast<const struct sockaddr_in6*>(from);
    const struct sockaddr_in6* b = reinterpret_cast<const struct sockaddr_in6*>(&source);
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
  }

  void OnPacket(const uring::RecvPacket& pkt) {
    out->received++;
    if (!SourceMatches(pkt.from, pkt.fromLen)) {
      if (out->sourceOk) Mismatch("datagram from an unexpected source (namelen %u, family %u)", pkt.fromLen,
                                  pkt.fromLen >= 2 ? pkt.from->sa_family : 0);
      out->sourceOk = false;
    }
    if (pkt.len < 8) {
      out->lengthsOk = false;
      Mismatch("datagram of %u bytes is shorter than the 8-byte header (%u)", pkt.len, 8);
      return;
    }
    uint32_t magic, seq;
    memcpy(&magic, pkt.data, 4);
    memcpy(&seq, pkt.data + 4, 4);
    if (magic != kMagic || seq >= expectedSizes->size()) {
      out->bytesOk = false;
      Mismatch("datagram with an unknown header (magic 0x%08x, seq %u)", magic, seq);
      return;
    }
    if (seen[seq]) {
      out->bytesOk = false;
      Mismatch("datagram seq %u received twice (%u)", seq, 2);
      return;
    }
    seen[seq] = 1;
    const uint32_t want = (*expectedSizes)[seq];
    if (pkt.len != want || (pkt.msgFlags & MSG_TRUNC)) {
      out->lengthsOk = false;
      Mismatch("datagram seq %u: length %u differs from what was sent", seq, pkt.len);
    }
    const uint32_t n = pkt.len < want ? pkt.len : want;
    for (uint32_t j = 8; j < n; j++) {
      if (pkt.data[j] != PatternByte(seq, j)) {
        out->bytesOk = false;
        Mismatch("datagram seq %u: byte %u differs from the pattern", seq, j);
        break;
      }
    }
  }

  static void Callback(void* ctx, const uring::RecvPacket& pkt) { static_cast<Verifier*>(ctx)->OnPacket(pkt); }
};

int MakeLoopbackSocket(int family, struct sockaddr_storage* addr, socklen_t* len, const char** failedStage) {
  const int domain = family == 6 ? AF_INET6 : AF_INET;
  int s = sys::Socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *failedStage = "socket";
    return s;
  }
  memset(addr, 0, sizeof(*addr));
  if (family == 6) {
    struct sockaddr_in6* a = reinterpret_cast<struct sockaddr_in6*>(addr);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    *len = sizeof(*a);
  } else {
    struct sockaddr_in* a = reinterpret_cast<struct sockaddr_in*>(addr);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof(*a);
  }
  int r = sys::Bind(s, reinterpret_cast<struct sockaddr*>(addr), *len);
  if (r == 0) r = sys::GetSockName(s, reinterpret_cast<struct sockaddr*>(addr), len);
  if (r < 0) {
    sys::Close(s);
    *failedStage = "bind";
    return r;
  }
  return s;
}

void Fail(LoopbackOutput* out, const char* stage, int res) {
  if (out->res != 0) return;  // keep the first failure
  out->stage = stage;
  out->res = res;
}

void RecvmsgRoundTrip(uring::SendRing& ring, int fromSock, int toSock, const struct sockaddr_storage& toAddr,
                      const struct sockaddr_storage& fromAddr, int family, LoopbackOutput* out) {
  constexpr uint32_t kSize = 1400;
  constexpr uint32_t kSeq = 0xfffffff0u;  // outside the pool phase's sequence numbers
  uint8_t sent[kSize], got[kSize + 64];
  FillPayload(sent, kSize, kSeq);
  struct iovec siov = {sent, kSize};
  struct msghdr smsg;
  memset(&smsg, 0, sizeof(smsg));
  smsg.msg_name = const_cast<struct sockaddr_storage*>(&toAddr);
  smsg.msg_namelen = family == 6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  smsg.msg_iov = &siov;
  smsg.msg_iovlen = 1;
  int r = ring.Sendmsg(fromSock, &smsg, 0, kSize);
  if (r < 0) {
    Fail(out, "recvmsg", r);
    return;
  }
  struct sockaddr_storage from;
  uint8_t control[256];
  struct iovec riov = {got, sizeof(got)};
  struct msghdr rmsg;
  memset(&rmsg, 0, sizeof(rmsg));
  rmsg.msg_name = &from;
  rmsg.msg_namelen = sizeof(from);
  rmsg.msg_iov = &riov;
  rmsg.msg_iovlen = 1;
  rmsg.msg_control = control;
  rmsg.msg_controllen = sizeof(control);
  out->recvmsg.calls++;
  uint32_t cqeFlags = 0;
  r = ring.Recvmsg(toSock, &rmsg, 0, &cqeFlags);
  if (r < 0) {
    out->recvmsg.errors++;
    out->recvmsg.firstErrno = r;
    Fail(out, "recvmsg", r);
    return;
  }
  out->recvmsg.bytes += static_cast<uint32_t>(r);
  // The seed copies namelen/controllen/flags back into the caller's msghdr on completion.
  Verifier check;
  std::vector<uint32_t> none;
  check.expectedSizes = &none;
  check.family = family;
  check.source = fromAddr;
  check.out = out;
  const bool lengthOk = static_cast<uint32_t>(r) == kSize && !(rmsg.msg_flags & MSG_TRUNC);
  const bool bytesOk = memcmp(got, sent, kSize) == 0;
  const bool sourceOk = check.SourceMatches(reinterpret_cast<const struct sockaddr*>(&from), rmsg.msg_namelen);
  if (!lengthOk) out->lengthsOk = false;
  if (!bytesOk) out->bytesOk = false;
  if (!sourceOk) out->sourceOk = false;
  if (!lengthOk || !bytesOk || !sourceOk) {
    if (out->mismatches.size() < 5)
      out->mismatches.emplace_back("Recvmsg on the send ring: the datagram came back wrong (length, bytes or source)");
    return;
  }
  out->recvmsgOk = true;
}

}  // namespace

void Loopback(const LoopbackInput& in, LoopbackOutput* out) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  const int timeoutMs = in.timeoutMs > 0 ? in.timeoutMs : uring::kDefaultWaitTimeoutMs;

  // Every datagram: sizes one by one, then `batch` cycling through the sizes.
  std::vector<uint32_t> plan(in.sizes);
  const size_t single = plan.size();
  for (uint32_t i = 0; i < in.batch; i++) plan.push_back(in.sizes.empty() ? 64u : in.sizes[i % in.sizes.size()]);
  out->expected = static_cast<uint32_t>(plan.size());
  uint32_t maxSize = 64;
  for (uint32_t s : plan) maxSize = s > maxSize ? s : maxSize;

  const char* failed = "socket";
  struct sockaddr_storage recvAddr, sendAddr;
  socklen_t recvLen = 0, sendLen = 0;
  int rs = MakeLoopbackSocket(in.family, &recvAddr, &recvLen, &failed);
  if (rs < 0) {
    Fail(out, failed, rs);
    return;
  }
  FdGuard recvSock(rs);
  int ss = MakeLoopbackSocket(in.family, &sendAddr, &sendLen, &failed);
  if (ss < 0) {
    Fail(out, failed, ss);
    return;
  }
  FdGuard sendSock(ss);
  // Room for a whole batch in the socket queue while the pool is busy (FORCE works as root).
  int rcvbuf = 8 << 20;
  if (sys::SetSockOpt(rs, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
    sys::SetSockOpt(rs, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

  uring::SendRing sendRing;
  uring::SetupReport sendRep;
  uring::SetupOptions sendOpts;
  sendOpts.waitTimeoutMs = timeoutMs;
  sendOpts.forcePollWait = in.forcePollWait;
  int r = sendRing.Setup(sendOpts, &sendRep);
  if (r < 0) {
    Fail(out, "send-ring", r);
    return;
  }
  out->hasSendRing = true;
  out->sendEntries = sendRep.params.sq_entries;
  out->sendFlags = sendRep.params.flags;

  uring::RecvRing recvRing;
  uring::SetupReport recvRep;
  uring::SetupOptions recvOpts;
  recvOpts.waitTimeoutMs = timeoutMs;
  recvOpts.forcePollWait = in.forcePollWait;
  recvOpts.poolSize = in.poolSize;
  recvOpts.bufferSize = static_cast<int>(maxSize < 2048 ? 2048 : maxSize);
  r = recvRing.Setup(rs, recvOpts, &recvRep);
  if (r < 0) {
    Fail(out, "recv-ring", r);
    return;
  }
  out->hasRecvRing = true;
  out->recvEntries = recvRep.params.sq_entries;
  out->recvFlags = recvRep.params.flags;
  r = recvRing.FillRecvQueue();
  out->recvQueued = r < 0 ? 0 : r;
  if (r < 0) {
    Fail(out, "recv-ring", r);
    return;
  }

  Verifier verifier;
  verifier.expectedSizes = &plan;
  verifier.seen.assign(plan.size(), 0);
  verifier.family = in.family;
  verifier.source = sendAddr;
  verifier.out = out;
  uring::RecvStats stats;

  // One payload buffer per datagram, filled before any sending starts.
  std::vector<std::unique_ptr<uint8_t[]>> payloads(plan.size());
  for (size_t i = 0; i < plan.size(); i++) {
    payloads[i].reset(new (std::nothrow) uint8_t[plan[i]]);
    if (!payloads[i]) {
      out->internal = InternalError{"malloc", -ENOMEM};
      return;
    }
    FillPayload(payloads[i].get(), plan[i], static_cast<uint32_t>(i));
  }
  std::vector<struct iovec> iovs(plan.size());
  std::vector<struct msghdr> msgs(plan.size());
  for (size_t i = 0; i < plan.size(); i++) {
    iovs[i].iov_base = payloads[i].get();
    iovs[i].iov_len = plan[i];
    memset(&msgs[i], 0, sizeof(msgs[i]));
    msgs[i].msg_name = &recvAddr;
    msgs[i].msg_namelen = recvLen;
    msgs[i].msg_iov = &iovs[i];
    msgs[i].msg_iovlen = 1;
  }

  // Sendmsg one by one, draining the receive ring (without waiting) as we go.
  for (size_t i = 0; i < single; i++) {
    out->sendmsg.calls++;
    out->sendmsg.entries++;
    r = sendRing.Sendmsg(ss, &msgs[i], 0, plan[i]);
    if (r < 0) {
      out->sendmsg.errors++;
      if (out->sendmsg.firstErrno == 0) out->sendmsg.firstErrno = r;
      Fail(out, "sendmsg", r);
    } else {
      out->sendmsg.bytes += static_cast<uint32_t>(r);
    }
    recvRing.ReceivePackets(false, &Verifier::Callback, &verifier, &stats);
  }

  // SendmsgBatch: all of `batch` in one call.
  if (in.batch > 0) {
    std::vector<uring::BatchEntry> entries(in.batch);
    for (uint32_t i = 0; i < in.batch; i++) {
      entries[i].fd = ss;
      entries[i].msg = &msgs[single + i];
      entries[i].payloadLen = plan[single + i];
    }
    out->batch.calls++;
    out->batch.entries = in.batch;
    r = sendRing.SendmsgBatch(entries.data(), entries.size());
    if (r < 0) {
      out->batch.errors = in.batch;
      out->batch.firstErrno = r;
      Fail(out, "sendmsg-batch", r);
    } else {
      for (const uring::BatchEntry& e : entries) {
        int res = e.err != 0 ? e.err : e.res;
        if (res < 0) {
          out->batch.errors++;
          if (out->batch.firstErrno == 0) out->batch.firstErrno = res;
        } else {
          out->batch.bytes += static_cast<uint32_t>(res);
        }
      }
      if (out->batch.errors > 0) Fail(out, "sendmsg-batch", out->batch.firstErrno);
    }
  }

  // Receive until every datagram that was sent is in, or the time is up.
  // Datagrams whose send failed can never arrive; do not wait for them.
  const uint32_t sentOk = out->expected - (out->sendmsg.errors + out->batch.errors);
  const int64_t deadline = uring::MonotonicMs() + timeoutMs;
  while (out->received < sentOk) {
    int64_t remaining = deadline - uring::MonotonicMs();
    if (remaining <= 0) break;
    recvRing.setWaitTimeoutMs(static_cast<int>(remaining));
    r = recvRing.ReceivePackets(true, &Verifier::Callback, &verifier, &stats);
    if (r == -ETIME) break;
    if (r < 0) {
      Fail(out, "receive", r);
      break;
    }
  }
  if (out->received < out->expected) {
    Fail(out, "receive", -ETIME);
    if (out->mismatches.size() < 5) {
      char line[120];
      snprintf(line, sizeof(line), "%u of %u datagrams arrived within %d ms", out->received, out->expected,
               timeoutMs);
      out->mismatches.emplace_back(line);
    }
  }
  if (stats.errors > 0) Fail(out, "receive", stats.firstError);

  // The seed's Recvmsg (ioUringState.Recvmsg): the receiver's socket sends one datagram back
  // through the send ring, and the send ring's synchronous RECVMSG on the sender's socket takes it.
  if (out->res == 0) RecvmsgRoundTrip(sendRing, rs, ss, sendAddr, recvAddr, in.family, out);
  if (out->res == 0) out->stage = "done";

  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  out->elapsedUs = (static_cast<int64_t>(t1.tv_sec) - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
}

}  // namespace probe

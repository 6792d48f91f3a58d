// Loopback UDP throughput engine: harness (threads, pinning, drain, counters) and the six send/receive techniques.
#include "bench/engine.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "abi.h"
#include "bench/net.h"
#include "multishot_recv.h"
#include "native_thread.h"
#include "ring.h"
#include "syscalls.h"

namespace bench {

namespace {

// ---------------------------------------------------------------------------
// Payload: a 16-byte header {magic, size, seq} and a 4-byte trailer (magic ^ seq). Writing and
// checking them costs a few stores/loads per datagram, so the check runs on every datagram in
// every mode and catches foreign, truncated and garbled datagrams without slowing the run.
// ---------------------------------------------------------------------------
constexpr uint32_t kMagic = 0x55524e47u;  // "URNG"

inline void Stamp(uint8_t* p, uint32_t size, uint64_t seq) {
  const uint32_t h[2] = {kMagic, size};
  std::memcpy(p, h, 8);
  std::memcpy(p + 8, &seq, 8);
  const uint32_t t = kMagic ^ static_cast<uint32_t>(seq);
  std::memcpy(p + size - 4, &t, 4);
}

inline bool Intact(const uint8_t* p, size_t len, uint32_t size) {
  if (len != size) return false;
  uint32_t h[2], t;
  uint64_t seq;
  std::memcpy(h, p, 8);
  std::memcpy(&seq, p + 8, 8);
  std::memcpy(&t, p + size - 4, 4);
  return h[0] == kMagic && h[1] == size && t == (kMagic ^ static_cast<uint32_t>(seq));
}

constexpr int kPollMs = 50;          // every blocking receive wakes at least this often
constexpr uint64_t kIdleNs = 50ull * 1000000ull;    // drain: stop after this long without data
constexpr uint64_t kDrainMaxNs = 1000ull * 1000000ull;  // drain: hard bound after the sender stops
constexpr uint32_t kMultishotBgid = 7;

// State one run shares between the coordinator, the sender and the receiver.
struct Run {
  const ThroughputConfig* cfg = nullptr;
  ThroughputResult* out = nullptr;
  int rxFd = -1, txFd = -1;
  sockaddr_in dst{};
  std::atomic<int> ready{0};      // receiver: 1 ready, -1 failed
  std::atomic<int> go{0};         // coordinator -> sender: start
  std::atomic<int> stop{0};       // coordinator -> sender: duration over
  std::atomic<int> txDone{0};     // sender finished (sent is final)
  std::atomic<uint64_t> sentFinal{0};
  uint64_t t0 = 0, txEnd = 0, rxLast = 0;
  // receiver-owned counters (read after join)
  uint64_t received = 0, corrupt = 0, bytes = 0;
  int rxRes = 0;  // receiver-owned
  const char* rxStage = nullptr;
  // The sender's failure: set by the sender thread and by the coordinator (thread start, inject)
  // while the sender may run, so the first one wins through a compare-exchange; read after join.
  std::atomic<int> txRes{0};
  std::atomic<const char*> txStage{nullptr};
  const char* skipped = nullptr;

  void Count(const uint8_t* p, size_t len) {
    if (Intact(p, len, cfg->size)) {
      received++;
      bytes += len;
    } else {
      corrupt++;
    }
  }
  // The receiver stops once the sender is done and everything sent (plus injected) arrived,
  // or nothing arrived for kIdleNs, or kDrainMaxNs passed since the sender stopped.
  bool ShouldStop(uint64_t lastActivity) const {
    if (!txDone.load(std::memory_order_acquire)) return false;
    if (received + corrupt >= sentFinal.load(std::memory_order_relaxed) + cfg->inject) return true;
    const uint64_t now = net::MonoNs();
    return now - lastActivity > kIdleNs || now - txEnd > kDrainMaxNs;
  }
  void FailRx(const char* stage, int res) {
    if (!rxRes) rxRes = res, rxStage = stage;
  }
  void FailTx(const char* stage, int res) {
    int none = 0;
    if (res != 0 && txRes.compare_exchange_strong(none, res, std::memory_order_acq_rel))
      txStage.store(stage, std::memory_order_release);
  }
  bool TxFailed() const { return txRes.load(std::memory_order_acquire) != 0; }
};

uint32_t GsoSegments(uint32_t size) { return std::min<uint32_t>(64, 65000 / size); }

// The seed's ladder with the caller's extra flags ORed into each set.
void SeedFlagSets(uint32_t extra, uint32_t sets[2]) {
  sets[0] = uring::kSeedFlagSets[0] | extra;
  sets[1] = uring::kSeedFlagSets[1] | extra;
}

// ---------------------------------------------------------------------------
// Senders. Each stamps its datagrams, sends them with its technique and stops when told to.
// ---------------------------------------------------------------------------
struct SendBuffers {
  std::vector<uint8_t> data;
  std::vector<iovec> iov;
  std::vector<msghdr> msgs;
  std::vector<mmsghdr> mmsgs;

  // `count` datagrams of `size` bytes, each in its own msghdr addressed to dst (as the seed does:
  // unconnected socket, destination in msg_name).
  void Init(uint32_t count, uint32_t size, sockaddr_in* dst) {
    data.assign(static_cast<size_t>(count) * size, 0);
    iov.resize(count);
    msgs.assign(count, msghdr{});
    mmsgs.assign(count, mmsghdr{});
    for (uint32_t i = 0; i < count; i++) {
      iov[i].iov_base = data.data() + static_cast<size_t>(i) * size;
      iov[i].iov_len = size;
      msgs[i].msg_name = dst;
      msgs[i].msg_namelen = sizeof *dst;
      msgs[i].msg_iov = &iov[i];
      msgs[i].msg_iovlen = 1;
      mmsgs[i].msg_hdr = msgs[i];
    }
  }
  uint8_t* At(uint32_t i, uint32_t size) { return data.data() + static_cast<size_t>(i) * size; }
};

// Wait for the coordinator's go; false when the run was abandoned.
bool AwaitGo(Run& run) {
  while (!run.go.load(std::memory_order_acquire)) {
    if (run.stop.load(std::memory_order_acquire)) return false;
    std::this_thread::yield();
  }
  return true;
}

void SenderThread(Run* runp, int cpu) {
  Run& run = *runp;
  const ThroughputConfig& cfg = *run.cfg;
  net::PinTo(cpu);
  const uint32_t size = cfg.size;
  const bool single = cfg.mode == Mode::Seed || cfg.mode == Mode::Syscall;
  const uint32_t gsoSegs = cfg.mode == Mode::Gso ? GsoSegments(size) : 0;
  const uint32_t per = single ? 1 : gsoSegs ? gsoSegs : cfg.batch;
  SendBuffers sb;
  sb.Init(per, size, &run.dst);

  // io_uring modes send through the seed's send ring, created on this thread (SINGLE_ISSUER
  // binds a ring to the thread that creates it).
  uring::SendRing ring;
  std::vector<uring::BatchEntry> entries;
  const bool uringSend = cfg.mode == Mode::Seed || cfg.mode == Mode::SeedBatch || cfg.mode == Mode::Multishot;
  if (uringSend) {
    uint32_t sets[2];
    SeedFlagSets(cfg.extraRingFlags, sets);
    uring::SetupOptions opts;
    opts.flagSets = sets;
    opts.flagSetCount = 2;
    int r = ring.Setup(opts, nullptr);
    if (r < 0) {
      run.FailTx("send-ring", r);
      run.txEnd = net::MonoNs();
      run.txDone.store(1, std::memory_order_release);
      return;
    }
    run.out->sendRingFlags = ring.params().flags;
    entries.resize(per);
    for (uint32_t i = 0; i < per; i++) {
      entries[i].fd = run.txFd;
      entries[i].msg = &sb.msgs[i];
      entries[i].payloadLen = size;
    }
  }
  if (gsoSegs) {
    int r = net::SetInt(run.txFd, net::kSolUdp, net::kUdpSegment, static_cast<int>(size));
    if (r < 0) {
      run.skipped = "UDP_SEGMENT (GSO) refused by this kernel";
      run.FailTx("send", r);
    }
    sb.iov[0].iov_len = static_cast<size_t>(size) * gsoSegs;
    sb.data.resize(static_cast<size_t>(size) * gsoSegs);
    sb.iov[0].iov_base = sb.data.data();
  }

  uint64_t seq = 0, errors = 0;
  int firstErr = 0;
  if (!run.TxFailed() && AwaitGo(run)) {
    const uint64_t c0 = net::ThreadCpuNs();
    while (!run.stop.load(std::memory_order_relaxed)) {
      for (uint32_t i = 0; i < per; i++) Stamp(sb.At(i, size), size, seq + i);
      switch (cfg.mode) {
        case Mode::Syscall:
        case Mode::Gso: {
          long n = sys::SendMsg(run.txFd, &sb.msgs[0], 0);
          if (n < 0) {
            errors++, firstErr = firstErr ? firstErr : static_cast<int>(n);
          } else {
            seq += per;
          }
          break;
        }
        case Mode::Mmsg: {
          int n = sys::SendMmsg(run.txFd, sb.mmsgs.data(), per, 0);
          if (n < 0) {
            errors++, firstErr = firstErr ? firstErr : n;
          } else {
            seq += static_cast<uint64_t>(n);
          }
          break;
        }
        case Mode::Seed: {
          int n = ring.Sendmsg(run.txFd, &sb.msgs[0], 0, size);
          if (n < 0) {
            errors++, firstErr = firstErr ? firstErr : n;
          } else {
            seq++;
          }
          break;
        }
        case Mode::SeedBatch:
        case Mode::Multishot: {
          int r = ring.SendmsgBatch(entries.data(), per);
          if (r < 0) {
            errors++, firstErr = firstErr ? firstErr : r;
            break;
          }
          for (uint32_t i = 0; i < per; i++) {
            if (entries[i].err == 0 && entries[i].res >= 0) {
              seq++;
            } else {
              errors++;
              if (!firstErr) firstErr = entries[i].err ? entries[i].err : entries[i].res;
            }
          }
          break;
        }
      }
      // A sender that only fails would spin: give up after many errors and no progress.
      if (errors > 1000 && seq == 0) {
        run.FailTx("send", firstErr);
        break;
      }
    }
    run.out->senderCpuUs = (net::ThreadCpuNs() - c0) / 1000;
  }
  run.out->sendErrors = errors;
  run.out->sendErrno = firstErr;
  run.txEnd = net::MonoNs();
  run.sentFinal.store(seq, std::memory_order_relaxed);
  run.txDone.store(1, std::memory_order_release);
}

// ---------------------------------------------------------------------------
// Receivers.
// ---------------------------------------------------------------------------
void SignalReady(Run& run, int v) { run.ready.store(v, std::memory_order_release); }

// syscall: recvmsg, one datagram per call. mmsg: recvmmsg with MSG_WAITFORONE. gso: recvmmsg
// with UDP_GRO on, each coalesced buffer split at the gso_size the kernel reports in a cmsg.
void ReceiveSockets(Run& run) {
  const ThroughputConfig& cfg = *run.cfg;
  const bool gso = cfg.mode == Mode::Gso;
  const bool vec = gso || cfg.mode == Mode::Mmsg;
  const uint32_t vlen = vec ? cfg.batch : 1;
  const size_t bsz = gso ? 65536 : std::max<size_t>(2048, cfg.size + 1);
  std::vector<uint8_t> data(vlen * bsz);
  std::vector<iovec> iov(vlen);
  std::vector<mmsghdr> mm(vlen);
  std::vector<sockaddr_in> names(vlen);
  std::vector<uint64_t> ctl(vlen * 8);  // 64 bytes of cmsg space each, 8-aligned
  bool gro = false;
  if (gso) gro = net::SetInt(run.rxFd, net::kSolUdp, net::kUdpGro, 1) == 0;
  SignalReady(run, 1);
  if (cfg.stallMs) sys::SleepMs(cfg.stallMs);
  uint64_t idle = net::MonoNs();
  const uint64_t c0 = net::ThreadCpuNs();
  for (;;) {
    for (uint32_t i = 0; i < vlen; i++) {
      iov[i].iov_base = data.data() + i * bsz;
      iov[i].iov_len = bsz;
      msghdr& h = mm[i].msg_hdr;
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      h.msg_name = &names[i];
      h.msg_namelen = sizeof names[i];
      h.msg_control = gro ? &ctl[i * 8] : nullptr;
      h.msg_controllen = gro ? 64 : 0;
      h.msg_flags = 0;
    }
    int n;
    if (vec) {
      n = sys::RecvMmsg(run.rxFd, mm.data(), vlen, MSG_WAITFORONE);
    } else {
      long r = sys::RecvMsg(run.rxFd, &mm[0].msg_hdr, 0);
      n = r < 0 ? static_cast<int>(r) : 1;
      mm[0].msg_len = r < 0 ? 0 : static_cast<unsigned>(r);
    }
    if (n < 0) {
      if (n != -EAGAIN && n != -EWOULDBLOCK) {
        run.FailRx("receive", n);
        break;
      }
      if (run.ShouldStop(idle)) break;
      continue;
    }
    for (int i = 0; i < n; i++) {
      const uint8_t* p = static_cast<const uint8_t*>(iov[i].iov_base);
      const size_t len = mm[i].msg_len;
      size_t seg = len;
      if (gro) {
        msghdr& h = mm[i].msg_hdr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
          if (c->cmsg_level == net::kSolUdp && c->cmsg_type == net::kUdpGro) {
            int v;
            std::memcpy(&v, CMSG_DATA(c), sizeof v);
            if (v > 0) seg = static_cast<size_t>(v);
          }
        }
      }
      if (seg == 0 || (mm[i].msg_hdr.msg_flags & MSG_TRUNC)) {
        run.corrupt++;
        continue;
      }
      for (size_t off = 0; off < len; off += seg) run.Count(p + off, std::min(seg, len - off));
    }
    idle = run.rxLast = net::MonoNs();
    if (run.ShouldStop(idle)) break;
  }
  run.out->receiverCpuUs = (net::ThreadCpuNs() - c0) / 1000;
}

void OnSeedPacket(void* ctx, const uring::RecvPacket& p) {
  Run* run = static_cast<Run*>(ctx);
  if (p.msgFlags & MSG_TRUNC) {
    run->corrupt++;
    return;
  }
  run->Count(p.data, p.len);
}

// seed / seed-batch: the seed's receive ring, a pool of `depth` queued RECVMSG, reaped and
// resubmitted by ReceivePackets(wait=true).
void ReceiveSeedPool(Run& run) {
  const ThroughputConfig& cfg = *run.cfg;
  uring::RecvRing ring;
  uint32_t sets[2];
  SeedFlagSets(cfg.extraRingFlags, sets);
  uring::SetupOptions opts;
  opts.flagSets = sets;
  opts.flagSetCount = 2;
  opts.poolSize = static_cast<int>(cfg.depth);
  opts.bufferSize = std::max<int>(uring::kDefaultRecvBufferSize, static_cast<int>(cfg.size) + 1);
  opts.waitTimeoutMs = kPollMs;
  int r = ring.Setup(run.rxFd, opts, nullptr);
  if (r < 0) {
    run.FailRx("recv-ring", r);
    SignalReady(run, -1);
    return;
  }
  ring.setWaitTimeoutMs(kPollMs);
  run.out->recvRingFlags = ring.params().flags;
  SignalReady(run, 1);
  if (cfg.stallMs) sys::SleepMs(cfg.stallMs);
  uint64_t idle = net::MonoNs();
  const uint64_t c0 = net::ThreadCpuNs();
  r = ring.FillRecvQueue();
  if (r < 0) run.FailRx("receive", r);
  uring::RecvStats stats;
  while (!run.rxRes) {
    r = ring.ReceivePackets(true, OnSeedPacket, &run, &stats);
    if (r > 0) {
      idle = run.rxLast = net::MonoNs();
    } else if (r < 0 && r != -ETIME && r != -ETIMEDOUT && r != -EINTR) {
      run.FailRx("receive", r);
      break;
    }
    if (run.ShouldStop(idle)) break;
  }
  run.out->receiverCpuUs = (net::ThreadCpuNs() - c0) / 1000;
}

// multishot: one RECVMSG SQE with RECV_MULTISHOT + BUFFER_SELECT over a provided buffer ring
// (IORING_REGISTER_PBUF_RING, 5.19+; multishot RECVMSG 6.0+), through the shared multishot
// receiver (multishot_recv.h): its ring comes from the shared ladder, its SQEs, CQEs, waits and
// buffer refills from the ring-access layer.

// Bounded wait on the multishot ring: at most kPollMs.
int WaitOne(uring::MultishotReceiver& rx) { return rx.Wait(uring::MonotonicMs() + kPollMs); }

void ReceiveMultishot(Run& run) {
  const ThroughputConfig& cfg = *run.cfg;
  uring::MultishotReceiver rx;
  uint32_t sets[2];
  SeedFlagSets(cfg.extraRingFlags, sets);
  // The shared setup ladder (ring.h): the seed's flag sets with the bench's extra flags, EINVAL
  // -> next set, ENOMEM -> fewer entries, geometry checked, one mapping where FEAT_SINGLE_MMAP.
  uring::SetupOptions so;
  so.flagSets = sets;
  so.flagSetCount = 2;
  so.cqEntries = 4096;  // room for many completions of one multishot SQE between reaps
  int r = rx.SetupRing(64, so, uring::MapStyle::SingleIfFeature);
  if (r < 0) {
    run.FailRx("recv-ring", r);
    SignalReady(run, -1);
    return;
  }
  run.out->recvRingFlags = rx.params().flags;
  // provided buffers: a power of two, at least 256, 8 per pooled receive of the seed's depth
  uint32_t nbuf = 256;
  while (nbuf < cfg.depth * 8 && nbuf < 32768) nbuf <<= 1;
  const size_t bsz = sizeof(abi::io_uring_recvmsg_out) + sizeof(sockaddr_in) + std::max<size_t>(2048, cfg.size + 1);
  bool registerFailed = false;
  r = rx.SetupBuffers(static_cast<uint16_t>(kMultishotBgid), nbuf, bsz, sizeof(sockaddr_in), &registerFailed);
  if (r < 0) {
    if (registerFailed) run.skipped = "provided buffer rings (IORING_REGISTER_PBUF_RING, 5.19+) are not available";
    run.FailRx("pbuf-ring", r);
    SignalReady(run, -1);
    return;
  }
  SignalReady(run, 1);
  if (cfg.stallMs) sys::SleepMs(cfg.stallMs);
  uint64_t idle = net::MonoNs();
  const uint64_t c0 = net::ThreadCpuNs();
  uint64_t completionsSeen = 0;
  auto onDatagram = [&](const uring::Datagram& d) {
    completionsSeen++;
    if (!d.buffer) {
      if (d.res < 0 && d.res != -ENOBUFS) {
        if (d.res == -EINVAL && completionsSeen == 1) run.skipped = "multishot RECVMSG (6.0+) is not available";
        run.FailRx("receive", d.res);
      }
      return;
    }
    if (d.status == uring::Datagram::Status::BadBuffer) {  // not a buffer of ours
      run.corrupt++;
      return;
    }
    if (d.res <= 0) return;
    if (d.status != uring::Datagram::Status::Ok || (d.msgFlags & MSG_TRUNC)) {
      run.corrupt++;  // longer than the buffer (never read past it), or a broken/truncated layout
    } else {
      run.Count(d.payload, d.payloadLen);
    }
  };
  for (;;) {
    if (!rx.armed()) {  // first time, or the kernel ended the multishot: (re-)arm
      r = rx.Arm(run.rxFd);
      if (r < 0) {  // cannot happen (one SQE at a time in a 64-entry SQ): a result, not a spin
        run.FailRx("receive", r);
        break;
      }
    }
    r = WaitOne(rx);
    if (r < 0 && r != -ETIME && r != -ETIMEDOUT && r != -EINTR) {
      run.FailRx("receive", r);
      break;
    }
    if (rx.Ready()) idle = run.rxLast = net::MonoNs();
    rx.Reap(onDatagram);  // each buffer goes back to the kernel after its datagram is counted
    if (run.rxRes || run.ShouldStop(idle)) break;
  }
  run.out->receiverCpuUs = (net::ThreadCpuNs() - c0) / 1000;

  // The armed multishot RECVMSG keeps writing datagrams into the buffers until its final CQE (no
  // F_MORE); ring teardown cancels it only asynchronously. Cancel it and await (bounded) that CQE
  // before the buffers go; if it never comes, rx leaks them rather than free memory the kernel
  // may still write.
  rx.CancelAndAwait();
}

void ReceiverThread(Run* run, int cpu) {
  net::PinTo(cpu);
  switch (run->cfg->mode) {
    case Mode::Seed:
    case Mode::SeedBatch:
      ReceiveSeedPool(*run);
      break;
    case Mode::Multishot:
      ReceiveMultishot(*run);
      break;
    default:
      ReceiveSockets(*run);
      break;
  }
}

// A third socket sends `count` datagrams the receiver must reject: foreign bytes, a truncated
// datagram with a valid header, and a right-sized one with a broken trailer, in turn.
int InjectGarbage(const Run& run, uint32_t count) {
  int fd = net::UdpSocket();
  if (fd < 0) return fd;
  const uint32_t size = run.cfg->size;
  std::vector<uint8_t> buf(size);
  int res = 0;
  for (uint32_t i = 0; i < count && res == 0; i++) {
    size_t len = size;
    switch (i % 3) {
      case 0:
        std::memset(buf.data(), 0xab, size);
        break;
      case 1:
        Stamp(buf.data(), size, i);
        len = size / 2;
        break;
      default:
        Stamp(buf.data(), size, i);
        buf[size - 1] ^= 0xff;
        break;
    }
    iovec iov = {buf.data(), len};
    msghdr m{};
    sockaddr_in dst = run.dst;
    m.msg_name = &dst;
    m.msg_namelen = sizeof dst;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    long r = sys::SendMsg(fd, &m, 0);
    if (r < 0) res = static_cast<int>(r);
  }
  net::Close(fd);
  return res;
}

}  // namespace

bool ParseMode(const char* name, Mode* out) {
  static const struct {
    const char* name;
    Mode mode;
  } kModes[] = {{"seed", Mode::Seed}, {"seed-batch", Mode::SeedBatch}, {"syscall", Mode::Syscall},
                {"mmsg", Mode::Mmsg}, {"multishot", Mode::Multishot}, {"gso", Mode::Gso}};
  for (const auto& m : kModes) {
    if (!std::strcmp(name, m.name)) {
      *out = m.mode;
      return true;
    }
  }
  return false;
}

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::Seed: return "seed";
    case Mode::SeedBatch: return "seed-batch";
    case Mode::Syscall: return "syscall";
    case Mode::Mmsg: return "mmsg";
    case Mode::Multishot: return "multishot";
    case Mode::Gso: return "gso";
  }
  return "?";
}

void RunThroughput(const ThroughputConfig& cfgIn, ThroughputResult* out) {
  *out = ThroughputResult{};
  ThroughputConfig cfg = cfgIn;
  cfg.size = std::clamp(cfg.size, kMinSize, kMaxSize);
  cfg.batch = std::clamp<uint32_t>(cfg.batch, 1, kMaxBatch);
  cfg.depth = std::clamp<uint32_t>(cfg.depth, 1, kMaxDepth);
  cfg.inject = std::min(cfg.inject, kMaxInject);
  if (cfg.mode == Mode::Gso) out->gsoSegments = GsoSegments(cfg.size);

  Run run;
  run.cfg = &cfg;
  run.out = out;
  auto fail = [&](const char* stage, int res) {
    out->res = res;
    out->stage = stage;
  };
  run.rxFd = net::UdpSocket();
  run.txFd = net::UdpSocket();
  if (run.rxFd < 0 || run.txFd < 0) {
    fail("socket", run.rxFd < 0 ? run.rxFd : run.txFd);
    net::Close(run.rxFd);
    net::Close(run.txFd);
    return;
  }
  if (cfg.rcvbuf > 0) net::SetRcvbuf(run.rxFd, cfg.rcvbuf);
  net::SetSndbuf(run.txFd, 4 << 20);
  net::SetRecvTimeout(run.rxFd, kPollMs);
  int r = net::BindLoopback(run.rxFd, &run.dst);
  if (r < 0) {
    fail("bind", r);
    net::Close(run.rxFd);
    net::Close(run.txFd);
    return;
  }
  int cpuTx = -1, cpuRx = -1;
  if (cfg.pin) net::PickCpus(&cpuTx, &cpuRx);
  out->senderCpu = cpuTx;
  out->receiverCpu = cpuRx;

  int64_t rcvbuf0 = -1, inErr0 = -1;
  const bool snmp0 = net::ReadUdpErrors(&rcvbuf0, &inErr0);

  // Threads through pthread_create: a refused thread (pids limit) is a result, not an abort.
  native::NativeThread rx;
  r = rx.Start([&run, cpuRx] { ReceiverThread(&run, cpuRx); });
  if (r < 0) {
    fail("thread", r);
    net::Close(run.rxFd);
    net::Close(run.txFd);
    return;
  }
  // the receiver's ring and socket options are in place before anything is sent (bounded wait)
  const uint64_t readyDeadline = net::MonoNs() + 5000ull * 1000000ull;
  while (run.ready.load(std::memory_order_acquire) == 0 && net::MonoNs() < readyDeadline) sys::SleepMs(1);
  native::NativeThread tx;
  const int txStart = tx.Start([&run, cpuTx] { SenderThread(&run, cpuTx); });
  if (txStart < 0) {
    // no sender: tell the receiver the sender is done (with nothing sent) so it stops
    run.FailTx("thread", txStart);
    run.txEnd = net::MonoNs();
    run.txDone.store(1, std::memory_order_release);
  } else if (run.ready.load(std::memory_order_acquire) == 1) {
    if (cfg.inject) {
      r = InjectGarbage(run, cfg.inject);
      if (r < 0) run.FailTx("inject", r);
    }
    run.t0 = net::MonoNs();
    run.go.store(1, std::memory_order_release);
    sys::SleepMs(cfg.durationMs);
  }
  run.stop.store(1, std::memory_order_release);
  tx.Join();
  if (run.ready.load(std::memory_order_acquire) != 1) {
    // the receiver failed before it was ready, or never became ready: nothing to drain
    run.txDone.store(1, std::memory_order_release);
  }
  rx.Join();
  net::Close(run.rxFd);
  net::Close(run.txFd);

  int64_t rcvbuf1 = -1, inErr1 = -1;
  if (snmp0 && net::ReadUdpErrors(&rcvbuf1, &inErr1)) {
    out->rcvbufErrors = rcvbuf1 - rcvbuf0;
    out->inErrors = inErr1 - inErr0;
  }
  out->sent = run.sentFinal.load();
  out->received = run.received;
  out->corrupt = run.corrupt;
  out->bytesReceived = run.bytes;
  out->skipped = run.skipped;
  if (run.t0) {
    out->senderElapsedUs = run.txEnd > run.t0 ? (run.txEnd - run.t0) / 1000 : 0;
    const uint64_t last = run.rxLast > run.t0 ? run.rxLast : run.txEnd;
    out->receiveElapsedUs = last > run.t0 ? (last - run.t0) / 1000 : 0;
  }
  if (run.rxRes) {
    fail(run.rxStage, run.rxRes);
  } else if (run.TxFailed()) {
    fail(run.txStage.load(std::memory_order_acquire), run.txRes.load(std::memory_order_acquire));
  }
}

// ---------------------------------------------------------------------------
// Ping-pong: one datagram out, its echo back, timed per round (seed rings or plain syscalls).
// ---------------------------------------------------------------------------
namespace {

struct PingSide {
  PingPongMode mode;
  int fd = -1;
  sockaddr_in peer{};
  uint32_t size = 64;
  uint32_t extraFlags = 0;
  uring::SendRing send;
  uring::RecvRing recv;
  std::vector<uint8_t> buf;
  iovec iov{};
  msghdr msg{};
  bool got = false, bad = false;

  int Init() {
    buf.assign(size, 0);
    iov = {buf.data(), size};
    msg.msg_name = &peer;
    msg.msg_namelen = sizeof peer;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (mode == PingPongMode::Syscall) return 0;
    uint32_t sets[2];
    SeedFlagSets(extraFlags, sets);
    uring::SetupOptions o;
    o.flagSets = sets;
    o.flagSetCount = 2;
    o.waitTimeoutMs = kPollMs;
    int r = send.Setup(o, nullptr);
    if (r < 0) return r;
    r = recv.Setup(fd, o, nullptr);
    if (r < 0) return r;
    recv.setWaitTimeoutMs(kPollMs);
    r = recv.FillRecvQueue();
    return r < 0 ? r : 0;
  }
  int Send(uint64_t seq) {
    Stamp(buf.data(), size, seq);
    if (mode == PingPongMode::Syscall) return static_cast<int>(sys::SendMsg(fd, &msg, 0));
    return send.Sendmsg(fd, &msg, 0, size);
  }
  static void OnPacket(void* ctx, const uring::RecvPacket& p) {
    PingSide* s = static_cast<PingSide*>(ctx);
    if (Intact(p.data, p.len, s->size)) s->got = true; else s->bad = true;
  }
  // Wait (bounded) for one datagram: 1 = intact, 0 = timed out, -1 = corrupt, < -1 = -errno.
  int Receive() {
    got = bad = false;
    if (mode == PingPongMode::Syscall) {
      std::vector<uint8_t>& b = buf;
      iovec riov = {b.data(), b.size()};
      msghdr m{};
      m.msg_iov = &riov;
      m.msg_iovlen = 1;
      long n = sys::RecvMsg(fd, &m, 0);
      if (n == -EAGAIN || n == -EWOULDBLOCK) return 0;
      if (n < 0) return static_cast<int>(n);
      return Intact(b.data(), static_cast<size_t>(n), size) ? 1 : -1;
    }
    uring::RecvStats st;
    int r = recv.ReceivePackets(true, OnPacket, this, &st);
    if (r == -ETIME || r == -ETIMEDOUT || r == -EINTR) return 0;
    if (r < 0) return r;
    return got ? 1 : bad ? -1 : 0;
  }
};

}  // namespace

void RunPingPong(const PingPongConfig& cfgIn, PingPongResult* out) {
  *out = PingPongResult{};
  PingPongConfig cfg = cfgIn;
  cfg.size = std::clamp(cfg.size, kMinSize, kMaxSize);
  cfg.maxRounds = std::max<uint32_t>(1, std::min<uint32_t>(cfg.maxRounds, 5000000));
  int a = net::UdpSocket(), b = net::UdpSocket();
  sockaddr_in addrA{}, addrB{};
  int r = (a < 0 || b < 0) ? (a < 0 ? a : b) : 0;
  if (!r) r = net::BindLoopback(a, &addrA);
  if (!r) r = net::BindLoopback(b, &addrB);
  if (r < 0) {
    out->res = r;
    out->stage = "socket";
    net::Close(a);
    net::Close(b);
    return;
  }
  net::SetRecvTimeout(a, kPollMs);
  net::SetRecvTimeout(b, kPollMs);
  int cpuA = -1, cpuB = -1;
  if (cfg.pin) net::PickCpus(&cpuA, &cpuB);
  std::atomic<int> stop{0}, serverReady{0};
  // Written by the server thread; read by this one while it may still run (a server that never
  // became ready), so atomic.
  std::atomic<int> serverRes{0};
  std::vector<uint32_t> rttNs;
  rttNs.reserve(cfg.maxRounds);

  native::NativeThread server;
  r = server.Start([&] {
    net::PinTo(cpuB);
    PingSide s;
    s.mode = cfg.mode;
    s.fd = b;
    s.peer = addrA;
    s.size = cfg.size;
    s.extraFlags = cfg.extraRingFlags;
    const int init = s.Init();
    serverRes.store(init, std::memory_order_relaxed);
    serverReady.store(init < 0 ? -1 : 1, std::memory_order_release);
    if (init < 0) return;
    while (!stop.load(std::memory_order_acquire)) {
      int got = s.Receive();
      if (got == 1) {
        uint64_t seq;
        std::memcpy(&seq, s.buf.data() + 8, 8);
        if (cfg.mode == PingPongMode::Seed) seq = 0;  // the ring path copies nothing back: echo a fresh stamp
        int w = s.Send(seq);
        if (w < 0) {
          serverRes.store(w, std::memory_order_relaxed);
          return;
        }
      } else if (got < -1) {
        serverRes.store(got, std::memory_order_relaxed);
        return;
      }
    }
  });

  if (r < 0) {
    out->res = r;
    out->stage = "thread";
    net::Close(a);
    net::Close(b);
    return;
  }

  const uint64_t readyDeadline = net::MonoNs() + 5000ull * 1000000ull;
  while (serverReady.load(std::memory_order_acquire) == 0 && net::MonoNs() < readyDeadline) sys::SleepMs(1);
  if (serverReady.load() == 1) {
    // the client runs on its own thread too: pinning must not stick to the caller's thread
    native::NativeThread client;
    const int clientStart = client.Start([&] {
    net::PinTo(cpuA);
    PingSide c;
    c.mode = cfg.mode;
    c.fd = a;
    c.peer = addrB;
    c.size = cfg.size;
    c.extraFlags = cfg.extraRingFlags;
    const int init = c.Init();
    if (init < 0) {
      out->res = init;
      out->stage = "client-ring";
    } else {
      const uint64_t end = net::MonoNs() + static_cast<uint64_t>(cfg.durationMs) * 1000000ull;
      for (uint64_t seq = 0; rttNs.size() < cfg.maxRounds && net::MonoNs() < end; seq++) {
        const uint64_t t = net::MonoNs();
        int w = c.Send(seq);
        if (w < 0) {
          out->res = w;
          out->stage = "send";
          break;
        }
        int got = c.Receive();
        if (got == 1) {
          rttNs.push_back(static_cast<uint32_t>(std::min<uint64_t>(net::MonoNs() - t, UINT32_MAX)));
        } else if (got == 0) {
          out->timeouts++;
        } else if (got == -1) {
          out->corrupt++;
        } else {
          out->res = got;
          out->stage = "receive";
          break;
        }
      }
    }
    });
    if (clientStart < 0) {
      out->res = clientStart;
      out->stage = "thread";
    }
    client.Join();
  } else {
    const int sr = serverRes.load(std::memory_order_relaxed);
    out->res = sr < 0 ? sr : -ETIMEDOUT;
    out->stage = "server-ring";
  }
  stop.store(1, std::memory_order_release);
  server.Join();
  net::Close(a);
  net::Close(b);
  const int serverFinal = serverRes.load(std::memory_order_relaxed);  // after Join
  if (!out->res && serverFinal < 0) {
    out->res = serverFinal;
    out->stage = "server";
  }
  out->rounds = rttNs.size();
  if (!rttNs.empty()) {
    std::sort(rttNs.begin(), rttNs.end());
    auto pct = [&](double q) {
      size_t i = static_cast<size_t>(q * static_cast<double>(rttNs.size() - 1) + 0.5);
      return rttNs[std::min(i, rttNs.size() - 1)] / 1000.0;
    };
    out->p50Us = pct(0.50);
    out->p99Us = pct(0.99);
    out->minUs = rttNs.front() / 1000.0;
    out->maxUs = rttNs.back() / 1000.0;
    double sum = 0;
    for (uint32_t v : rttNs) sum += v;
    out->meanUs = sum / static_cast<double>(rttNs.size()) / 1000.0;
  }
}

}  // namespace bench

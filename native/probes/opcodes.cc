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
#include "multishot_recv.h"
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
  constexpr int kPackets = 3;
  if (timeoutMs <= 0) timeoutMs = uring::kDefaultWaitTimeoutMs;

  // The receiver (multishot_recv.h) owns the ring and the buffer mapping; it is declared first so
  // that it goes last, after the sockets.
  uring::MultishotReceiver rx;
  out->stage = "setup";
  uring::SetupOptions opts;
  opts.entries = 16;
  opts.registerMaxWorkers = false;
  int r = rx.SetupRing(16, opts, uring::MapStyle::Separate);
  if (r < 0) {
    out->res = r;
    return;
  }

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

  out->stage = "register-pbuf-ring";
  bool registerFailed = false;
  r = rx.SetupBuffers(kGroup, kBufCount, kBufSize, sizeof(struct sockaddr_in), &registerFailed);
  if (r < 0) {
    out->res = r;
    return;
  }

  // One multishot RECVMSG, taken by the kernel.
  out->stage = "submit";
  r = rx.ArmAndSubmit(rs);
  if (r < 0) {
    out->res = r;
    return;
  }
  out->armed = true;

  // From here on the request is armed: every way out goes through the cancel below.
  char payloads[kPackets][48];
  bool seen[kPackets] = {false, false, false};
  int intact = 0;
  auto onRecv = [&](const uring::Datagram& d) {
    if (d.more) out->moreFlag = true;
    if (!d.more) {
      out->terminated = true;
      out->finalRes = d.res;
    }
    if (d.res < 0) {
      out->res = d.res;
      return;
    }
    out->completions++;
    if (!d.buffer) return;
    out->bufferFlag = true;
    if (d.status != uring::Datagram::Status::Ok) return;  // outside the pool or the buffer: not read
    for (int i = 0; i < kPackets; i++) {
      size_t n = strlen(payloads[i]);
      if (!seen[i] && d.payloadLen == n && memcmp(d.payload, payloads[i], n) == 0) {
        const struct sockaddr_in* from = reinterpret_cast<const struct sockaddr_in*>(d.name);
        if (d.nameLen >= sizeof(struct sockaddr_in) && from->sin_family == AF_INET) {
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
      int w = rx.Wait(deadline);  // -ETIME at the deadline
      if (w < 0) {
        out->res = w;
        return;
      }
      rx.Reap(onRecv);
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

  // Cancel the multishot request before its buffers go and await its final CQE (bounded by
  // kCancelWaitMs; past it rx leaks the mapping on purpose). Ended by itself: nothing to cancel.
  if (!out->terminated) {
    out->cancel = rx.CancelAndAwait();
    out->terminated = rx.terminated();
    if (rx.terminated()) out->finalRes = rx.finalRes();
  } else {
    out->cancel.freed = true;
  }
}

}  // namespace probe

// loopback (the loopback probe): datagrams of every size through the seed's send ring to its receive
// ring's pool over loopback, verified byte for byte.
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
#include "probes/probe_common.h"
#include "ring.h"
#include "syscalls.h"

namespace probe {

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

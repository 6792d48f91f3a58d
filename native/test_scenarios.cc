// Test-only entry points (test_scenarios.h): each runs synchronously on the calling thread.
#include "test_scenarios.h"

#include <string.h>

#include <array>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "abi.h"
#include "napi_util.h"
#include "ring.h"
#include "ring_access.h"
#include "ring_geometry.h"
#include "syscalls.h"

namespace {

// ---------------------------------------------------------------------------
// Test-only: ringFaultScenario drives a SendRing and a RecvRing over one UDP loopback pair,
// synchronously on the calling thread (so a fault injected into the N-th io_uring_enter of the
// process lands on a known step), and reports every step's result and every datagram received.
// Steps: fill the receive pool; `singles` x (Sendmsg, ReceivePackets(wait)); `batches` x
// SendmsgBatch of `batch`; `after` x (Sendmsg, ReceivePackets(wait)); then receive until every
// datagram whose send succeeded is in (or the wait runs out).
// ---------------------------------------------------------------------------
Napi::Value RingFaultScenario(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t sendEntries = 8, poolSize = 4, singles = 3, batch = 0, batches = 1, after = 3, timeoutMs = 500;
  uint32_t ringFlags = 0, idleMs = 0;  // setup flags ORed into both rings' ladders (SQPOLL); idle before `after`
  napiu::Reader opt = napiu::Reader::Args(info, "ringFaultScenario", false);
  opt.Uint("sendEntries", &sendEntries, 1, 4096);
  opt.Uint("ringFlags", &ringFlags, 0, 4294967295.0);
  opt.Uint("idleMs", &idleMs, 0, 10000);
  opt.Uint("poolSize", &poolSize, 1, 256);
  opt.Uint("singles", &singles, 0, 64);
  opt.Uint("batch", &batch, 0, 4096);
  opt.Uint("batches", &batches, 0, 8);
  opt.Uint("after", &after, 0, 64);
  opt.Uint("timeoutMs", &timeoutMs, 1, 10000);
  if (!opt.ok()) return opt.Throw();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array steps = Napi::Array::New(env);
  Napi::Array sentOk = Napi::Array::New(env);
  Napi::Array received = Napi::Array::New(env);
  uint32_t nSteps = 0, nSent = 0, nReceived = 0;
  auto step = [&](const char* op, int res, uint32_t seq) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("op", op);
    s.Set("res", res);
    s.Set("seq", seq);
    steps.Set(nSteps++, s);
    return s;
  };
  auto fail = [&](const char* stage, int res) {
    out.Set("stage", stage);
    out.Set("res", res);
    return out;
  };

  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int rs = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (rs < 0) return fail("socket", rs);
  int ss = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ss < 0) {
    sys::Close(rs);
    return fail("socket", ss);
  }
  struct Closer {
    int a, b;
    ~Closer() { sys::Close(a), sys::Close(b); }
  } closer{rs, ss};
  int rcvbuf = 4 << 20;
  sys::SetSockOpt(rs, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  int r = sys::Bind(rs, reinterpret_cast<struct sockaddr*>(&addr), len);
  if (r == 0) r = sys::GetSockName(rs, reinterpret_cast<struct sockaddr*>(&addr), &len);
  if (r < 0) return fail("bind", r);

  // The seed's ladder with ringFlags ORed into each set (as bench --ring-flags does).
  const uint32_t flagSets[2] = {uring::kSeedFlagSets[0] | ringFlags, uring::kSeedFlagSets[1] | ringFlags};
  uring::SendRing sendRing;
  uring::SetupOptions sendOpts;
  sendOpts.entries = sendEntries;
  sendOpts.waitTimeoutMs = static_cast<int>(timeoutMs);
  sendOpts.flagSets = flagSets;
  sendOpts.flagSetCount = 2;
  r = sendRing.Setup(sendOpts, nullptr);
  if (r < 0) return fail("send-ring", r);
  out.Set("sendEntries", sendRing.params().sq_entries);
  out.Set("sendRingFlags", sendRing.params().flags);
  uring::RecvRing recvRing;
  uring::SetupOptions recvOpts;
  recvOpts.poolSize = static_cast<int>(poolSize);
  recvOpts.waitTimeoutMs = static_cast<int>(timeoutMs);
  recvOpts.flagSets = flagSets;
  recvOpts.flagSetCount = 2;
  r = recvRing.Setup(rs, recvOpts, nullptr);
  if (r < 0) return fail("recv-ring", r);
  out.Set("recvRingFlags", recvRing.params().flags);

  struct Collect {
    Napi::Env env;
    Napi::Array* received;
    uint32_t* n;
    uint32_t got;
    static void Cb(void* ctx, const uring::RecvPacket& p) {
      Collect* c = static_cast<Collect*>(ctx);
      uint32_t seq = 0xffffffffu;
      if (p.len >= 4) memcpy(&seq, p.data, 4);
      c->received->Set((*c->n)++, seq);
      c->got++;
    }
  };
  Collect collect{env, &received, &nReceived, 0};
  uring::RecvStats stats;

  step("fill", recvRing.FillRecvQueue(), 0);
  uint8_t payload[64];
  memset(payload, 0x5a, sizeof(payload));
  struct iovec iov = {payload, sizeof(payload)};
  struct msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  uint32_t seq = 0;
  auto single = [&]() {
    memcpy(payload, &seq, 4);
    int res = sendRing.Sendmsg(ss, &msg, 0, sizeof(payload));
    step("send", res, seq);
    if (res > 0) sentOk.Set(nSent++, seq);
    seq++;
    collect.got = 0;
    int rr = recvRing.ReceivePackets(true, &Collect::Cb, &collect, &stats);
    step("recv", rr, collect.got);
  };
  for (uint32_t i = 0; i < singles; i++) single();
  for (uint32_t b = 0; b < batches && batch > 0; b++) {
    std::vector<uint32_t> seqs(batch);
    std::vector<std::array<uint8_t, 64>> bodies(batch);
    std::vector<struct iovec> iovs(batch);
    std::vector<struct msghdr> msgs(batch);
    std::vector<uring::BatchEntry> entries(batch);
    for (uint32_t i = 0; i < batch; i++) {
      seqs[i] = seq++;
      memset(bodies[i].data(), 0x5a, 64);
      memcpy(bodies[i].data(), &seqs[i], 4);
      iovs[i] = {bodies[i].data(), 64};
      msgs[i] = msg;
      msgs[i].msg_iov = &iovs[i];
      entries[i].fd = ss;
      entries[i].msg = &msgs[i];
      entries[i].payloadLen = 64;
    }
    int res = sendRing.SendmsgBatch(entries.data(), entries.size());
    uint32_t ok = 0;
    for (uint32_t i = 0; i < batch; i++) {
      if (entries[i].err == 0 && entries[i].res > 0) {
        sentOk.Set(nSent++, seqs[i]);
        ok++;
      }
    }
    Napi::Object s = step("batch", res, seqs[0]);
    s.Set("ok", ok);
    s.Set("count", batch);
  }
  if (idleMs > 0) {
    // Both rings sit idle (an SQPOLL ring's kernel thread goes to sleep after sq_thread_idle).
    sys::SleepMs(idleMs);
    step("idle", 0, idleMs);
  }
  for (uint32_t i = 0; i < after; i++) single();
  // Receive until every datagram sent is in, bounded by a few waits.
  for (int i = 0; i < 4096 && nReceived < nSent; i++) {
    collect.got = 0;
    int rr = recvRing.ReceivePackets(true, &Collect::Cb, &collect, &stats);
    if (rr == -ETIME) break;
  }
  out.Set("res", 0);
  out.Set("stage", "done");
  out.Set("steps", steps);
  out.Set("sentOk", sentOk);
  out.Set("received", received);
  out.Set("unknownCompletions", static_cast<double>(sendRing.unknownCompletions()));
  return out;
}

// ---------------------------------------------------------------------------
// Test-only: cancelAwaitScenario (issue 12, point 5). Receives pending on a UDP socket with no data
// are given up while still in flight, then a datagram is sent to the socket:
//   ring 'recv': a RecvRing of `poolSize` RECVMSGs (IOSQE_ASYNC when forceAsync: issued from
//                io-wq) is closed;
//   ring 'send': SendRing::Recvmsg into a heap buffer runs out of its wait (abortPending), then
//                the ring is closed.
// Returns what the cancel did (CancelReport) and the process-wide totals.
// ---------------------------------------------------------------------------

Napi::Value CancelAwaitScenario(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t poolSize = 4, timeoutMs = 100, settleMs = 50;
  bool forceAsync = false, sendRingMode = false;
  napiu::Reader opt = napiu::Reader::Args(info, "cancelAwaitScenario", false);
  opt.Uint("poolSize", &poolSize, 1, 256);
  opt.Uint("timeoutMs", &timeoutMs, 1, 10000);
  opt.Uint("settleMs", &settleMs, 0, 5000);
  opt.Bool("forceAsync", &forceAsync);
  opt.Bool("sendRing", &sendRingMode);
  if (!opt.ok()) return opt.Throw();
  Napi::Object out = Napi::Object::New(env);
  auto fail = [&](const char* stage, int res) {
    out.Set("stage", stage);
    out.Set("res", res);
    return out;
  };
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int rs = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // blocking, no data
  if (rs < 0) return fail("socket", rs);
  int ss = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ss < 0) {
    sys::Close(rs);
    return fail("socket", ss);
  }
  struct Closer {
    int a, b;
    ~Closer() { sys::Close(a), sys::Close(b); }
  } closer{rs, ss};
  int r = sys::Bind(rs, reinterpret_cast<struct sockaddr*>(&addr), len);
  if (r == 0) r = sys::GetSockName(rs, reinterpret_cast<struct sockaddr*>(&addr), &len);
  if (r < 0) return fail("bind", r);

  uring::SetupOptions opts;
  opts.poolSize = static_cast<int>(poolSize);
  opts.entries = poolSize < 8 ? 8 : poolSize;
  opts.waitTimeoutMs = static_cast<int>(timeoutMs);
  if (!sendRingMode) {
    uring::RecvRing ring;
    r = ring.Setup(rs, opts, nullptr);
    if (r < 0) return fail("recv-ring", r);
    ring.setForceAsync(forceAsync);
    r = ring.FillRecvQueue(nullptr);
    if (r < 0) return fail("fill", r);
    out.Set("queued", r);
    sys::SleepMs(settleMs);  // let the receives reach io-wq / their poll wait
    out.Set("inFlightBeforeClose", ring.inFlight());
    ring.Close();
    out.Set("close", CancelReportObject(env, ring.lastCancel()));
  } else {
    uring::SendRing ring;
    r = ring.Setup(opts, nullptr);
    if (r < 0) return fail("send-ring", r);
    auto* payload = new uint8_t[2048];
    struct iovec iov = {payload, 2048};
    struct sockaddr_in from{};
    struct msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    r = ring.Recvmsg(rs, &msg, 0, nullptr);
    out.Set("recvmsgRes", r);
    out.Set("abort", CancelReportObject(env, ring.lastCancel()));
    // The buffers go only when the kernel is done with them (else they are leaked on purpose).
    if (ring.lastCancel().outstanding == 0) delete[] payload;
    ring.Close();
    out.Set("close", CancelReportObject(env, ring.lastCancel()));
  }
  // A datagram for the socket whose receives were cancelled: nothing may land in freed memory.
  const char dgram[] = "uring-probe cancel-await";
  r = sys::SendTo(ss, dgram, sizeof(dgram), 0, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  out.Set("sendAfterClose", r);
  sys::SleepMs(settleMs);
  uring::CancelTotals t = uring::GetCancelTotals();
  Napi::Object totals = Napi::Object::New(env);
  totals.Set("cancelsSubmitted", static_cast<double>(t.cancelsSubmitted));
  totals.Set("awaited", static_cast<double>(t.awaited));
  totals.Set("outstanding", static_cast<double>(t.outstanding));
  totals.Set("leaks", static_cast<double>(t.leaks));
  out.Set("totals", totals);
  out.Set("res", 0);
  out.Set("stage", "done");
  return out;
}

// ---------------------------------------------------------------------------
// Test-only: geometryCheckScenario (issue 12, point 6). A real ring (io_uring_setup(8, CLAMP),
// mapped by MapRingsSeparate) gives real params and mappings; one field is then changed in a copy
// and the geometry checks (ring_geometry.h) are run on it:
//   mode 'check' (default): CheckRingGeometry on the copy against the real mapped sizes, then
//     CheckMappedGeometry against copies of the real SQ/CQ ring bytes; `mutate` names a params
//     field ("sq_entries", "cq_entries", "flags", "sq_off.<field>", "cq_off.<field>") or a word in
//     the mapping ("mapped.sq_ring_mask", "mapped.sq_ring_entries", "mapped.cq_ring_mask",
//     "mapped.cq_ring_entries", "mapped.sq_tail", "mapped.cq_tail"), set to `value`;
//   mode 'map': MapRingsSeparate and MapRingsSingle on the real ring fd with the changed params
//     (what a lying kernel's answer would meet); both must fail and leave nothing mapped.
// Returns {baseline: {res, field}, res, field, rule, value, bound[, singleRes, singleField, memEmpty]}.
// ---------------------------------------------------------------------------
Napi::Value GeometryCheckScenario(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "geometryCheckScenario";
  uint32_t value = 0;
  std::string mutate, mode = "check";
  napiu::Reader opt = napiu::Reader::Args(info, fn, false);
  opt.Uint("value", &value, 0, 4294967295.0);
  opt.Str("mutate", &mutate);
  opt.OneOf("mode", {"check", "map"}, &mode);
  if (!opt.ok()) return opt.Throw();
  Napi::Object out = Napi::Object::New(env);
  auto faultInto = [&](Napi::Object t, int res, const uring::GeometryFault& f) {
    t.Set("res", res);
    t.Set("field", f.field ? Napi::Value(Napi::String::New(env, f.field)) : env.Null());
    t.Set("rule", f.rule ? Napi::Value(Napi::String::New(env, f.rule)) : env.Null());
    t.Set("value", static_cast<double>(f.value));
    t.Set("bound", static_cast<double>(f.bound));
  };

  abi::io_uring_params p{};
  p.flags = abi::SETUP_CLAMP;
  const int fd = sys::IoUringSetup(8, &p);
  if (fd < 0) {
    out.Set("stage", "setup");
    out.Set("res", fd);
    return out;
  }
  uring::RingMemory mem;
  uring::GeometryFault baseFault;
  const int base = uring::MapRingsSeparate(fd, p, &mem, nullptr, &baseFault);
  Napi::Object baseline = Napi::Object::New(env);
  faultInto(baseline, base, baseFault);
  out.Set("baseline", baseline);
  if (base < 0) {
    sys::Close(fd);
    out.Set("stage", "map");
    out.Set("res", base);
    return out;
  }

  abi::io_uring_params q = p;
  struct Field {
    const char* name;
    uint32_t* at;
  };
  const Field fields[] = {
      {"sq_entries", &q.sq_entries},           {"cq_entries", &q.cq_entries},
      {"flags", &q.flags},                     {"sq_off.head", &q.sq_off.head},
      {"sq_off.tail", &q.sq_off.tail},         {"sq_off.ring_mask", &q.sq_off.ring_mask},
      {"sq_off.ring_entries", &q.sq_off.ring_entries}, {"sq_off.flags", &q.sq_off.flags},
      {"sq_off.dropped", &q.sq_off.dropped},   {"sq_off.array", &q.sq_off.array},
      {"cq_off.head", &q.cq_off.head},         {"cq_off.tail", &q.cq_off.tail},
      {"cq_off.ring_mask", &q.cq_off.ring_mask}, {"cq_off.ring_entries", &q.cq_off.ring_entries},
      {"cq_off.overflow", &q.cq_off.overflow}, {"cq_off.cqes", &q.cq_off.cqes},
      {"cq_off.flags", &q.cq_off.flags},
  };
  // Copies of the mapped ring bytes, so that mapped words can be changed without touching the kernel's.
  std::vector<uint8_t> sqCopy(static_cast<const uint8_t*>(mem.sqRing), static_cast<const uint8_t*>(mem.sqRing) + mem.sqRingSize);
  std::vector<uint8_t> cqCopy(static_cast<const uint8_t*>(mem.cqRing), static_cast<const uint8_t*>(mem.cqRing) + mem.cqRingSize);
  struct Word {
    const char* name;
    std::vector<uint8_t>* region;
    uint32_t off;
  };
  const Word words[] = {
      {"mapped.sq_ring_mask", &sqCopy, p.sq_off.ring_mask}, {"mapped.sq_ring_entries", &sqCopy, p.sq_off.ring_entries},
      {"mapped.cq_ring_mask", &cqCopy, p.cq_off.ring_mask}, {"mapped.cq_ring_entries", &cqCopy, p.cq_off.ring_entries},
      {"mapped.sq_tail", &sqCopy, p.sq_off.tail},           {"mapped.cq_tail", &cqCopy, p.cq_off.tail},
  };
  bool known = mutate.empty();
  for (const Field& f : fields) {
    if (mutate == f.name) *f.at = value, known = true;
  }
  for (const Word& w : words) {
    if (mutate == w.name) memcpy(w.region->data() + w.off, &value, 4), known = true;
  }
  if (!known) {
    uring::UnmapRings(&mem);
    sys::Close(fd);
    return napiu::ThrowTypeError(env, std::string(fn) + ": unknown options.mutate '" + mutate + "'");
  }

  uring::GeometryFault fault;
  int r;
  if (mode == "check") {
    r = uring::CheckRingGeometry(q, mem.sqRingSize, mem.cqRingSize, mem.sqesSize, &fault);
    if (r == 0) r = uring::CheckMappedGeometry(q, sqCopy.data(), cqCopy.data(), &fault);
    faultInto(out, r, fault);
  } else {
    uring::RingMemory m2;
    r = uring::MapRingsSeparate(fd, q, &m2, nullptr, &fault);
    faultInto(out, r, fault);
    bool empty = m2.sqRing == nullptr && m2.cqRing == nullptr && m2.sqesMap == nullptr;
    if (r == 0) uring::UnmapRings(&m2);
    uring::RingMemory m3;
    uring::GeometryFault fault3;
    const bool single = (p.features & abi::FEAT_SINGLE_MMAP) != 0;
    const int r3 = uring::MapRingsSingle(fd, q, single, &m3, nullptr, &fault3);
    out.Set("singleRes", r3);
    out.Set("singleField", fault3.field ? Napi::Value(Napi::String::New(env, fault3.field)) : env.Null());
    empty = empty && m3.sqRing == nullptr && m3.cqRing == nullptr && m3.sqesMap == nullptr;
    if (r3 == 0) uring::UnmapRings(&m3);
    out.Set("memEmpty", empty);
  }
  out.Set("stage", "done");
  uring::UnmapRings(&mem);
  sys::Close(fd);
  return out;
}

// ---------------------------------------------------------------------------
// Test-only: waitExactScenario (issue 12, point 3): the ring-access layer's SubmitAndWait against
// the raw bounded enter, on a plain 8-entry ring (CQ 16) over a UDP socket with no data.
//   mode 'waitnr': a NOP (completes at once) and a RECVMSG (never completes) are published, then a
//     wait for 2 CQEs bounded by timeoutMs. `raw` = EnterBounded alone (what callers had before the
//     layer): with forcePoll its poll() wakes on the NOP's CQE and it returns the submit count
//     with 1 CQE ready; `layer` = SubmitAndWait: -ETIME, since the second CQE never came.
//   mode 'clamp': 16 NOPs (as many as the CQ holds) and a wait for 100 CQEs: SubmitAndWait clamps
//     the count to the CQ size and returns 16 (a kernel that does not clamp would wait until the
//     deadline and say -ETIME).
// The RECVMSG's msghdr and buffer are static: the ring's teardown cancels it after we return.
// ---------------------------------------------------------------------------
Napi::Value WaitExactScenario(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t timeoutMs = 200;
  bool forcePoll = false;
  std::string mode = "waitnr";
  napiu::Reader opt = napiu::Reader::Args(info, "waitExactScenario", false);
  opt.Uint("timeoutMs", &timeoutMs, 1, 10000);
  opt.Bool("forcePoll", &forcePoll);
  opt.OneOf("mode", {"waitnr", "clamp"}, &mode);
  if (!opt.ok()) return opt.Throw();
  Napi::Object out = Napi::Object::New(env);
  auto fail = [&](const char* stage, int res) {
    out.Set("stage", stage);
    out.Set("res", res);
    return out;
  };
  int sock = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return fail("socket", sock);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = sys::Bind(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  if (r < 0) {
    sys::Close(sock);
    return fail("bind", r);
  }
  // One run: a fresh ring, the SQEs of the mode, one wait (raw or through the layer).
  auto run = [&](bool layer, int* waitRes, uint32_t* ready) -> int {
    uring::SetupOptions so;
    so.registerMaxWorkers = false;
    abi::io_uring_params p{};
    uring::RingMemory mem;
    int fd = -1;
    int e = uring::RunSetupLadder(8, so, uring::MapStyle::Separate, nullptr, &fd, &p, &mem);
    if (e < 0) return e;
    uring::Ring ring;
    uring::RingAttach(&ring, fd, p, mem, forcePoll);
    static char buf[64];
    static struct iovec iov;
    static struct msghdr msg;
    uint32_t n = 0, want = 2;
    if (mode == "waitnr") {
      uring::PrepNop(uring::GetSqe(ring), 1);
      iov = {buf, sizeof(buf)};
      msg = {};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      uring::PrepRecvmsg(uring::GetSqe(ring), sock, &msg, 0, 2);
      n = 2;
    } else {
      const uint32_t cq = *ring.mem.cqRingEntries;
      // The SQ holds 8: submit in rounds without waiting, then wait for far more than the CQ holds.
      while (n < cq) {
        abi::io_uring_sqe* sqe = uring::GetSqe(ring);
        if (!sqe) {
          uring::Publish(ring);
          if (uring::Submit(ring) < 0) break;
          continue;
        }
        uring::PrepNop(sqe, ++n);
      }
      want = 100;
    }
    uring::Publish(ring);
    if (layer) {
      *waitRes = uring::SubmitAndWait(ring, want, uring::MonotonicMs() + timeoutMs);
    } else {
      *waitRes = uring::EnterBounded(fd, p.features, p.flags, uring::SqUnsubmitted(ring), want,
                                     static_cast<int>(timeoutMs), forcePoll, mem.sqFlags);
    }
    *ready = uring::CqReady(ring);
    uring::UnmapRings(&mem);
    sys::Close(fd);
    return 0;
  };
  int rawRes = 0, layerRes = 0;
  uint32_t rawReady = 0, layerReady = 0;
  r = run(false, &rawRes, &rawReady);
  if (r == 0) r = run(true, &layerRes, &layerReady);
  sys::Close(sock);
  if (r < 0) return fail("ring", r);
  out.Set("stage", "done");
  out.Set("res", 0);
  Napi::Object raw = Napi::Object::New(env);
  raw.Set("res", rawRes);
  raw.Set("ready", rawReady);
  Napi::Object lay = Napi::Object::New(env);
  lay.Set("res", layerRes);
  lay.Set("ready", layerReady);
  out.Set("raw", raw);
  out.Set("layer", lay);
  return out;
}

}  // namespace

void RegisterTestScenarios(Napi::Env env, Napi::Object exports) {
  exports.Set("ringFaultScenario", Napi::Function::New(env, RingFaultScenario, "ringFaultScenario"));
  exports.Set("cancelAwaitScenario", Napi::Function::New(env, CancelAwaitScenario, "cancelAwaitScenario"));
  exports.Set("geometryCheckScenario", Napi::Function::New(env, GeometryCheckScenario, "geometryCheckScenario"));
  exports.Set("waitExactScenario", Napi::Function::New(env, WaitExactScenario, "waitExactScenario"));
}

// N-API glue: argument checks, AsyncWorkers running the probes (native/probes/) off the JS thread, results as JS objects.
// napiu::Queue (napi_util.h), results as JS objects. The test-only entry points are in test_scenarios.cc.
#include <napi.h>

#include <string.h>
#include <time.h>

#include <array>
#include <functional>
#include <vector>
#include <string>
#include <utility>

#include <sys/prctl.h>
#include <sys/resource.h>

#include "abi.h"
#include "breadcrumb.h"
#include "errno_name.h"
#include "probes/memlock.h"
#include "probes/probes.h"
#include "ring_ledger.h"
#include "run_context.h"
#include "seccomp_compile.h"
#include "ring.h"
#include "syscalls.h"
#include "napi_util.h"
#include "test_scenarios.h"

#if __has_include("bench/bench_addon.h")
#include "bench/bench_addon.h"
#define URING_PROBE_HAS_BENCH 1
#endif

// The result object of a CancelReport (test_scenarios.h: the cancel-await scenario builds them too).
Napi::Object CancelReportObject(Napi::Env env, const uring::CancelReport& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("targets", c.targets);
  o.Set("cancelsSubmitted", c.cancelsSubmitted);
  o.Set("cancelsFailed", c.cancelsFailed);
  o.Set("cancelCqes", c.cancelCqes);
  o.Set("awaited", c.awaited);
  o.Set("outstanding", c.outstanding);
  o.Set("freed", c.freed);
  o.Set("leaked", c.leaked);
  o.Set("elapsedMs", static_cast<double>(c.elapsedMs));
  return o;
}

namespace {

using napiu::NullOr;
using napiu::Queue;
using napiu::Reader;

// An output's internal failure: thrown here, so that Queue rejects with it (a Node-style error).
bool Internal(Napi::Env env, const probe::InternalError& e) {
  if (!e.syscall) return false;
  napiu::NodeError(env, e.syscall, e.err).ThrowAsJavaScriptException();
  return true;
}

// ---------------------------------------------------------------------------
// Result builders
// ---------------------------------------------------------------------------
Napi::Object MappingObject(Napi::Env env, const uring::RingMapping& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("strategy", m.single ? "single" : "separate");
  o.Set("sqRingSize", static_cast<double>(m.sqRingSize));
  o.Set("cqRingSize", static_cast<double>(m.cqRingSize));
  o.Set("sqesSize", static_cast<double>(m.sqesSize));
  o.Set("cqesAddrMod16", m.cqesAddrMod16);
  o.Set("cqesAddrMod8", m.cqesAddrMod8);
  o.Set("sqRingMask", m.sqRingMask);
  o.Set("sqRingEntries", m.sqRingEntries);
  o.Set("cqRingMask", m.cqRingMask);
  o.Set("cqRingEntries", m.cqRingEntries);
  return o;
}

Napi::Object ParamsObject(Napi::Env env, const abi::io_uring_params& p) {
  Napi::Object sq = Napi::Object::New(env);
  sq.Set("head", p.sq_off.head);
  sq.Set("tail", p.sq_off.tail);
  sq.Set("ringMask", p.sq_off.ring_mask);
  sq.Set("ringEntries", p.sq_off.ring_entries);
  sq.Set("flags", p.sq_off.flags);
  sq.Set("dropped", p.sq_off.dropped);
  sq.Set("array", p.sq_off.array);
  Napi::Object cq = Napi::Object::New(env);
  cq.Set("head", p.cq_off.head);
  cq.Set("tail", p.cq_off.tail);
  cq.Set("ringMask", p.cq_off.ring_mask);
  cq.Set("ringEntries", p.cq_off.ring_entries);
  cq.Set("overflow", p.cq_off.overflow);
  cq.Set("cqes", p.cq_off.cqes);
  cq.Set("flags", p.cq_off.flags);
  Napi::Object offsets = Napi::Object::New(env);
  offsets.Set("sq", sq);
  offsets.Set("cq", cq);
  Napi::Object o = Napi::Object::New(env);
  o.Set("sqEntries", p.sq_entries);
  o.Set("cqEntries", p.cq_entries);
  o.Set("flags", p.flags);
  o.Set("features", p.features);
  o.Set("offsets", offsets);
  return o;
}

Napi::Array PairArray(Napi::Env env, uint32_t a, uint32_t b) {
  Napi::Array arr = Napi::Array::New(env, 2);
  arr.Set(0u, a);
  arr.Set(1u, b);
  return arr;
}

Napi::Value BuildRingLadder(Napi::Env env, const probe::RingLadderOutput& out) {
  if (Internal(env, out.internal)) return env.Undefined();
  const uring::SetupReport& rep = out.report;
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", rep.res);
  Napi::Array attempts = Napi::Array::New(env, static_cast<size_t>(rep.attemptCount));
  for (int i = 0; i < rep.attemptCount; i++) {
    const uring::SetupAttempt& a = rep.attempts[i];
    Napi::Object ao = Napi::Object::New(env);
    ao.Set("stage", a.stage == uring::AttemptStage::Setup ? "setup" : "mmap");
    ao.Set("entries", a.entries);
    ao.Set("flags", a.flags);
    ao.Set("res", a.res);
    attempts.Set(static_cast<uint32_t>(i), ao);
  }
  o.Set("attempts", attempts);
  o.Set("params", NullOr(env, rep.ok, [&]() -> Napi::Value { return ParamsObject(env, rep.params); }));
  o.Set("mapping", NullOr(env, rep.ok, [&]() -> Napi::Value { return MappingObject(env, rep.mapping); }));
  // The kernel's answer that failed the geometry check (ring_geometry.h), or null.
  o.Set("geometry", NullOr(env, rep.geometry.field != nullptr, [&]() -> Napi::Value {
          Napi::Object g = Napi::Object::New(env);
          g.Set("field", rep.geometry.field);
          g.Set("rule", rep.geometry.rule ? rep.geometry.rule : "");
          g.Set("value", static_cast<double>(rep.geometry.value));
          g.Set("bound", static_cast<double>(rep.geometry.bound));
          return g;
        }));
  o.Set("maxWorkers", NullOr(env, rep.maxWorkers.attempted, [&]() -> Napi::Value {
          Napi::Object mw = Napi::Object::New(env);
          mw.Set("res", rep.maxWorkers.res);
          mw.Set("requested", PairArray(env, rep.maxWorkers.requested[0], rep.maxWorkers.requested[1]));
          mw.Set("previous", rep.maxWorkers.res == 0
                                 ? static_cast<Napi::Value>(PairArray(env, rep.maxWorkers.previous[0], rep.maxWorkers.previous[1]))
                                 : env.Null());
          return mw;
        }));
  o.Set("heldSendRing", NullOr(env, out.heldSendRes != 0 || out.heldSendEntries != 0, [&]() -> Napi::Value {
          Napi::Object h = Napi::Object::New(env);
          h.Set("res", out.heldSendRes);
          h.Set("entries", out.heldSendEntries);
          return h;
        }));
  o.Set("recvPool", NullOr(env, out.hasRecvPool, [&]() -> Napi::Value {
          const uring::FillReport& f = out.fill;
          Napi::Object rp = Napi::Object::New(env);
          rp.Set("poolSize", out.poolSize);
          rp.Set("written", f.written);
          rp.Set("entered", f.entered);
          rp.Set("submitted", f.entered ? f.enterRes : 0);
          rp.Set("sqHeadBefore", f.sqHeadBefore);
          rp.Set("sqHeadAfter", f.sqHeadAfter);
          // what the kernel took, and the errno of the enter that failed (0 when none)
          rp.Set("queued", f.entered && f.enterRes > 0 ? f.enterRes : 0);
          rp.Set("submitRes", f.entered && f.enterRes < 0 ? f.enterRes : 0);
          return rp;
        }));
  return o;
}

Napi::Value BuildMappingCompare(Napi::Env env, const probe::MappingCompareOutput& out) {
  auto view = [&](const probe::MappingView& v) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("attempted", v.attempted);
    o.Set("res", v.res);
    o.Set("mapping", v.mapped ? static_cast<Napi::Value>(MappingObject(env, v.mapping)) : env.Null());
    return o;
  };
  auto cqe = [&](const probe::CqeRead& c) -> Napi::Value {
    if (!c.present) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("userData", static_cast<double>(c.userData));
    o.Set("res", c.res);
    o.Set("flags", c.flags);
    return o;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", out.res);
  o.Set("featSingleMmap", out.featSingleMmap);
  o.Set("separate", view(out.separate));
  o.Set("single", view(out.single));
  Napi::Array nops = Napi::Array::New(env, static_cast<size_t>(out.nopCount));
  for (int i = 0; i < out.nopCount; i++) {
    const probe::NopViews& n = out.nops[i];
    Napi::Object no = Napi::Object::New(env);
    no.Set("submittedThrough", n.submittedThrough);
    no.Set("userData", static_cast<double>(n.userData));
    no.Set("enterRes", n.enterRes);
    no.Set("viaSeparate", cqe(n.viaSeparate));
    no.Set("viaSingle", cqe(n.viaSingle));
    nops.Set(static_cast<uint32_t>(i), no);
  }
  o.Set("nops", nops);
  o.Set("agree", out.agree);
  return o;
}

Napi::Value BuildParamsLayout(Napi::Env env, const probe::ParamsLayoutOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("entries", out.entries);
  o.Set("flags", out.flags);
  o.Set("res", out.res);
  Napi::Array window = Napi::Array::New(env, probe::kParamsWindow);
  for (uint32_t i = 0; i < static_cast<uint32_t>(probe::kParamsWindow); i++) window.Set(i, out.window[i]);
  o.Set("window", out.res == 0 ? static_cast<Napi::Value>(window) : env.Null());
  o.Set("copyOut", out.copyOut);
  o.Set("probeRoom", out.probeRoom);
  o.Set("probeRoomRes", out.probeRoomRes);
  o.Set("copyIn", out.copyIn);
  o.Set("copyInRes", out.copyInRes);
  return o;
}

Napi::Value BuildOpcodes(Napi::Env env, const probe::OpcodeProbeOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", out.res);
  o.Set("lastOp", out.lastOp);
  Napi::Array ops = Napi::Array::New(env, out.ops.size());
  for (size_t i = 0; i < out.ops.size(); i++) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("op", out.ops[i].first);
    e.Set("supported", out.ops[i].second);
    ops.Set(static_cast<uint32_t>(i), e);
  }
  o.Set("ops", ops);
  return o;
}

Napi::Value BuildMultishot(Napi::Env env, const probe::MultishotOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", out.res);
  o.Set("stage", out.stage);
  o.Set("packetsSent", out.packetsSent);
  o.Set("completions", out.completions);
  o.Set("moreFlag", out.moreFlag);
  o.Set("bufferFlag", out.bufferFlag);
  o.Set("payloadOk", out.payloadOk);
  o.Set("terminated", out.terminated);  // its final CQE reaped before the buffers went
  o.Set("finalRes", out.finalRes);
  o.Set("cancel", CancelReportObject(env, out.cancel));
  return o;
}

Napi::Value BuildSetupFlag(Napi::Env env, const probe::SetupFlagOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("flags", out.flags);
  o.Set("res", out.res);
  o.Set("features", out.features);
  o.Set("sqEntries", out.sqEntries);
  o.Set("cqEntries", out.cqEntries);
  o.Set("userMemory", out.userMemory);
  o.Set("nop", NullOr(env, out.nopTried, [&]() -> Napi::Value {
          Napi::Object n = Napi::Object::New(env);
          n.Set("enterRes", out.nopEnterRes);
          n.Set("cqeRes", out.nopHasCqe ? Napi::Number::New(env, out.nopCqeRes) : env.Null());
          return n;
        }));
  return o;
}

Napi::Value BuildSingleIssuer(Napi::Env env, const probe::SingleIssuerOutput& out) {
  if (Internal(env, out.internal)) return env.Undefined();
  auto nop = [&](const probe::NopOutcome& n) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("enterRes", n.enterRes);
    o.Set("cqeRes", n.hasCqeRes ? Napi::Number::New(env, n.cqeRes) : env.Null());
    return o;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("flags", out.flags);
  o.Set("setupRes", out.setupRes);
  o.Set("sameThread", nop(out.sameThread));
  o.Set("otherThread", nop(out.otherThread));
  return o;
}

Napi::Value BuildLoopback(Napi::Env env, const probe::LoopbackOutput& out) {
  if (Internal(env, out.internal)) return env.Undefined();
  auto counters = [&](const probe::SendCounters& c, bool withEntries) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("calls", c.calls);
    if (withEntries) o.Set("entries", c.entries);
    o.Set("bytes", static_cast<double>(c.bytes));
    o.Set("errors", c.errors);
    o.Set("firstErrno", c.firstErrno);
    return o;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", out.res);
  o.Set("stage", out.stage);
  o.Set("sendRing", NullOr(env, out.hasSendRing, [&]() -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("entries", out.sendEntries);
          r.Set("flags", out.sendFlags);
          return r;
        }));
  o.Set("recvRing", NullOr(env, out.hasRecvRing, [&]() -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("entries", out.recvEntries);
          r.Set("flags", out.recvFlags);
          r.Set("queued", out.recvQueued);
          return r;
        }));
  o.Set("sendmsg", counters(out.sendmsg, false));
  o.Set("batch", counters(out.batch, true));
  Napi::Object recvmsg = counters(out.recvmsg, false);
  recvmsg.Set("ok", out.recvmsgOk);
  o.Set("recvmsg", recvmsg);
  o.Set("received", out.received);
  o.Set("expected", out.expected);
  o.Set("bytesOk", out.bytesOk);
  o.Set("lengthsOk", out.lengthsOk);
  o.Set("sourceOk", out.sourceOk);
  Napi::Array mm = Napi::Array::New(env, out.mismatches.size());
  for (size_t i = 0; i < out.mismatches.size(); i++) mm.Set(static_cast<uint32_t>(i), out.mismatches[i]);
  o.Set("mismatches", mm);
  o.Set("elapsedUs", static_cast<double>(out.elapsedUs));
  return o;
}

// ---------------------------------------------------------------------------
// Exported functions
// ---------------------------------------------------------------------------
Napi::Object NameTable(Napi::Env env, const abi::NamedValue* table, size_t n) {
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < n; i++) o.Set(table[i].name, table[i].value);
  return o;
}

Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("sqeSize", static_cast<uint32_t>(sizeof(abi::io_uring_sqe)));
  o.Set("cqeSize", static_cast<uint32_t>(sizeof(abi::io_uring_cqe)));
  o.Set("paramsSize", static_cast<uint32_t>(sizeof(abi::io_uring_params)));
  o.Set("sqOffsetsSize", static_cast<uint32_t>(sizeof(abi::io_sqring_offsets)));
  o.Set("cqOffsetsSize", static_cast<uint32_t>(sizeof(abi::io_cqring_offsets)));
  o.Set("pageSize", static_cast<double>(sys::PageSize()));
  Napi::Object sqe = Napi::Object::New(env);
  sqe.Set("opcode", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, opcode)));
  sqe.Set("flags", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, flags)));
  sqe.Set("ioprio", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, ioprio)));
  sqe.Set("fd", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, fd)));
  sqe.Set("off", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, off)));
  sqe.Set("addr", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, addr)));
  sqe.Set("len", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, len)));
  sqe.Set("msg_flags", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, msg_flags)));
  sqe.Set("user_data", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, user_data)));
  sqe.Set("buf_index", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, buf_index)));
  sqe.Set("personality", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, personality)));
  sqe.Set("splice_fd_in", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, splice_fd_in)));
  sqe.Set("addr3", static_cast<uint32_t>(offsetof(abi::io_uring_sqe, addr3)));
  o.Set("sqeOffsets", sqe);
  Napi::Object cqe = Napi::Object::New(env);
  cqe.Set("user_data", static_cast<uint32_t>(offsetof(abi::io_uring_cqe, user_data)));
  cqe.Set("res", static_cast<uint32_t>(offsetof(abi::io_uring_cqe, res)));
  cqe.Set("flags", static_cast<uint32_t>(offsetof(abi::io_uring_cqe, flags)));
  o.Set("cqeOffsets", cqe);
  o.Set("setupFlags", NameTable(env, abi::kSetupFlagNames, sizeof(abi::kSetupFlagNames) / sizeof(abi::kSetupFlagNames[0])));
  o.Set("features", NameTable(env, abi::kFeatureNames, sizeof(abi::kFeatureNames) / sizeof(abi::kFeatureNames[0])));
  o.Set("opcodes", NameTable(env, abi::kOpcodeNames, sizeof(abi::kOpcodeNames) / sizeof(abi::kOpcodeNames[0])));
  o.Set("registerOps",
        NameTable(env, abi::kRegisterOpNames, sizeof(abi::kRegisterOpNames) / sizeof(abi::kRegisterOpNames[0])));
  return o;
}

constexpr double kMaxEntries = 32768;  // the kernel's IORING_MAX_ENTRIES
constexpr double kMaxTimeoutMs = 600000;

Napi::Value RingLadder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Reader r = Reader::Args(info, "ringLadder", true);
  probe::RingLadderInput in;
  std::string kind;
  uint32_t pool = uring::kDefaultRecvPoolSize, bufSize = uring::kDefaultRecvBufferSize;
  r.OneOf("kind", {"send", "recv"}, &kind, true);
  r.Uint("entries", &in.entries, 0, kMaxEntries);
  r.Uint("poolSize", &pool, 0, 1u << 20);
  r.Uint("bufferSize", &bufSize, 1, 65536);
  r.Bool("registerMaxWorkers", &in.registerMaxWorkers);
  r.Bool("holdSendRing", &in.holdSendRing);
  r.UintArray("flagSets", &in.flagSets, 1, uring::kMaxFlagSets, 0, 4294967295.0);
  if (!r.ok()) return r.Reject();
  in.recv = kind == "recv";
  in.poolSize = static_cast<int>(pool);
  in.bufferSize = static_cast<int>(bufSize);
  return Queue<probe::RingLadderOutput>(env, [in](probe::RingLadderOutput* out) { probe::RingLadder(in, out); },
                                        BuildRingLadder);
}

Napi::Value MappingCompare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t entries = 8;
  bool otherRing = false;
  Reader r = Reader::Args(info, "mappingCompare", false);
  r.Uint("entries", &entries, 1, kMaxEntries);
  r.Bool("singleFromOtherRing", &otherRing);
  if (!r.ok()) return r.Reject();
  return Queue<probe::MappingCompareOutput>(
      env, [entries, otherRing](probe::MappingCompareOutput* out) { probe::MappingCompare(entries, otherRing, out); },
      BuildMappingCompare);
}

Napi::Value ParamsLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t room = 0;
  Reader r = Reader::Args(info, "paramsLayout", false);
  if (!r.Uint("room", &room, 0, probe::kParamsWindow)) return r.Reject();
  return Queue<probe::ParamsLayoutOutput>(
      env, [room](probe::ParamsLayoutOutput* out) { probe::ParamsLayout(static_cast<int>(room), out); },
      BuildParamsLayout);
}

Napi::Value ProbeOpcodes(const Napi::CallbackInfo& info) {
  return Queue<probe::OpcodeProbeOutput>(
      info.Env(), [](probe::OpcodeProbeOutput* out) { probe::ProbeOpcodes(out); }, BuildOpcodes);
}

Napi::Value MultishotRecvmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t timeoutMs = uring::kDefaultWaitTimeoutMs;
  Reader r = Reader::Args(info, "multishotRecvmsg", false);
  if (!r.Uint("timeoutMs", &timeoutMs, 1, kMaxTimeoutMs)) return r.Reject();
  return Queue<probe::MultishotOutput>(
      env, [timeoutMs](probe::MultishotOutput* out) { probe::MultishotRecvmsg(static_cast<int>(timeoutMs), out); },
      BuildMultishot);
}

Napi::Value TrySetupFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t flags = 0, entries = 8, cqEntries = 0;
  bool userMemory = false;
  Reader r = Reader::Args(info, "trySetupFlags", true);
  r.Uint("flags", &flags, 0, 4294967295.0, true);
  r.Uint("entries", &entries, 1, kMaxEntries);
  r.Uint("cqEntries", &cqEntries, 1, kMaxEntries * 2);
  r.Bool("userMemory", &userMemory);
  if (!r.ok()) return r.Reject();
  return Queue<probe::SetupFlagOutput>(
      env,
      [flags, entries, cqEntries, userMemory](probe::SetupFlagOutput* out) {
        probe::TrySetupFlags(flags, entries, cqEntries, userMemory, out);
      },
      BuildSetupFlag);
}

Napi::Value SingleIssuerCrossThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t extraFlags = 0;
  Reader r = Reader::Args(info, "singleIssuerCrossThread", false);
  if (!r.Uint("extraFlags", &extraFlags, 0, 4294967295.0)) return r.Reject();
  return Queue<probe::SingleIssuerOutput>(
      env, [extraFlags](probe::SingleIssuerOutput* out) { probe::SingleIssuerCrossThread(extraFlags, out); },
      BuildSingleIssuer);
}

Napi::Value Loopback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  probe::LoopbackInput in;
  uint32_t family = 0, batch = 0, pool = uring::kDefaultRecvPoolSize, timeoutMs = uring::kDefaultWaitTimeoutMs;
  Reader r = Reader::Args(info, "loopback", true);
  if (r.Uint("family", &family, 4, 6, true) && family != 4 && family != 6) r.Fail("loopback: options.family must be 4 or 6");
  in.family = static_cast<int>(family);
  r.UintArray("sizes", &in.sizes, 0, 4096, probe::kLoopbackMinSize, probe::LoopbackMaxSize(in.family), true);
  r.Uint("batch", &batch, 0, 4096, true);
  r.Uint("poolSize", &pool, 1, uring::kMaxRecvPoolSize);
  r.Uint("timeoutMs", &timeoutMs, 1, kMaxTimeoutMs);
  r.Bool("forcePollWait", &in.forcePollWait);
  if (!r.ok()) return r.Reject();
  in.batch = batch;
  in.poolSize = static_cast<int>(pool);
  in.timeoutMs = static_cast<int>(timeoutMs);
  return Queue<probe::LoopbackOutput>(env, [in](probe::LoopbackOutput* out) { probe::Loopback(in, out); },
                                      BuildLoopback);
}

// ---------------------------------------------------------------------------
// The service's context (issue 7): breadcrumb page, seccomp compile, context thread, memlock.
// ---------------------------------------------------------------------------
runctx::Context gWho;  // ids and caps of the configured context (for the memlock probe)

using napiu::ThrowTypeError;

Napi::Array StringArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) a.Set(static_cast<uint32_t>(i), items[i]);
  return a;
}

Napi::Value SetBreadcrumbFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(env, "setBreadcrumbFd: fd must be a number");
  return Napi::Number::New(env, breadcrumb::Attach(info[0].As<Napi::Number>().Int32Value()));
}

// A u64 given as a decimal string ('infinity' = all ones when allowed).
bool ParseU64(const Napi::Value& v, bool allowInfinity, uint64_t* out) {
  if (!v.IsString()) return false;
  std::string t = v.As<Napi::String>().Utf8Value();
  if (allowInfinity && t == "infinity") {
    *out = UINT64_MAX;
    return true;
  }
  if (t.empty() || t.size() > 20) return false;
  uint64_t n = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

bool ParseAction(const Napi::Value& v, seccompc::Action* out) {
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value kind = o.Get("kind");
  if (!kind.IsString()) return false;
  std::string k = kind.As<Napi::String>().Utf8Value();
  static const std::pair<const char*, seccompc::Act> kKinds[] = {
      {"allow", seccompc::Act::Allow},         {"errno", seccompc::Act::Errno},
      {"kill-process", seccompc::Act::KillProcess}, {"kill-thread", seccompc::Act::KillThread},
      {"trap", seccompc::Act::Trap},           {"trace", seccompc::Act::Trace},
      {"log", seccompc::Act::Log},             {"notify", seccompc::Act::Notify},
  };
  bool found = false;
  for (const auto& kv : kKinds) {
    if (k == kv.first) {
      out->act = kv.second;
      found = true;
    }
  }
  if (!found) return false;
  Napi::Value data = o.Get("data");
  out->data = data.IsNumber() ? data.As<Napi::Number>().Uint32Value() : (out->act == seccompc::Act::Errno ? 1 : 0);
  return true;
}

// compileSeccomp(spec): a FilterSpec (src/context/filter-spec.ts) -> BPF via libseccomp.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& m) { return ThrowTypeError(env, "compileSeccomp: " + m); };
  if (info.Length() < 1 || !info[0].IsObject()) return fail("spec must be an object");
  Napi::Object spec = info[0].As<Napi::Object>();
  seccompc::Spec in;
  if (!ParseAction(spec.Get("defaultAction"), &in.defaultAction)) return fail("spec.defaultAction is not an action");
  Napi::Value rulesV = spec.Get("rules");
  if (!rulesV.IsArray()) return fail("spec.rules must be an array");
  Napi::Array rules = rulesV.As<Napi::Array>();
  static const char* kOps[] = {"", "NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"};
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Value rv = rules.Get(i);
    if (!rv.IsObject()) return fail("spec.rules[" + std::to_string(i) + "] must be an object");
    Napi::Object r = rv.As<Napi::Object>();
    seccompc::Action action;
    if (!ParseAction(r.Get("action"), &action)) return fail("spec.rules[" + std::to_string(i) + "].action is not an action");
    std::vector<seccompc::ArgCmp> args;
    Napi::Value argsV = r.Get("args");
    if (argsV.IsArray()) {
      Napi::Array a = argsV.As<Napi::Array>();
      for (uint32_t j = 0; j < a.Length(); j++) {
        Napi::Value av = a.Get(j);
        if (!av.IsObject()) return fail("spec.rules[" + std::to_string(i) + "].args must hold objects");
        Napi::Object ao = av.As<Napi::Object>();
        seccompc::ArgCmp c{};
        Napi::Value idx = ao.Get("index");
        Napi::Value op = ao.Get("op");
        if (!idx.IsNumber() || !op.IsString()) return fail("spec.rules[" + std::to_string(i) + "].args: index and op");
        c.index = idx.As<Napi::Number>().Uint32Value();
        std::string ops = op.As<Napi::String>().Utf8Value();
        for (uint32_t k = 1; k < 8; k++) {
          if (ops == kOps[k]) c.op = k;
        }
        if (c.op == 0 || c.index > 5 || !ParseU64(ao.Get("value"), false, &c.value) ||
            !ParseU64(ao.Get("valueTwo"), false, &c.valueTwo))
          return fail("spec.rules[" + std::to_string(i) + "].args: bad condition");
        args.push_back(c);
      }
    }
    Napi::Value originV = r.Get("origin");
    std::string origin = originV.IsString() ? originV.As<Napi::String>().Utf8Value() : "";
    Napi::Value namesV = r.Get("syscalls");
    if (!namesV.IsArray()) return fail("spec.rules[" + std::to_string(i) + "].syscalls must be an array");
    Napi::Array names = namesV.As<Napi::Array>();
    for (uint32_t j = 0; j < names.Length(); j++) {
      Napi::Value n = names.Get(j);
      if (!n.IsString()) return fail("spec.rules[" + std::to_string(i) + "].syscalls must hold strings");
      in.rules.push_back(seccompc::Rule{n.As<Napi::String>().Utf8Value(), action, args, origin});
    }
  }
  seccompc::Compiled c = seccompc::Compile(in);
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", c.res);
  o.Set("error", c.error);
  o.Set("library", c.library);
  o.Set("bpf", c.bpf.empty() ? env.Null()
                             : static_cast<Napi::Value>(Napi::Buffer<uint8_t>::Copy(env, c.bpf.data(), c.bpf.size())));
  o.Set("unknownSyscalls", StringArray(env, c.unknownSyscalls));
  o.Set("skipped", StringArray(env, c.skipped));
  return o;
}

// setContext({uid, gid, groups, caps, bpf}): the context thread (ids, caps, filter). Returns
// {res, stage}. RLIMIT_MEMLOCK is set apart (setMemlock), after the memlock probe measured.
Napi::Value SetContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& m) { return ThrowTypeError(env, "setContext: " + m); };
  if (info.Length() < 1 || !info[0].IsObject()) return fail("options must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  runctx::Context ctx;
  Napi::Value uid = o.Get("uid");
  if (!uid.IsUndefined()) {
    Napi::Value gid = o.Get("gid");
    Napi::Value groups = o.Get("groups");
    if (!uid.IsNumber() || !gid.IsNumber() || !groups.IsArray()) return fail("uid, gid and groups go together");
    ctx.setIds = true;
    ctx.uid = uid.As<Napi::Number>().Uint32Value();
    ctx.gid = gid.As<Napi::Number>().Uint32Value();
    Napi::Array g = groups.As<Napi::Array>();
    for (uint32_t i = 0; i < g.Length(); i++) {
      if (!g.Get(i).IsNumber()) return fail("groups must be numbers");
      ctx.groups.push_back(g.Get(i).As<Napi::Number>().Uint32Value());
    }
  }
  Napi::Value caps = o.Get("caps");
  if (!caps.IsUndefined()) {
    if (!ParseU64(caps, false, &ctx.caps)) return fail("caps must be a decimal string (a u64 bit mask)");
    ctx.setCaps = true;
  }
  Napi::Value bpf = o.Get("bpf");
  if (!bpf.IsUndefined() && !bpf.IsNull()) {
    if (!bpf.IsBuffer()) return fail("bpf must be a Buffer");
    Napi::Buffer<uint8_t> b = bpf.As<Napi::Buffer<uint8_t>>();
    ctx.bpf.assign(b.Data(), b.Data() + b.Length());
  }
  Napi::Object result = Napi::Object::New(env);
  if (!ctx.bpf.empty()) {
    // A kill action dumps core like a crash would; the report is what we want, not a core file.
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  std::string stage;
  int r = 0;
  if (ctx.setIds || ctx.setCaps || !ctx.bpf.empty()) r = runctx::Configure(ctx, &stage);
  if (r == 0) {
    gWho = ctx;
    gWho.bpf.clear();
  }
  result.Set("res", r);
  result.Set("stage", stage);
  return result;
}

// setMemlock(soft, hard): RLIMIT_MEMLOCK of this (probe) process; decimal strings or 'infinity'.
Napi::Value SetMemlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t s = 0, h = 0;
  if (info.Length() < 2 || !ParseU64(info[0], true, &s) || !ParseU64(info[1], true, &h) || s > h)
    return ThrowTypeError(env, "setMemlock: soft and hard must be decimal strings or 'infinity', soft <= hard");
  struct rlimit rl = {s == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(s),
                      h == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(h)};
  return Napi::Number::New(env, sys::Setrlimit(RLIMIT_MEMLOCK, &rl));
}

Napi::Value BuildMemlock(Napi::Env env, const probe::MemlockOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  auto u64 = [&](uint64_t v) -> Napi::Value {
    return v == UINT64_MAX ? static_cast<Napi::Value>(Napi::String::New(env, "infinity"))
                           : static_cast<Napi::Value>(Napi::Number::New(env, static_cast<double>(v)));
  };
  o.Set("res", out.res);
  o.Set("stage", out.stage);
  o.Set("pageSize", static_cast<double>(out.pageSize));
  o.Set("softLimit", u64(out.softLimit));
  o.Set("hardLimit", u64(out.hardLimit));
  o.Set("chargeTestRes", out.chargeTestRes);
  o.Set("scanned", out.scanned);
  o.Set("scanRes", out.scanRes);
  o.Set("scanLimitPages", out.scanLimitPages);
  o.Set("sendThreshold", out.sendThreshold);
  o.Set("pairThreshold", out.pairThreshold);
  o.Set("thirdThreshold", out.thirdThreshold);
  o.Set("attempts", out.attempts);
  o.Set("scanUs", static_cast<double>(out.scanUs));
  o.Set("sendGeometryPages", out.sendGeometryPages);
  o.Set("recvGeometryPages", out.recvGeometryPages);
  return o;
}

// memlockProbe({sendEntries, recvEntries, scanLimitBytes}): runs on its own thread as the
// configured user (not on the context thread: it must raise the hard limit first, as root).
Napi::Value MemlockProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  probe::MemlockInput in;
  uint32_t limitMiB = 64;
  Reader r = Reader::Args(info, "memlockProbe", false);
  r.Uint("sendEntries", &in.sendEntries, 1, kMaxEntries);
  r.Uint("recvEntries", &in.recvEntries, 1, kMaxEntries);
  r.Uint("scanLimitMiB", &limitMiB, 1, 4096);
  if (!r.ok()) return r.Reject();
  in.who = gWho;
  in.scanLimitBytes = static_cast<uint64_t>(limitMiB) << 20;
  return Queue<probe::MemlockOutput>(env, [in](probe::MemlockOutput* out) { probe::MemlockProbe(in, out); },
                                     BuildMemlock, false);
}

Napi::Value RingLedgerStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ledger::Stats s = ledger::GetStats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("retries", static_cast<double>(s.retries));
  o.Set("waitedMs", static_cast<double>(s.waitedUs) / 1000.0);
  o.Set("recovered", static_cast<double>(s.recovered));
  return o;
}


Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Function::New(env, Abi, "abi"));
  exports.Set("ringLadder", Napi::Function::New(env, RingLadder, "ringLadder"));
  exports.Set("mappingCompare", Napi::Function::New(env, MappingCompare, "mappingCompare"));
  exports.Set("paramsLayout", Napi::Function::New(env, ParamsLayout, "paramsLayout"));
  exports.Set("probeOpcodes", Napi::Function::New(env, ProbeOpcodes, "probeOpcodes"));
  exports.Set("multishotRecvmsg", Napi::Function::New(env, MultishotRecvmsg, "multishotRecvmsg"));
  exports.Set("trySetupFlags", Napi::Function::New(env, TrySetupFlags, "trySetupFlags"));
  exports.Set("singleIssuerCrossThread", Napi::Function::New(env, SingleIssuerCrossThread, "singleIssuerCrossThread"));
  exports.Set("loopback", Napi::Function::New(env, Loopback, "loopback"));
  exports.Set("setBreadcrumbFd", Napi::Function::New(env, SetBreadcrumbFd, "setBreadcrumbFd"));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp, "compileSeccomp"));
  exports.Set("setContext", Napi::Function::New(env, SetContext, "setContext"));
  exports.Set("setMemlock", Napi::Function::New(env, SetMemlock, "setMemlock"));
  exports.Set("memlockProbe", Napi::Function::New(env, MemlockProbe, "memlockProbe"));
  exports.Set("ringLedgerStats", Napi::Function::New(env, RingLedgerStats, "ringLedgerStats"));
  RegisterTestScenarios(env, exports);  // test-only entry points (test_scenarios.h)
#ifdef URING_PROBE_HAS_BENCH
  RegisterBench(env, exports);
#else
  exports.Set("bench", env.Null());
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(uring_probe, Init)
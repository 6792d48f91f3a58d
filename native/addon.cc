// N-API glue: argument checks, AsyncWorkers running probe_ops off the JS thread, results as JS objects.
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

#if __has_include("bench/bench_addon.h")
#include "bench/bench_addon.h"
#define URING_PROBE_HAS_BENCH 1
#endif

namespace {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
std::string ErrnoName(int err) { return errname::Name(err); }

// A Node-style error: message "<syscall>: <strerror>", code 'EINVAL', errno -22, syscall.
Napi::Error NodeError(Napi::Env env, const char* syscall, int negErrno) {
  const int err = negErrno < 0 ? -negErrno : negErrno;
  std::string message = std::string(syscall) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Value RejectedWith(Napi::Env env, const Napi::Error& error) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(error.Value());
  return d.Promise();
}

// A getter (or Proxy trap) on the options threw while we read them: reject with that exception
// instead of queueing work with a half-read input (N-API calls after it fail).
Napi::Value RejectTypeError(Napi::Env env, const std::string& message) {
  if (env.IsExceptionPending()) return RejectedWith(env, env.GetAndClearPendingException());
  return RejectedWith(env, Napi::TypeError::New(env, message));
}

// Which outputs carry an internal failure.
const probe::InternalError* InternalOf(const probe::RingLadderOutput& o) { return &o.internal; }
const probe::InternalError* InternalOf(const probe::SingleIssuerOutput& o) { return &o.internal; }
const probe::InternalError* InternalOf(const probe::LoopbackOutput& o) { return &o.internal; }
template <typename T>
const probe::InternalError* InternalOf(const T&) {
  return nullptr;
}

// ---------------------------------------------------------------------------
// One AsyncWorker for every operation: Execute runs the plain C++ operation on a libuv
// worker thread; OnOK (JS thread) turns the result struct into a JS object. Kernel operations
// run on the service's context thread when one was configured (run_context.h); the worker
// waits for them there.
// ---------------------------------------------------------------------------
template <typename Out>
class OperationWorker : public Napi::AsyncWorker {
 public:
  using Run = std::function<void(Out*)>;
  using Build = Napi::Value (*)(Napi::Env, const Out&);

  OperationWorker(Napi::Env env, Run run, Build build, bool inContext)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        run_(std::move(run)),
        build_(build),
        inContext_(inContext) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (!inContext_) {
      run_(&out_);
      return;
    }
    if (runctx::Run([this] { run_(&out_); }) == -EOWNERDEAD) runctx::DieOfThreadKill();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    const probe::InternalError* internal = InternalOf(out_);
    if (internal && internal->syscall) {
      deferred_.Reject(NodeError(env, internal->syscall, internal->err).Value());
      return;
    }
    deferred_.Resolve(build_(env, out_));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Run run_;
  Build build_;
  bool inContext_;
  Out out_{};
};

template <typename Out>
Napi::Value Queue(Napi::Env env, typename OperationWorker<Out>::Run run, typename OperationWorker<Out>::Build build,
                  bool inContext = true) {
  if (env.IsExceptionPending()) return RejectedWith(env, env.GetAndClearPendingException());
  auto* worker = new OperationWorker<Out>(env, std::move(run), build, inContext);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ---------------------------------------------------------------------------
// Argument helpers. Each returns false and fills `error` on a bad value.
// ---------------------------------------------------------------------------
bool OptionsObject(const Napi::CallbackInfo& info, bool required, Napi::Object* out, std::string* error,
                   const char* fn) {
  if (info.Length() < 1 || info[0].IsUndefined()) {
    if (required) {
      *error = std::string(fn) + ": an options object is required";
      return false;
    }
    *out = Napi::Object::New(info.Env());
    return true;
  }
  if (!info[0].IsObject() || info[0].IsArray()) {
    *error = std::string(fn) + ": options must be an object";
    return false;
  }
  *out = info[0].As<Napi::Object>();
  return true;
}

bool GetUint(const Napi::Object& o, const char* key, bool required, double min, double max, uint32_t* out,
             std::string* error, const char* fn) {
  Napi::Value v = o.Get(key);
  if (v.IsEmpty()) return false;  // the getter threw (pending exception)
  if (v.IsUndefined()) {
    if (!required) return true;
    *error = std::string(fn) + ": options." + key + " is required";
    return false;
  }
  if (!v.IsNumber()) {
    *error = std::string(fn) + ": options." + key + " must be a number";
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    *error = std::string(fn) + ": options." + key + " must be an integer from " + std::to_string(static_cast<uint64_t>(min)) +
             " to " + std::to_string(static_cast<uint64_t>(max));
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool GetBool(const Napi::Object& o, const char* key, bool* out, std::string* error, const char* fn) {
  Napi::Value v = o.Get(key);
  if (v.IsEmpty()) return false;  // the getter threw (pending exception)
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) {
    *error = std::string(fn) + ": options." + key + " must be a boolean";
    return false;
  }
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool GetUintArray(const Napi::Object& o, const char* key, size_t minLen, size_t maxLen, double min, double max,
                  std::vector<uint32_t>* out, std::string* error, const char* fn) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) {
    *error = std::string(fn) + ": options." + key + " must be an array of integers";
    return false;
  }
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() < minLen || a.Length() > maxLen) {
    *error = std::string(fn) + ": options." + key + " must have " + std::to_string(minLen) + " to " +
             std::to_string(maxLen) + " entries";
    return false;
  }
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!e.IsNumber() || !(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
      *error = std::string(fn) + ": options." + key + "[" + std::to_string(i) + "] must be an integer from " +
               std::to_string(static_cast<uint64_t>(min)) + " to " + std::to_string(static_cast<uint64_t>(max));
      return false;
    }
    out->push_back(static_cast<uint32_t>(d));
  }
  return true;
}

// ---------------------------------------------------------------------------
// Result builders
// ---------------------------------------------------------------------------
Napi::Value NullOr(Napi::Env env, bool present, const std::function<Napi::Value()>& make) {
  return present ? make() : env.Null();
}

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

Napi::Object CancelReportObject(Napi::Env env, const uring::CancelReport& c);  // below

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
  const char* fn = "ringLadder";
  std::string err;
  Napi::Object o;
  if (!OptionsObject(info, true, &o, &err, fn)) return RejectTypeError(env, err);
  probe::RingLadderInput in;
  Napi::Value kind = o.Get("kind");
  if (!kind.IsString() || (kind.As<Napi::String>().Utf8Value() != "send" && kind.As<Napi::String>().Utf8Value() != "recv"))
    return RejectTypeError(env, "ringLadder: options.kind must be 'send' or 'recv'");
  in.recv = kind.As<Napi::String>().Utf8Value() == "recv";
  uint32_t pool = uring::kDefaultRecvPoolSize, bufSize = uring::kDefaultRecvBufferSize;
  if (!GetUint(o, "entries", false, 0, kMaxEntries, &in.entries, &err, fn) ||
      !GetUint(o, "poolSize", false, 0, 1u << 20, &pool, &err, fn) ||
      !GetUint(o, "bufferSize", false, 1, 65536, &bufSize, &err, fn) ||
      !GetBool(o, "registerMaxWorkers", &in.registerMaxWorkers, &err, fn) ||
      !GetBool(o, "holdSendRing", &in.holdSendRing, &err, fn))
    return RejectTypeError(env, err);
  in.poolSize = static_cast<int>(pool);
  in.bufferSize = static_cast<int>(bufSize);
  if (!o.Get("flagSets").IsUndefined() &&
      !GetUintArray(o, "flagSets", 1, uring::kMaxFlagSets, 0, 4294967295.0, &in.flagSets, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::RingLadderOutput>(env, [in](probe::RingLadderOutput* out) { probe::RingLadder(in, out); },
                                        BuildRingLadder);
}

Napi::Value MappingCompare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "mappingCompare";
  std::string err;
  Napi::Object o;
  uint32_t entries = 8;
  bool otherRing = false;
  if (!OptionsObject(info, false, &o, &err, fn) || !GetUint(o, "entries", false, 1, kMaxEntries, &entries, &err, fn) ||
      !GetBool(o, "singleFromOtherRing", &otherRing, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::MappingCompareOutput>(
      env, [entries, otherRing](probe::MappingCompareOutput* out) { probe::MappingCompare(entries, otherRing, out); },
      BuildMappingCompare);
}

Napi::Value ParamsLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "paramsLayout";
  std::string err;
  Napi::Object o;
  uint32_t room = 0;
  if (!OptionsObject(info, false, &o, &err, fn) ||
      !GetUint(o, "room", false, 0, probe::kParamsWindow, &room, &err, fn))
    return RejectTypeError(env, err);
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
  const char* fn = "multishotRecvmsg";
  std::string err;
  Napi::Object o;
  uint32_t timeoutMs = uring::kDefaultWaitTimeoutMs;
  if (!OptionsObject(info, false, &o, &err, fn) ||
      !GetUint(o, "timeoutMs", false, 1, kMaxTimeoutMs, &timeoutMs, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::MultishotOutput>(
      env, [timeoutMs](probe::MultishotOutput* out) { probe::MultishotRecvmsg(static_cast<int>(timeoutMs), out); },
      BuildMultishot);
}

Napi::Value TrySetupFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "trySetupFlags";
  std::string err;
  Napi::Object o;
  uint32_t flags = 0, entries = 8, cqEntries = 0;
  bool userMemory = false;
  if (!OptionsObject(info, true, &o, &err, fn) || !GetUint(o, "flags", true, 0, 4294967295.0, &flags, &err, fn) ||
      !GetUint(o, "entries", false, 1, kMaxEntries, &entries, &err, fn) ||
      !GetUint(o, "cqEntries", false, 1, kMaxEntries * 2, &cqEntries, &err, fn) ||
      !GetBool(o, "userMemory", &userMemory, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::SetupFlagOutput>(
      env,
      [flags, entries, cqEntries, userMemory](probe::SetupFlagOutput* out) {
        probe::TrySetupFlags(flags, entries, cqEntries, userMemory, out);
      },
      BuildSetupFlag);
}

Napi::Value SingleIssuerCrossThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "singleIssuerCrossThread";
  std::string err;
  Napi::Object o;
  uint32_t extraFlags = 0;
  if (!OptionsObject(info, false, &o, &err, fn) ||
      !GetUint(o, "extraFlags", false, 0, 4294967295.0, &extraFlags, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::SingleIssuerOutput>(
      env, [extraFlags](probe::SingleIssuerOutput* out) { probe::SingleIssuerCrossThread(extraFlags, out); },
      BuildSingleIssuer);
}

Napi::Value Loopback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "loopback";
  std::string err;
  Napi::Object o;
  if (!OptionsObject(info, true, &o, &err, fn)) return RejectTypeError(env, err);
  probe::LoopbackInput in;
  uint32_t family = 0, batch = 0, pool = uring::kDefaultRecvPoolSize, timeoutMs = uring::kDefaultWaitTimeoutMs;
  if (!GetUint(o, "family", true, 4, 6, &family, &err, fn)) return RejectTypeError(env, err);
  if (family != 4 && family != 6) return RejectTypeError(env, "loopback: options.family must be 4 or 6");
  in.family = static_cast<int>(family);
  if (!GetUintArray(o, "sizes", 0, 4096, probe::kLoopbackMinSize, probe::LoopbackMaxSize(in.family), &in.sizes, &err,
                    fn) ||
      !GetUint(o, "batch", true, 0, 4096, &batch, &err, fn) ||
      !GetUint(o, "poolSize", false, 1, uring::kMaxRecvPoolSize, &pool, &err, fn) ||
      !GetUint(o, "timeoutMs", false, 1, kMaxTimeoutMs, &timeoutMs, &err, fn) ||
      !GetBool(o, "forcePollWait", &in.forcePollWait, &err, fn))
    return RejectTypeError(env, err);
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

// A TypeError thrown from a synchronous function: "<fn>: <message>".
Napi::Value ThrowTypeError(Napi::Env env, const char* fn, const std::string& message) {
  Napi::TypeError::New(env, std::string(fn) + ": " + message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Array StringArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); i++) a.Set(static_cast<uint32_t>(i), items[i]);
  return a;
}

Napi::Value SetBreadcrumbFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(env, "setBreadcrumbFd", "fd must be a number");
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
  auto fail = [&](const std::string& m) { return ThrowTypeError(env, "compileSeccomp", m); };
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
  auto fail = [&](const std::string& m) { return ThrowTypeError(env, "setContext", m); };
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
    return ThrowTypeError(env, "setMemlock", "soft and hard must be decimal strings or 'infinity', soft <= hard");
  struct rlimit rl = {s == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(s),
                      h == UINT64_MAX ? RLIM_INFINITY : static_cast<rlim_t>(h)};
  return Napi::Number::New(env, setrlimit(RLIMIT_MEMLOCK, &rl) < 0 ? -errno : 0);
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
  const char* fn = "memlockProbe";
  std::string err;
  Napi::Object o;
  probe::MemlockInput in;
  uint32_t limitMiB = 64;
  if (!OptionsObject(info, false, &o, &err, fn) ||
      !GetUint(o, "sendEntries", false, 1, kMaxEntries, &in.sendEntries, &err, fn) ||
      !GetUint(o, "recvEntries", false, 1, kMaxEntries, &in.recvEntries, &err, fn) ||
      !GetUint(o, "scanLimitMiB", false, 1, 4096, &limitMiB, &err, fn))
    return RejectTypeError(env, err);
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
  const char* fn = "ringFaultScenario";
  std::string err;
  Napi::Object o;
  uint32_t sendEntries = 8, poolSize = 4, singles = 3, batch = 0, batches = 1, after = 3, timeoutMs = 500;
  uint32_t ringFlags = 0, idleMs = 0;  // setup flags ORed into both rings' ladders (SQPOLL); idle before `after`
  if (!OptionsObject(info, false, &o, &err, fn) || !GetUint(o, "sendEntries", false, 1, 4096, &sendEntries, &err, fn) ||
      !GetUint(o, "ringFlags", false, 0, 4294967295.0, &ringFlags, &err, fn) ||
      !GetUint(o, "idleMs", false, 0, 10000, &idleMs, &err, fn) ||
      !GetUint(o, "poolSize", false, 1, 256, &poolSize, &err, fn) ||
      !GetUint(o, "singles", false, 0, 64, &singles, &err, fn) || !GetUint(o, "batch", false, 0, 4096, &batch, &err, fn) ||
      !GetUint(o, "batches", false, 0, 8, &batches, &err, fn) || !GetUint(o, "after", false, 0, 64, &after, &err, fn) ||
      !GetUint(o, "timeoutMs", false, 1, 10000, &timeoutMs, &err, fn)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
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
    struct timespec idle = {static_cast<time_t>(idleMs / 1000), static_cast<long>(idleMs % 1000) * 1000000L};
    while (nanosleep(&idle, &idle) == -1 && errno == EINTR) {
    }
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

Napi::Value CancelAwaitScenario(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cancelAwaitScenario";
  std::string err;
  Napi::Object o;
  uint32_t poolSize = 4, timeoutMs = 100, settleMs = 50;
  bool forceAsync = false, sendRingMode = false;
  if (!OptionsObject(info, false, &o, &err, fn) || !GetUint(o, "poolSize", false, 1, 256, &poolSize, &err, fn) ||
      !GetUint(o, "timeoutMs", false, 1, 10000, &timeoutMs, &err, fn) ||
      !GetUint(o, "settleMs", false, 0, 5000, &settleMs, &err, fn) ||
      !GetBool(o, "forceAsync", &forceAsync, &err, fn) || !GetBool(o, "sendRing", &sendRingMode, &err, fn)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  auto fail = [&](const char* stage, int res) {
    out.Set("stage", stage);
    out.Set("res", res);
    return out;
  };
  auto sleepMs = [](uint32_t ms) {
    struct timespec t = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
    }
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
    sleepMs(settleMs);  // let the receives reach io-wq / their poll wait
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
  sleepMs(settleMs);
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
  std::string err;
  Napi::Object o;
  uint32_t value = 0;
  if (!OptionsObject(info, false, &o, &err, fn) || !GetUint(o, "value", false, 0, 4294967295.0, &value, &err, fn)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto str = [&](const char* key) -> std::string {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  };
  const std::string mutate = str("mutate");
  const std::string mode = str("mode").empty() ? "check" : str("mode");
  if (mode != "check" && mode != "map") {
    Napi::TypeError::New(env, std::string(fn) + ": options.mode must be 'check' or 'map'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
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
    Napi::TypeError::New(env, std::string(fn) + ": unknown options.mutate '" + mutate + "'").ThrowAsJavaScriptException();
    return env.Undefined();
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
  exports.Set("ringFaultScenario", Napi::Function::New(env, RingFaultScenario, "ringFaultScenario"));
  exports.Set("ringLedgerStats", Napi::Function::New(env, RingLedgerStats, "ringLedgerStats"));
  exports.Set("cancelAwaitScenario", Napi::Function::New(env, CancelAwaitScenario, "cancelAwaitScenario"));
  exports.Set("geometryCheckScenario", Napi::Function::New(env, GeometryCheckScenario, "geometryCheckScenario"));
#ifdef URING_PROBE_HAS_BENCH
  RegisterBench(env, exports);
#else
  exports.Set("bench", env.Null());
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(uring_probe, Init)

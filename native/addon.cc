// N-API glue: argument checks, AsyncWorkers running probe_ops off the JS thread, results as JS objects.
#include <napi.h>

#include <string.h>

#include <functional>
#include <string>
#include <utility>

#include "abi.h"
#include "probe_ops.h"
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
std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? std::string(name) : std::string("E") + std::to_string(err);
}

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
// worker thread; OnOK (JS thread) turns the result struct into a JS object.
// ---------------------------------------------------------------------------
template <typename Out>
class OperationWorker : public Napi::AsyncWorker {
 public:
  using Run = std::function<void(Out*)>;
  using Build = Napi::Value (*)(Napi::Env, const Out&);

  OperationWorker(Napi::Env env, Run run, Build build)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), run_(std::move(run)), build_(build) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { run_(&out_); }

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
  Out out_{};
};

template <typename Out>
Napi::Value Queue(Napi::Env env, typename OperationWorker<Out>::Run run, typename OperationWorker<Out>::Build build) {
  if (env.IsExceptionPending()) return RejectedWith(env, env.GetAndClearPendingException());
  auto* worker = new OperationWorker<Out>(env, std::move(run), build);
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
  o.Set("maxWorkers", NullOr(env, rep.maxWorkers.attempted, [&]() -> Napi::Value {
          Napi::Object mw = Napi::Object::New(env);
          mw.Set("res", rep.maxWorkers.res);
          mw.Set("requested", PairArray(env, rep.maxWorkers.requested[0], rep.maxWorkers.requested[1]));
          mw.Set("previous", rep.maxWorkers.res == 0
                                 ? static_cast<Napi::Value>(PairArray(env, rep.maxWorkers.previous[0], rep.maxWorkers.previous[1]))
                                 : env.Null());
          return mw;
        }));
  o.Set("recvPool", NullOr(env, out.hasRecvPool, [&]() -> Napi::Value {
          Napi::Object rp = Napi::Object::New(env);
          rp.Set("poolSize", out.poolSize);
          rp.Set("queued", out.queued);
          rp.Set("submitRes", out.submitRes);
          return rp;
        }));
  return o;
}

Napi::Value BuildMappingCompare(Napi::Env env, const probe::MappingCompareOutput& out) {
  auto view = [&](const probe::MappingView& v) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("res", v.res);
    o.Set("mapping", v.mapped ? static_cast<Napi::Value>(MappingObject(env, v.mapping)) : env.Null());
    return o;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("res", out.res);
  o.Set("featSingleMmap", out.featSingleMmap);
  o.Set("separate", view(out.separate));
  o.Set("single", view(out.single));
  o.Set("agree", out.agree);
  Napi::Object nop = Napi::Object::New(env);
  nop.Set("res", out.nopRes);
  nop.Set("cqeRes", out.hasCqeRes ? Napi::Number::New(env, out.nopCqeRes) : env.Null());
  o.Set("nopRoundTrip", nop);
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
  return o;
}

Napi::Value BuildSetupFlag(Napi::Env env, const probe::SetupFlagOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("flags", out.flags);
  o.Set("res", out.res);
  o.Set("features", out.features);
  o.Set("sqEntries", out.sqEntries);
  o.Set("cqEntries", out.cqEntries);
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
      !GetBool(o, "registerMaxWorkers", &in.registerMaxWorkers, &err, fn))
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
  if (!OptionsObject(info, false, &o, &err, fn) || !GetUint(o, "entries", false, 1, kMaxEntries, &entries, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::MappingCompareOutput>(
      env, [entries](probe::MappingCompareOutput* out) { probe::MappingCompare(entries, out); }, BuildMappingCompare);
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
  if (!OptionsObject(info, true, &o, &err, fn) || !GetUint(o, "flags", true, 0, 4294967295.0, &flags, &err, fn) ||
      !GetUint(o, "entries", false, 1, kMaxEntries, &entries, &err, fn) ||
      !GetUint(o, "cqEntries", false, 1, kMaxEntries * 2, &cqEntries, &err, fn))
    return RejectTypeError(env, err);
  return Queue<probe::SetupFlagOutput>(
      env,
      [flags, entries, cqEntries](probe::SetupFlagOutput* out) { probe::TrySetupFlags(flags, entries, cqEntries, out); },
      BuildSetupFlag);
}

Napi::Value SingleIssuerCrossThread(const Napi::CallbackInfo& info) {
  return Queue<probe::SingleIssuerOutput>(
      info.Env(), [](probe::SingleIssuerOutput* out) { probe::SingleIssuerCrossThread(out); }, BuildSingleIssuer);
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Function::New(env, Abi, "abi"));
  exports.Set("ringLadder", Napi::Function::New(env, RingLadder, "ringLadder"));
  exports.Set("mappingCompare", Napi::Function::New(env, MappingCompare, "mappingCompare"));
  exports.Set("probeOpcodes", Napi::Function::New(env, ProbeOpcodes, "probeOpcodes"));
  exports.Set("multishotRecvmsg", Napi::Function::New(env, MultishotRecvmsg, "multishotRecvmsg"));
  exports.Set("trySetupFlags", Napi::Function::New(env, TrySetupFlags, "trySetupFlags"));
  exports.Set("singleIssuerCrossThread", Napi::Function::New(env, SingleIssuerCrossThread, "singleIssuerCrossThread"));
  exports.Set("loopback", Napi::Function::New(env, Loopback, "loopback"));
#ifdef URING_PROBE_HAS_BENCH
  RegisterBench(env, exports);
#else
  exports.Set("bench", env.Null());
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(uring_probe, Init)

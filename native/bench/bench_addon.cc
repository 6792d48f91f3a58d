// N-API glue of the throughput engine: argument checks, AsyncWorkers and plain-object results.
#include "run_context.h"
#include "bench/bench_addon.h"

#include <string>

#include "bench/engine.h"

namespace {

// Reads optional unsigned integer options; the first bad one is remembered as a message.
struct OptionReader {
  Napi::Object obj;
  std::string error;

  uint32_t U32(const char* key, uint32_t def, uint32_t min, uint32_t max) {
    if (!error.empty() || !obj.Has(key)) return def;
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined()) return def;
    if (!v.IsNumber()) {
      error = std::string("bench: option '") + key + "' must be a number";
      return def;
    }
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
      error = std::string("bench: option '") + key + "' must be an integer in " + std::to_string(min) + ".." +
              std::to_string(max);
      return def;
    }
    return static_cast<uint32_t>(d);
  }
  bool Bool(const char* key, bool def) {
    if (!error.empty() || !obj.Has(key)) return def;
    Napi::Value v = obj.Get(key);
    if (v.IsUndefined()) return def;
    if (!v.IsBoolean()) {
      error = std::string("bench: option '") + key + "' must be a boolean";
      return def;
    }
    return v.As<Napi::Boolean>().Value();
  }
  std::string Str(const char* key) {
    if (!error.empty()) return "";
    Napi::Value v = obj.Has(key) ? obj.Get(key) : obj.Env().Undefined();
    if (!v.IsString()) {
      error = std::string("bench: option '") + key + "' must be a string";
      return "";
    }
    return v.As<Napi::String>().Utf8Value();
  }
};

// A getter (or Proxy trap) on the options that threw rejects with its own exception.
Napi::Value Rejected(Napi::Env env, const std::string& message) {
  if (env.IsExceptionPending()) {
    Napi::Error thrown = env.GetAndClearPendingException();
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(thrown.Value());
    return d.Promise();
  }
  auto d = Napi::Promise::Deferred::New(env);
  Napi::Error e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_VALUE"));
  d.Reject(e.Value());
  return d.Promise();
}

Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

class ThroughputWorker : public Napi::AsyncWorker {
 public:
  ThroughputWorker(Napi::Env env, const bench::ThroughputConfig& cfg)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), cfg_(cfg) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {  // no JS here; on the service's context thread when one is configured
    if (runctx::Run([this] { bench::RunThroughput(cfg_, &res_); }) == -EOWNERDEAD) runctx::DieOfThreadKill();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("mode", bench::ModeName(cfg_.mode));
    o.Set("size", Num(env, cfg_.size));
    o.Set("res", Num(env, res_.res));
    o.Set("stage", res_.stage ? res_.stage : "done");
    o.Set("skipped", res_.skipped ? Napi::Value(Napi::String::New(env, res_.skipped)) : env.Null());
    o.Set("sent", Num(env, static_cast<double>(res_.sent)));
    o.Set("received", Num(env, static_cast<double>(res_.received)));
    o.Set("corrupt", Num(env, static_cast<double>(res_.corrupt)));
    o.Set("bytesReceived", Num(env, static_cast<double>(res_.bytesReceived)));
    o.Set("sendErrors", Num(env, static_cast<double>(res_.sendErrors)));
    o.Set("sendErrno", Num(env, res_.sendErrno));
    o.Set("rcvbufErrors", res_.rcvbufErrors < 0 ? env.Null() : Num(env, static_cast<double>(res_.rcvbufErrors)));
    o.Set("inErrors", res_.inErrors < 0 ? env.Null() : Num(env, static_cast<double>(res_.inErrors)));
    o.Set("senderElapsedUs", Num(env, static_cast<double>(res_.senderElapsedUs)));
    o.Set("receiveElapsedUs", Num(env, static_cast<double>(res_.receiveElapsedUs)));
    o.Set("senderCpuUs", Num(env, static_cast<double>(res_.senderCpuUs)));
    o.Set("receiverCpuUs", Num(env, static_cast<double>(res_.receiverCpuUs)));
    o.Set("senderCpu", Num(env, res_.senderCpu));
    o.Set("receiverCpu", Num(env, res_.receiverCpu));
    o.Set("sendRingFlags", Num(env, res_.sendRingFlags));
    o.Set("recvRingFlags", Num(env, res_.recvRingFlags));
    o.Set("gsoSegments", Num(env, res_.gsoSegments));
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  bench::ThroughputConfig cfg_;
  bench::ThroughputResult res_;
};

class PingPongWorker : public Napi::AsyncWorker {
 public:
  PingPongWorker(Napi::Env env, const bench::PingPongConfig& cfg)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), cfg_(cfg) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (runctx::Run([this] { bench::RunPingPong(cfg_, &res_); }) == -EOWNERDEAD) runctx::DieOfThreadKill();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("mode", cfg_.mode == bench::PingPongMode::Seed ? "seed" : "syscall");
    o.Set("size", Num(env, cfg_.size));
    o.Set("res", Num(env, res_.res));
    o.Set("stage", res_.stage ? res_.stage : "done");
    o.Set("rounds", Num(env, static_cast<double>(res_.rounds)));
    o.Set("corrupt", Num(env, static_cast<double>(res_.corrupt)));
    o.Set("timeouts", Num(env, static_cast<double>(res_.timeouts)));
    o.Set("p50Us", Num(env, res_.p50Us));
    o.Set("p99Us", Num(env, res_.p99Us));
    o.Set("minUs", Num(env, res_.minUs));
    o.Set("maxUs", Num(env, res_.maxUs));
    o.Set("meanUs", Num(env, res_.meanUs));
    deferred_.Resolve(o);
  }

 private:
  Napi::Promise::Deferred deferred_;
  bench::PingPongConfig cfg_;
  bench::PingPongResult res_;
};

Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return Rejected(env, "bench.run: expected an options object");
  OptionReader r{info[0].As<Napi::Object>(), ""};
  bench::ThroughputConfig cfg;
  std::string mode = r.Str("mode");
  if (r.error.empty() && !bench::ParseMode(mode.c_str(), &cfg.mode))
    r.error = "bench.run: unknown mode '" + mode + "' (seed, seed-batch, syscall, mmsg, multishot, gso)";
  cfg.size = r.U32("size", cfg.size, bench::kMinSize, bench::kMaxSize);
  cfg.durationMs = r.U32("durationMs", cfg.durationMs, 1, 60000);
  cfg.batch = r.U32("batch", cfg.batch, 1, bench::kMaxBatch);
  cfg.depth = r.U32("depth", cfg.depth, 1, bench::kMaxDepth);
  cfg.extraRingFlags = r.U32("ringFlags", 0, 0, 0xffffffffu);
  cfg.rcvbuf = static_cast<int>(r.U32("rcvbuf", static_cast<uint32_t>(cfg.rcvbuf), 0, 1u << 30));
  cfg.stallMs = r.U32("stallMs", 0, 0, 10000);
  cfg.inject = r.U32("inject", 0, 0, bench::kMaxInject);
  cfg.pin = r.Bool("pin", true);
  if (!r.error.empty() || env.IsExceptionPending()) return Rejected(env, r.error);
  auto* w = new ThroughputWorker(env, cfg);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value PingPong(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return Rejected(env, "bench.pingPong: expected an options object");
  OptionReader r{info[0].As<Napi::Object>(), ""};
  bench::PingPongConfig cfg;
  std::string mode = r.Str("mode");
  if (r.error.empty()) {
    if (mode == "seed") cfg.mode = bench::PingPongMode::Seed;
    else if (mode == "syscall") cfg.mode = bench::PingPongMode::Syscall;
    else r.error = "bench.pingPong: unknown mode '" + mode + "' (seed, syscall)";
  }
  cfg.size = r.U32("size", cfg.size, bench::kMinSize, bench::kMaxSize);
  cfg.durationMs = r.U32("durationMs", cfg.durationMs, 1, 60000);
  cfg.maxRounds = r.U32("maxRounds", cfg.maxRounds, 1, 5000000);
  cfg.extraRingFlags = r.U32("ringFlags", 0, 0, 0xffffffffu);
  cfg.pin = r.Bool("pin", true);
  if (!r.error.empty() || env.IsExceptionPending()) return Rejected(env, r.error);
  auto* w = new PingPongWorker(env, cfg);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void RegisterBench(Napi::Env env, Napi::Object exports) {
  Napi::Object b = Napi::Object::New(env);
  b.Set("run", Napi::Function::New(env, Run, "run"));
  b.Set("pingPong", Napi::Function::New(env, PingPong, "pingPong"));
  Napi::Array modes = Napi::Array::New(env);
  const bench::Mode all[] = {bench::Mode::Seed, bench::Mode::SeedBatch, bench::Mode::Syscall,
                             bench::Mode::Mmsg, bench::Mode::Multishot, bench::Mode::Gso};
  for (uint32_t i = 0; i < 6; i++) modes.Set(i, bench::ModeName(all[i]));
  b.Set("modes", modes);
  b.Set("minSize", Napi::Number::New(env, bench::kMinSize));
  b.Set("maxSize", Napi::Number::New(env, bench::kMaxSize));
  exports.Set("bench", b);
}

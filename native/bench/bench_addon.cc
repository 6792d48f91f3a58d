// N-API glue of the throughput engine: options (napi_util.h Reader), napiu::Queue, plain-object results.
#include "bench/bench_addon.h"

#include <string>

#include "bench/engine.h"
#include "napi_util.h"

namespace {

// Option messages read "bench: option 'size' must be ..."; rejections carry code ERR_INVALID_ARG_VALUE.
constexpr const char* kInvalidArg = "ERR_INVALID_ARG_VALUE";

Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

Napi::Value BuildThroughput(Napi::Env env, const bench::ThroughputConfig& cfg, const bench::ThroughputResult& res) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", bench::ModeName(cfg.mode));
  o.Set("size", Num(env, cfg.size));
  o.Set("res", Num(env, res.res));
  o.Set("stage", res.stage ? res.stage : "done");
  o.Set("skipped", res.skipped ? Napi::Value(Napi::String::New(env, res.skipped)) : env.Null());
  o.Set("sent", Num(env, static_cast<double>(res.sent)));
  o.Set("received", Num(env, static_cast<double>(res.received)));
  o.Set("corrupt", Num(env, static_cast<double>(res.corrupt)));
  o.Set("bytesReceived", Num(env, static_cast<double>(res.bytesReceived)));
  o.Set("sendErrors", Num(env, static_cast<double>(res.sendErrors)));
  o.Set("sendErrno", Num(env, res.sendErrno));
  o.Set("rcvbufErrors", res.rcvbufErrors < 0 ? env.Null() : Num(env, static_cast<double>(res.rcvbufErrors)));
  o.Set("inErrors", res.inErrors < 0 ? env.Null() : Num(env, static_cast<double>(res.inErrors)));
  o.Set("senderElapsedUs", Num(env, static_cast<double>(res.senderElapsedUs)));
  o.Set("receiveElapsedUs", Num(env, static_cast<double>(res.receiveElapsedUs)));
  o.Set("senderCpuUs", Num(env, static_cast<double>(res.senderCpuUs)));
  o.Set("receiverCpuUs", Num(env, static_cast<double>(res.receiverCpuUs)));
  o.Set("senderCpu", Num(env, res.senderCpu));
  o.Set("receiverCpu", Num(env, res.receiverCpu));
  o.Set("sendRingFlags", Num(env, res.sendRingFlags));
  o.Set("recvRingFlags", Num(env, res.recvRingFlags));
  o.Set("gsoSegments", Num(env, res.gsoSegments));
  return o;
}

Napi::Value BuildPingPong(Napi::Env env, const bench::PingPongConfig& cfg, const bench::PingPongResult& res) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", cfg.mode == bench::PingPongMode::Seed ? "seed" : "syscall");
  o.Set("size", Num(env, cfg.size));
  o.Set("res", Num(env, res.res));
  o.Set("stage", res.stage ? res.stage : "done");
  o.Set("rounds", Num(env, static_cast<double>(res.rounds)));
  o.Set("corrupt", Num(env, static_cast<double>(res.corrupt)));
  o.Set("timeouts", Num(env, static_cast<double>(res.timeouts)));
  o.Set("p50Us", Num(env, res.p50Us));
  o.Set("p99Us", Num(env, res.p99Us));
  o.Set("minUs", Num(env, res.minUs));
  o.Set("maxUs", Num(env, res.maxUs));
  o.Set("meanUs", Num(env, res.meanUs));
  return o;
}

// bench.run(options): one throughput run, on the service's context thread when one is configured.
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    return napiu::RejectTypeError(env, "bench.run: expected an options object", kInvalidArg);
  napiu::Reader r(info[0].As<Napi::Object>(), "bench", napiu::Reader::Quoted);
  bench::ThroughputConfig cfg;
  std::string mode;
  if (r.Str("mode", &mode, true) && !bench::ParseMode(mode.c_str(), &cfg.mode))
    r.Fail("bench.run: unknown mode '" + mode + "' (seed, seed-batch, syscall, mmsg, multishot, gso)");
  uint32_t rcvbuf = static_cast<uint32_t>(cfg.rcvbuf);
  r.Uint("size", &cfg.size, bench::kMinSize, bench::kMaxSize);
  r.Uint("durationMs", &cfg.durationMs, 1, 60000);
  r.Uint("batch", &cfg.batch, 1, bench::kMaxBatch);
  r.Uint("depth", &cfg.depth, 1, bench::kMaxDepth);
  r.Uint("ringFlags", &cfg.extraRingFlags, 0, 0xffffffffu);
  r.Uint("rcvbuf", &rcvbuf, 0, 1u << 30);
  r.Uint("stallMs", &cfg.stallMs, 0, 10000);
  r.Uint("inject", &cfg.inject, 0, bench::kMaxInject);
  r.Bool("pin", &cfg.pin);
  if (!r.ok()) return r.Reject(kInvalidArg);
  cfg.rcvbuf = static_cast<int>(rcvbuf);
  return napiu::Queue<bench::ThroughputResult>(
      env, [cfg](bench::ThroughputResult* res) { bench::RunThroughput(cfg, res); },
      [cfg](Napi::Env e, const bench::ThroughputResult& res) { return BuildThroughput(e, cfg, res); });
}

// bench.pingPong(options): one request/response latency run.
Napi::Value PingPong(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    return napiu::RejectTypeError(env, "bench.pingPong: expected an options object", kInvalidArg);
  napiu::Reader r(info[0].As<Napi::Object>(), "bench", napiu::Reader::Quoted);
  bench::PingPongConfig cfg;
  std::string mode;
  if (r.Str("mode", &mode, true)) {
    if (mode == "seed") cfg.mode = bench::PingPongMode::Seed;
    else if (mode == "syscall") cfg.mode = bench::PingPongMode::Syscall;
    else r.Fail("bench.pingPong: unknown mode '" + mode + "' (seed, syscall)");
  }
  r.Uint("size", &cfg.size, bench::kMinSize, bench::kMaxSize);
  r.Uint("durationMs", &cfg.durationMs, 1, 60000);
  r.Uint("maxRounds", &cfg.maxRounds, 1, 5000000);
  r.Uint("ringFlags", &cfg.extraRingFlags, 0, 0xffffffffu);
  r.Bool("pin", &cfg.pin);
  if (!r.ok()) return r.Reject(kInvalidArg);
  return napiu::Queue<bench::PingPongResult>(
      env, [cfg](bench::PingPongResult* res) { bench::RunPingPong(cfg, res); },
      [cfg](Napi::Env e, const bench::PingPongResult& res) { return BuildPingPong(e, cfg, res); });
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

// The one N-API helper set of the addon (addon.cc, test_scenarios.cc, bench/bench_addon.cc): reading an
// options object, rejecting/throwing TypeErrors and Node-style errors, and running native work off
// the JS thread (Queue). No C++ exceptions: a getter or Proxy trap that throws while options are
// read leaves its exception pending, and the rejection (or throw) is that exception.
#pragma once

#include <napi.h>

#include <errno.h>
#include <stdint.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "run_context.h"

namespace napiu {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------
// A Node-style error: message "<syscall>: <strerror>", code 'EINVAL', errno -22, syscall.
Napi::Error NodeError(Napi::Env env, const char* syscall, int negErrno);

// A promise rejected with `error`.
Napi::Value Rejected(Napi::Env env, const Napi::Error& error);

// A promise rejected with the pending exception (a getter or Proxy trap threw) when there is one,
// else with a TypeError(message), with `code` set when given.
Napi::Value RejectTypeError(Napi::Env env, const std::string& message, const char* code = nullptr);

// The synchronous form: throws TypeError(message) unless an exception is already pending; returns undefined.
Napi::Value ThrowTypeError(Napi::Env env, const std::string& message);

// ---------------------------------------------------------------------------
// Options. A Reader reads one options object; the first bad value (or a getter that threw) stops
// it: later reads leave their outputs as they are and make no N-API call. Outputs keep their
// defaults when the option is undefined and not required.
// Messages: "<prefix>: options.<key> must be ..." (Dotted), or bench's "<prefix>: option '<key>'
// must be ..." with ranges written "in <min>..<max>" (Quoted).
// ---------------------------------------------------------------------------
class Reader {
 public:
  enum Naming { Dotted, Quoted };

  Reader(Napi::Object obj, std::string prefix, Naming naming = Dotted)
      : env_(obj.Env()), obj_(obj), prefix_(std::move(prefix)), naming_(naming) {}

  // info[0] as the options object of `fn`: undefined gives an empty object (or, when `required`,
  // "<fn>: an options object is required"); a non-object or an array "<fn>: options must be an object".
  static Reader Args(const Napi::CallbackInfo& info, const char* fn, bool required);

  bool ok() const { return !failed_; }
  const std::string& error() const { return error_; }

  // An integer in [min, max] (undefined: "<key> is required" when `required`).
  bool Uint(const char* key, uint32_t* out, double min, double max, bool required = false);
  bool Bool(const char* key, bool* out);
  // A string (with `required`, undefined too gives "<key> must be a string").
  bool Str(const char* key, std::string* out, bool required = false);
  // One of `allowed` ("<key> must be 'a' or 'b'"; with `required`, undefined too).
  bool OneOf(const char* key, std::initializer_list<const char*> allowed, std::string* out, bool required = false);
  // An array of minLen..maxLen integers, each in [min, max], appended to *out (undefined: an error
  // when `required`).
  bool UintArray(const char* key, std::vector<uint32_t>* out, size_t minLen, size_t maxLen, double min, double max,
                 bool required = false);

  // The first failure wins; `message` is the whole message.
  bool Fail(const std::string& message);

  // Rejects (async entry points) or throws (synchronous ones) with the failure.
  Napi::Value Reject(const char* code = nullptr) const { return RejectTypeError(env_, error_, code); }
  Napi::Value Throw() const { return ThrowTypeError(env_, error_); }

 private:
  Reader(Napi::Env env, std::string error) : env_(env), error_(std::move(error)), failed_(true) {}
  bool Read(const char* key, Napi::Value* v);  // false when stopped or the getter threw
  bool Bad(const char* key, const std::string& what);
  std::string Range(double min, double max) const;

  Napi::Env env_;
  Napi::Object obj_;
  std::string prefix_;
  Naming naming_ = Dotted;
  std::string error_;
  bool failed_ = false;
};

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------
inline Napi::Value NullOr(Napi::Env env, bool present, const std::function<Napi::Value()>& make) {
  return present ? make() : env.Null();
}

// ---------------------------------------------------------------------------
// Queue: `run` (plain C++, no JS) on a libuv worker thread -- on the service's context thread when
// one is configured and `inContext` (run_context.h) -- then `build` on the JS thread resolves the
// promise. A `build` that throws (e.g. a NodeError for an output's internal failure) rejects it.
// ---------------------------------------------------------------------------
template <typename Out>
class Worker : public Napi::AsyncWorker {
 public:
  using Run = std::function<void(Out*)>;
  using Build = std::function<Napi::Value(Napi::Env, const Out&)>;

  Worker(Napi::Env env, Run run, Build build, bool inContext)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        run_(std::move(run)),
        build_(std::move(build)),
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
    Napi::Value v = build_(env, out_);
    if (env.IsExceptionPending()) {
      deferred_.Reject(env.GetAndClearPendingException().Value());
      return;
    }
    deferred_.Resolve(v);
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
Napi::Value Queue(Napi::Env env, typename Worker<Out>::Run run, typename Worker<Out>::Build build,
                  bool inContext = true) {
  if (env.IsExceptionPending()) return Rejected(env, env.GetAndClearPendingException());
  auto* worker = new Worker<Out>(env, std::move(run), std::move(build), inContext);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace napiu

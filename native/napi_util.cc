// The one N-API helper set (napi_util.h): errors, rejections and the options Reader.
#include "napi_util.h"

#include <string.h>

#include "errno_name.h"

namespace napiu {

Napi::Error NodeError(Napi::Env env, const char* syscall, int negErrno) {
  const int err = negErrno < 0 ? -negErrno : negErrno;
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err));
  e.Set("code", Napi::String::New(env, errname::Name(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Value Rejected(Napi::Env env, const Napi::Error& error) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(error.Value());
  return d.Promise();
}

Napi::Value RejectTypeError(Napi::Env env, const std::string& message, const char* code) {
  if (env.IsExceptionPending()) return Rejected(env, env.GetAndClearPendingException());
  Napi::Error e = Napi::TypeError::New(env, message);
  if (code) e.Set("code", Napi::String::New(env, code));
  return Rejected(env, e);
}

Napi::Value ThrowTypeError(Napi::Env env, const std::string& message) {
  if (!env.IsExceptionPending()) Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------
Reader Reader::Args(const Napi::CallbackInfo& info, const char* fn, bool required) {
  if (info.Length() < 1 || info[0].IsUndefined()) {
    if (required) return Reader(info.Env(), std::string(fn) + ": an options object is required");
    return Reader(Napi::Object::New(info.Env()), fn);
  }
  if (!info[0].IsObject() || info[0].IsArray()) return Reader(info.Env(), std::string(fn) + ": options must be an object");
  return Reader(info[0].As<Napi::Object>(), fn);
}

bool Reader::Fail(const std::string& message) {
  if (!failed_) error_ = message;
  failed_ = true;
  return false;
}

bool Reader::Bad(const char* key, const std::string& what) {
  const std::string name = naming_ == Quoted ? std::string("option '") + key + "'" : std::string("options.") + key;
  return Fail(prefix_ + ": " + name + " " + what);
}

std::string Reader::Range(double min, double max) const {
  const std::string a = std::to_string(static_cast<uint64_t>(min)), b = std::to_string(static_cast<uint64_t>(max));
  return naming_ == Quoted ? "an integer in " + a + ".." + b : "an integer from " + a + " to " + b;
}

bool Reader::Read(const char* key, Napi::Value* v) {
  if (failed_) return false;
  *v = obj_.Get(key);
  if (v->IsEmpty()) failed_ = true;  // the getter threw: its exception is pending
  return !failed_;
}

static bool IsUint(const Napi::Value& v, double min, double max, double* d) {
  if (!v.IsNumber()) return false;
  *d = v.As<Napi::Number>().DoubleValue();
  return *d >= min && *d <= max && *d == static_cast<double>(static_cast<uint64_t>(*d));
}

bool Reader::Uint(const char* key, uint32_t* out, double min, double max, bool required) {
  Napi::Value v;
  if (!Read(key, &v)) return false;
  if (v.IsUndefined()) return required ? Bad(key, "is required") : true;
  if (!v.IsNumber()) return Bad(key, "must be a number");
  double d = 0;
  if (!IsUint(v, min, max, &d)) return Bad(key, "must be " + Range(min, max));
  *out = static_cast<uint32_t>(d);
  return true;
}

bool Reader::Bool(const char* key, bool* out) {
  Napi::Value v;
  if (!Read(key, &v)) return false;
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) return Bad(key, "must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool Reader::Str(const char* key, std::string* out, bool required) {
  Napi::Value v;
  if (!Read(key, &v)) return false;
  if (v.IsUndefined() && !required) return true;
  if (!v.IsString()) return Bad(key, "must be a string");
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

bool Reader::OneOf(const char* key, std::initializer_list<const char*> allowed, std::string* out, bool required) {
  Napi::Value v;
  if (!Read(key, &v)) return false;
  if (v.IsUndefined() && !required) return true;
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (const char* a : allowed) {
      if (s == a) {
        *out = s;
        return true;
      }
    }
  }
  std::string what = "must be ";
  size_t i = 0;
  for (const char* a : allowed) {
    what += std::string(i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + "'" + a + "'";
    i++;
  }
  return Bad(key, what);
}

bool Reader::UintArray(const char* key, std::vector<uint32_t>* out, size_t minLen, size_t maxLen, double min,
                       double max, bool required) {
  Napi::Value v;
  if (!Read(key, &v)) return false;
  if (v.IsUndefined() && !required) return true;
  if (!v.IsArray()) return Bad(key, "must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() < minLen || a.Length() > maxLen)
    return Bad(key, "must have " + std::to_string(minLen) + " to " + std::to_string(maxLen) + " entries");
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (e.IsEmpty()) return failed_ = true, false;  // an index getter threw
    double d = 0;
    if (!IsUint(e, min, max, &d)) return Bad((key + ("[" + std::to_string(i) + "]")).c_str(), "must be " + Range(min, max));
    out->push_back(static_cast<uint32_t>(d));
  }
  return true;
}

}  // namespace napiu

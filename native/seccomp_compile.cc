// seccompc: libseccomp (dlopen'ed, prototypes declared here) compiles a Spec to BPF; the kernel installs it per thread.
#include "seccomp_compile.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>


#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "syscalls.h"

namespace seccompc {
namespace {

// ---------------------------------------------------------------------------
// Our own copy of the part of libseccomp's API we call (include/seccomp.h.in, 2.5.x; the functions
// date from 2.3 or earlier; libseccomp accepts the LOG and KILL_PROCESS actions from 2.4, NOTIFY
// from 2.5, and refuses them before). We never include <seccomp.h>: its development package need not
// be installed, and linking against it would make the addon unloadable where the library is absent.
// ---------------------------------------------------------------------------
constexpr const char* kDefaultLibrary = "libseccomp.so.2";  // soname of every 2.x release

using ScmpFilterCtx = void*;  // scmp_filter_ctx

// SCMP_ACT_* (the kernel's SECCOMP_RET_* values; data in the low 16 bits).
constexpr uint32_t kActKillProcess = 0x80000000U;
constexpr uint32_t kActKillThread = 0x00000000U;
constexpr uint32_t kActTrap = 0x00030000U;
constexpr uint32_t kActErrnoBase = 0x00050000U;  // SCMP_ACT_ERRNO(x): base | (x & 0xffff)
constexpr uint32_t kActTraceBase = 0x7ff00000U;  // SCMP_ACT_TRACE(x): base | (x & 0xffff)
constexpr uint32_t kActLog = 0x7ffc0000U;
constexpr uint32_t kActAllow = 0x7fff0000U;
constexpr uint32_t kActNotify = 0x7fc00000U;
constexpr uint32_t kActDataMask = 0x0000ffffU;

// enum scmp_filter_attr: SCMP_FLTATR_CTL_NNP. C enums are int-sized, so uint32_t is the same ABI.
constexpr uint32_t kFltatrCtlNnp = 3;

// struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; scmp_datum_t datum_a, datum_b; }
struct ScmpArgCmp {
  unsigned int arg;
  uint32_t op;  // enum scmp_compare
  uint64_t datumA;
  uint64_t datumB;
};
static_assert(sizeof(ScmpArgCmp) == 24, "struct scmp_arg_cmp is 24 bytes");
static_assert(offsetof(ScmpArgCmp, datumA) == 8, "struct scmp_arg_cmp: datum_a at 8");

struct ScmpVersion {  // struct scmp_version
  unsigned int major;
  unsigned int minor;
  unsigned int micro;
};

constexpr unsigned int kMaxSyscallArgs = 6;  // seccomp_data.args[6]

struct Api {
  ScmpFilterCtx (*init)(uint32_t defAction) = nullptr;
  void (*release)(ScmpFilterCtx ctx) = nullptr;
  int (*attrSet)(ScmpFilterCtx ctx, uint32_t attr, uint32_t value) = nullptr;
  int (*ruleAddArray)(ScmpFilterCtx ctx, uint32_t action, int syscall, unsigned int argCount,
                      const ScmpArgCmp* args) = nullptr;
  int (*resolveName)(const char* name) = nullptr;
  int (*exportBpf)(ScmpFilterCtx ctx, int fd) = nullptr;
  const ScmpVersion* (*version)() = nullptr;  // optional: absent before 2.3
};

// One load attempt's outcome. Copied out to callers so a later SetLibraryNameForTest cannot pull
// function pointers from under them (a successfully loaded handle is never closed).
struct Library {
  int res = 0;
  std::string error;
  std::string description;
  Api api;
};

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

// strerror_r is GNU (char*) or XSI (int) depending on the libc and feature macros; overloads pick.
inline const char* StrerrorPick(const char* gnuResult, const char*) { return gnuResult; }
inline const char* StrerrorPick(int, const char* buf) { return buf; }

// Thread-safe strerror (strerror itself may share one buffer between threads).
std::string ErrText(int negErrno) {
  char buf[128] = "unknown error";
  return StrerrorPick(strerror_r(negErrno < 0 ? -negErrno : negErrno, buf, sizeof buf), buf);
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// dlsym into a typed pointer; the first name that is missing goes to *missing.
template <typename Fn>
void Need(void* handle, const char* name, Fn* out, const char** missing) {
  *out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (*out == nullptr && *missing == nullptr) *missing = name;
}

// Resolves every function we need; false (and *missing named) when one is absent.
bool ResolveApi(void* handle, Api* api, const char** missing) {
  *missing = nullptr;
  Need(handle, "seccomp_init", &api->init, missing);
  Need(handle, "seccomp_release", &api->release, missing);
  Need(handle, "seccomp_attr_set", &api->attrSet, missing);
  Need(handle, "seccomp_rule_add_array", &api->ruleAddArray, missing);
  Need(handle, "seccomp_syscall_resolve_name", &api->resolveName, missing);
  Need(handle, "seccomp_export_bpf", &api->exportBpf, missing);
  if (*missing != nullptr) return false;
  const char* optional = nullptr;  // seccomp_version only names the library in messages
  Need(handle, "seccomp_version", &api->version, &optional);
  return true;
}

std::string Describe(const Api& api, const char* name) {
  const ScmpVersion* v = api.version ? api.version() : nullptr;
  if (v == nullptr) return std::string("libseccomp (") + name + ")";
  return "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + " (" + name + ")";
}

Library OpenLibrary(const char* name) {
  Library lib;
  // RTLD_LOCAL: its symbols must not satisfy anyone else's references in the node process.
  void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    lib.res = -ENOENT;
    lib.error = std::string(name) + " not found: " + (why ? why : "dlopen failed");
    return lib;
  }
  const char* missing = nullptr;
  if (!ResolveApi(handle, &lib.api, &missing)) {
    dlclose(handle);
    lib.api = Api{};
    lib.res = -ENOSYS;
    lib.error = std::string(name) + " has no " + missing + " (libseccomp too old?)";
    return lib;
  }
  lib.description = Describe(lib.api, name);
  return lib;
}

// Loaded once per process (per SetLibraryNameForTest) under a mutex: Compile and SyscallNumber
// may run on several worker threads at once.
struct Loader {
  std::mutex mu;
  const char* name = kDefaultLibrary;
  bool loaded = false;
  Library lib;
};

// Never destroyed: a worker thread may still be compiling while the process runs its exit handlers.
Loader& TheLoader() {
  static Loader* loader = new Loader;
  return *loader;
}

Library GetLibrary() {
  Loader& l = TheLoader();
  std::lock_guard<std::mutex> lock(l.mu);
  if (!l.loaded) {
    l.lib = OpenLibrary(l.name);
    l.loaded = true;
  }
  return l.lib;
}

// ---------------------------------------------------------------------------
// Compile
// ---------------------------------------------------------------------------

// Our Action as libseccomp's uint32_t; false for an Act outside the enum.
bool EncodeAction(const Action& a, uint32_t* out) {
  switch (a.act) {
    case Act::Allow: *out = kActAllow; return true;
    case Act::Errno: *out = kActErrnoBase | (a.data & kActDataMask); return true;
    case Act::KillProcess: *out = kActKillProcess; return true;
    case Act::KillThread: *out = kActKillThread; return true;
    case Act::Trap: *out = kActTrap; return true;
    case Act::Trace: *out = kActTraceBase | (a.data & kActDataMask); return true;
    case Act::Log: *out = kActLog; return true;
    case Act::Notify: *out = kActNotify; return true;
  }
  return false;
}

int Fail(Compiled* out, int res, std::string error) {
  out->res = res;
  out->error = std::move(error);
  out->bpf.clear();
  return res;
}

std::string RuleLabel(const Rule& r) { return r.syscall + " (" + r.origin + ")"; }

// runc's rule: two comparisons on the same argument index are added as separate rules (OR)
// instead of one AND-ed rule, so OCI profiles written for runc mean the same here.
bool RepeatsAnIndex(const std::vector<ArgCmp>& args) {
  bool seen[kMaxSyscallArgs] = {};
  for (const ArgCmp& a : args) {
    if (a.index >= kMaxSyscallArgs) continue;  // libseccomp refuses it with -EINVAL below
    if (seen[a.index]) return true;
    seen[a.index] = true;
  }
  return false;
}

ScmpArgCmp ToScmp(const ArgCmp& a) { return ScmpArgCmp{a.index, a.op, a.value, a.valueTwo}; }

int AddOne(const Api& api, ScmpFilterCtx ctx, uint32_t action, int nr, const Rule& r,
           const ScmpArgCmp* cmps, unsigned int n, Compiled* out) {
  int rc = api.ruleAddArray(ctx, action, nr, n, cmps);
  if (rc < 0) return Fail(out, rc, "seccomp_rule_add_array(" + r.syscall + ", " + r.origin + "): " + ErrText(rc));
  return 0;
}

int AddRule(const Api& api, ScmpFilterCtx ctx, uint32_t action, int nr, const Rule& r, Compiled* out) {
  std::vector<ScmpArgCmp> cmps;
  cmps.reserve(r.args.size());
  for (const ArgCmp& a : r.args) cmps.push_back(ToScmp(a));
  if (!RepeatsAnIndex(r.args)) {
    return AddOne(api, ctx, action, nr, r, cmps.data(), static_cast<unsigned int>(cmps.size()), out);
  }
  for (const ScmpArgCmp& c : cmps) {
    int rc = AddOne(api, ctx, action, nr, r, &c, 1, out);
    if (rc < 0) return rc;
  }
  return 0;
}

// What earlier rules did to one syscall number, to name the rules libseccomp silently overrides.
struct SyscallSeen {
  bool unconditional = false;
  uint32_t unconditionalAction = 0;
  std::string unconditionalOrigin;
  std::vector<std::pair<uint32_t, std::string>> conditional;  // action, origin
};

// libseccomp (observed with 2.5.4) accepts conflicting rules for one syscall without an error:
// the first unconditional rule beats every later rule, and an unconditional rule replaces the
// conditional ones before it. (Only the same comparison with another action is refused, -EEXIST.)
// The BPF stays exactly as libseccomp made it; we only say which rules lost.
void NoteOverrides(SyscallSeen* seen, uint32_t action, const Rule& r, Compiled* out) {
  if (seen->unconditional) {
    if (seen->unconditionalAction != action) {
      out->skipped.push_back(RuleLabel(r) + ": no effect, the unconditional rule of " + seen->unconditionalOrigin +
                             " wins (libseccomp keeps the first)");
    }
    return;
  }
  if (!r.args.empty()) {
    seen->conditional.emplace_back(action, r.origin);
    return;
  }
  for (const auto& c : seen->conditional) {
    if (c.first != action) {
      out->skipped.push_back(r.syscall + " (" + c.second + "): no effect, replaced by the unconditional rule of " +
                             r.origin);
    }
  }
  seen->unconditional = true;
  seen->unconditionalAction = action;
  seen->unconditionalOrigin = r.origin;
  seen->conditional.clear();
}

// Mirrors runc's matchCall: unknown names and rules that repeat the default action are skipped
// (libseccomp refuses the latter with -EACCES); anything libseccomp refuses otherwise (-EEXIST for
// the same comparison with another action, -EINVAL for a bad comparison, ...) fails the compile,
// as it fails runc.
int AddRules(const Api& api, ScmpFilterCtx ctx, const Spec& spec, uint32_t defAction, Compiled* out) {
  std::map<int, SyscallSeen> seen;
  for (const Rule& r : spec.rules) {
    if (r.syscall.empty()) return Fail(out, -EINVAL, "rule " + r.origin + ": empty syscall name");
    uint32_t action = 0;
    if (!EncodeAction(r.action, &action)) return Fail(out, -EINVAL, "rule " + RuleLabel(r) + ": unknown action");
    // Negative results are __NR_SCMP_ERROR or a pseudo number for a syscall the native arch lacks.
    int nr = api.resolveName(r.syscall.c_str());
    if (nr < 0) {
      out->unknownSyscalls.push_back(r.syscall);
      continue;
    }
    if (action == defAction) {
      out->skipped.push_back(RuleLabel(r) + ": action equals the default action");
      continue;
    }
    int rc = AddRule(api, ctx, action, nr, r, out);
    if (rc < 0) return rc;
    NoteOverrides(&seen[nr], action, r, out);
  }
  return 0;
}

// Reads fd from offset 0 to its end.
int ReadAll(int fd, std::vector<uint8_t>* bytes) {
  if (int64_t r = sys::Lseek(fd, 0, SEEK_SET); r < 0) return static_cast<int>(r);
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = sys::Read(fd, buf, sizeof buf);  // EINTR retried there
    if (n == 0) return 0;
    if (n < 0) return static_cast<int>(n);
    bytes->insert(bytes->end(), buf, buf + n);
  }
}

int ExportInto(const Api& api, ScmpFilterCtx ctx, int fd, Compiled* out) {
  int rc = api.exportBpf(ctx, fd);
  if (rc < 0) return Fail(out, rc, "seccomp_export_bpf: " + ErrText(rc));
  rc = ReadAll(fd, &out->bpf);
  if (rc < 0) return Fail(out, rc, "reading the exported program back: " + ErrText(rc));
  if (out->bpf.empty() || out->bpf.size() % sizeof(kabi::SockFilter) != 0) {
    return Fail(out, -EPROTO,
                "seccomp_export_bpf wrote " + std::to_string(out->bpf.size()) + " bytes, not whole sock_filters");
  }
  return 0;
}

// seccomp_export_bpf only writes to an fd; a memfd keeps it off the file system and has no pipe
// capacity limit (libseccomp writes the program with a single write()).
int ExportBpf(const Api& api, ScmpFilterCtx ctx, Compiled* out) {
  int fd = sys::MemfdCreate("seccompc-bpf", kabi::kMfdCloexec);
  if (fd < 0) return Fail(out, fd, "memfd_create: " + ErrText(fd));
  int rc = ExportInto(api, ctx, fd, out);
  sys::Close(fd);
  return rc;
}

}  // namespace

Compiled Compile(const Spec& spec) {
  Compiled out;
  Library lib = GetLibrary();
  out.library = lib.description;
  if (lib.res < 0) {
    Fail(&out, lib.res, lib.error);
    return out;
  }
  uint32_t defAction = 0;
  if (!EncodeAction(spec.defaultAction, &defAction)) {
    Fail(&out, -EINVAL, "default action: unknown action");
    return out;
  }
  // As runc: we never create a listener, so every syscall would fail with ENOSYS, exit included
  // (glibc then spins in its thread-exit loop forever).
  if (spec.defaultAction.act == Act::Notify) {
    Fail(&out, -EINVAL, "default action: notify cannot be the default action");
    return out;
  }
  // seccomp_init reports no reason; an action this libseccomp/kernel cannot use is the usual one.
  ScmpFilterCtx ctx = lib.api.init(defAction);
  if (ctx == nullptr) {
    Fail(&out, -EINVAL, "seccomp_init(" + Hex32(defAction) + "): refused the default action");
    return out;
  }
  // NNP only matters to seccomp_load, which we never call; cleared so the context says what we
  // do: InstallOnThisThread sets no_new_privs itself, on the one thread it filters.
  int rc = lib.api.attrSet(ctx, kFltatrCtlNnp, 0);
  if (rc < 0) {
    Fail(&out, rc, "seccomp_attr_set(SCMP_FLTATR_CTL_NNP, 0): " + ErrText(rc));
  } else if (AddRules(lib.api, ctx, spec, defAction, &out) == 0) {
    ExportBpf(lib.api, ctx, &out);
  }
  lib.api.release(ctx);
  return out;
}

int SyscallNumber(const char* name) {
  if (name == nullptr || *name == '\0') return -1;
  Library lib = GetLibrary();
  if (lib.res < 0) return -1;
  int nr = lib.api.resolveName(name);
  return nr < 0 ? -1 : nr;
}

int InstallOnThisThread(const std::vector<uint8_t>& bpf) {
  const size_t count = bpf.size() / sizeof(kabi::SockFilter);
  if (count == 0 || bpf.size() % sizeof(kabi::SockFilter) != 0 || count > 0xffff) return -EINVAL;
  // no_new_privs first: without it (or CAP_SYS_ADMIN) the kernel refuses the filter with EACCES.
  // Unsigned long arguments: prctl is variadic, and the kernel wants arg3..arg5 to be whole zeros.
  if (int r = sys::Prctl(kabi::kPrSetNoNewPrivs, 1UL, 0UL, 0UL, 0UL); r < 0) return r;
  kabi::SockFprog prog{static_cast<unsigned short>(count), reinterpret_cast<const kabi::SockFilter*>(bpf.data())};
  // Flags 0, not TSYNC: only the calling thread (and threads it creates later) is filtered.
  int r = sys::Seccomp(kabi::kSeccompSetModeFilter, 0U, &prog);
  return r < 0 ? r : 0;
}

void SetLibraryNameForTest(const char* name) {
  Loader& l = TheLoader();
  std::lock_guard<std::mutex> lock(l.mu);
  l.name = name ? name : kDefaultLibrary;
  l.loaded = false;
}

}  // namespace seccompc

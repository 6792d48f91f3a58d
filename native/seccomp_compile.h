// A seccomp profile compiled to classic BPF by libseccomp, loaded at run time (dlopen), and installed on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Plain C++17 core (no napi.h): results are 0 / >= 0 or -errno, nothing throws.
//
// libseccomp is optional at run time: we dlopen("libseccomp.so.2") on first use and declare its
// few prototypes ourselves (its development headers need not be installed, and the addon must load
// where the library is absent). When it is missing, Compile reports -ENOENT and SyscallNumber -1;
// InstallOnThisThread needs no libseccomp at all.
namespace seccompc {

// Trace without a tracer and Notify (we never create a listener) make the syscall fail with
// ENOSYS; Notify cannot be the default action (as in runc).
enum class Act : uint8_t { Allow, Errno, KillProcess, KillThread, Trap, Trace, Log, Notify };

struct Action {
  Act act;
  uint32_t data;  // errno for Errno, event data for Trace (low 16 bits kept, as SCMP_ACT_ERRNO/TRACE do); else unused
};

// op: libseccomp's enum scmp_compare (1 NE, 2 LT, 3 LE, 4 EQ, 5 GE, 6 GT, 7 MASKED_EQ).
// MASKED_EQ: (arg & value) == valueTwo, as OCI profiles and runc use it.
struct ArgCmp {
  uint32_t index;
  uint32_t op;
  uint64_t value;
  uint64_t valueTwo;
};

struct Rule {
  std::string syscall;
  Action action;
  std::vector<ArgCmp> args;  // AND-ed; when two compare the same index, each becomes its own rule (OR), as runc does
  std::string origin;        // where the rule came from, for messages, e.g. "syscalls[3]"
};

struct Spec {
  Action defaultAction;
  std::vector<Rule> rules;
};

struct Compiled {
  int res = 0;             // 0, or -errno of the libseccomp call that failed (-ENOENT: library not found;
                           // -ENOSYS: it lacks a function we need; -EINVAL: the spec itself is bad)
  std::string error;       // one line for people, e.g. "libseccomp.so.2 not found: ..." or
                           // "seccomp_rule_add_array(io_uring_setup, syscalls[3]): Invalid argument"
  std::string library;     // e.g. "libseccomp 2.5.4 (libseccomp.so.2)"; empty when it could not be loaded
  std::vector<uint8_t> bpf;                   // struct sock_filter[] exactly as exported (8 bytes each); empty on error
  std::vector<std::string> unknownSyscalls;   // names libseccomp does not know for the native arch (skipped, as runc does)
  std::vector<std::string> skipped;           // rules left out or without effect, e.g.
                                              // "io_uring_enter (syscalls[4]): action equals the default action"
};

// The filter covers the native architecture only; any other arch (x32 syscall numbers included)
// hits libseccomp's default bad-arch action, SCMP_ACT_KILL (= kill the thread). A rule libseccomp
// refuses fails the whole compile (res/error set, no bpf), as runc fails the container: a profile
// silently missing a rule is worse than no profile.
// Conflicts libseccomp accepts silently (a rule with another action for a syscall that already has
// an unconditional rule, or an unconditional rule after conditional ones) are listed in `skipped`.
Compiled Compile(const Spec& spec);

// The native syscall number of a name, via libseccomp; -1 when unknown or the library is absent.
int SyscallNumber(const char* name);

// Install an already-compiled program on the CALLING THREAD only (seccomp(SECCOMP_SET_MODE_FILTER,
// 0, ...) via syscall(), no TSYNC). Requires no_new_privs or CAP_SYS_ADMIN in the caller; sets
// PR_SET_NO_NEW_PRIVS itself first (also for this thread only; it cannot be undone). bpf.size()
// must be a non-zero multiple of 8, else -EINVAL. Returns 0 or -errno. Filters stack: there is no
// way to remove one, so a thread that installed one should end once its work is done -- and it
// must still be allowed `exit`: glibc retries a failing exit forever, so the thread never ends.
int InstallOnThisThread(const std::vector<uint8_t>& bpf);

// Tests only: load `name` instead of "libseccomp.so.2" on the next use (forgets the cached load;
// a handle already loaded stays open, so callers running concurrently are not disturbed).
void SetLibraryNameForTest(const char* name);

// Our own copy of the little kernel ABI InstallOnThisThread needs (uapi linux/filter.h,
// linux/seccomp.h, linux/prctl.h), in the same spirit as abi.h.
namespace kabi {

struct SockFilter {  // struct sock_filter
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
static_assert(sizeof(SockFilter) == 8, "struct sock_filter is 8 bytes");

struct SockFprog {  // struct sock_fprog
  unsigned short len;  // number of SockFilter entries
  const SockFilter* filter;
};

constexpr unsigned int kSeccompSetModeFilter = 1;  // SECCOMP_SET_MODE_FILTER
constexpr int kPrSetNoNewPrivs = 38;                // PR_SET_NO_NEW_PRIVS
constexpr unsigned int kMfdCloexec = 1;             // MFD_CLOEXEC (linux/memfd.h)

}  // namespace kabi
}  // namespace seccompc

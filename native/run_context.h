// The service's context for kernel work: one long-lived native thread that runs as the service's
// user and groups, with its capabilities and its seccomp filter, and does every kernel operation
// of the probes.
//
// Why a thread and not the whole probe process: Node 22+ creates its own io_uring at start-up and
// uses it for epoll batching, so a probe process filtered (or switched to another user) from birth
// dies or misbehaves before any probe runs. Credentials (setresuid/setgroups via raw syscalls),
// capabilities (capset) and seccomp filters (installed without TSYNC) are per-thread in Linux; a
// thread that applies them to itself and then does the kernel work is exactly "the service"
// for the kernel, while Node's own threads keep running as they were. Threads it starts (bench
// sender/receiver, the single-issuer helper) inherit its credentials and filter.
//
// RLIMIT_MEMLOCK is per process: the probe child sets it for itself (it does nothing else).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace runctx {

struct Context {
  bool setIds = false;           // switch to uid/gid/groups
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups, replaced as a whole
  bool setCaps = false;          // restrict capabilities to `caps` (effective = permitted)
  uint64_t caps = 0;             // bit n = capability n
  std::vector<uint8_t> bpf;      // compiled seccomp program (struct sock_filter[]); empty = none
};

// Apply the ids and capabilities of `ctx` (not its filter) to the CALLING thread. 0 or -errno, the
// failing step in *stage. For threads of our own that must act as the service (the memlock scan).
int ApplyCredentials(const Context& ctx, const char** stage);

// Start the context thread and apply `ctx` inside it (from the JS thread, once per process).
// 0, or -errno of the step that failed, named in *stage ("setgroups", "setresgid", "setresuid",
// "capset", "seccomp", "thread").
int Configure(const Context& ctx, std::string* stage);

bool Configured();

// Run `fn` on the context thread and wait for it; runs `fn` on the calling thread when no
// context was configured. 0, or -EOWNERDEAD when the context thread died while running it
// (a seccomp KILL_THREAD action: the kernel ends just that thread).
int Run(const std::function<void()>& fn);

// A seccomp KILL_THREAD killed the context thread: make the whole probe process die of SIGSYS,
// as a KILL_PROCESS would, so the parent reports one kind of event (the breadcrumb page says
// which syscall and that it was the thread). Does not return.
[[noreturn]] void DieOfThreadKill();

}  // namespace runctx

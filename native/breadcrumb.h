// The last syscall a kernel probe made, kept where it survives the probe process being killed.
//
// Why: a seccomp filter whose action is KILL_PROCESS ends the process before any handler runs, so
// the only way to say WHICH syscall was killed is to have written it down before the call. Every
// wrapper in syscalls.h (and bench/net.h) stores the syscall number with one relaxed store. The
// parent passes a small shared file as fd 3 of the probe child; Attach() maps it, and after a death
// the parent reads the page. Without Attach() the store goes to a private word.
#pragma once

#include <atomic>
#include <cstdint>

namespace breadcrumb {

struct Page {
  uint32_t magic;                  // kMagic once attached
  std::atomic<int32_t> lastSyscall;  // syscall number of the latest wrapper call (-1 none)
  std::atomic<uint32_t> calls;       // how many wrapper calls were recorded
  std::atomic<uint32_t> threadKilled; // 1: the run-context thread died without finishing (SECCOMP KILL_THREAD)
};
constexpr uint32_t kMagic = 0x75726e67;  // 'urng'

extern Page* gPage;

inline void Note(long nr) {
  gPage->lastSyscall.store(static_cast<int32_t>(nr), std::memory_order_relaxed);
  gPage->calls.fetch_add(1, std::memory_order_relaxed);
}

// Map `fd` (at least 4096 bytes, shared) as the page. 0 or -errno.
int Attach(int fd);

}  // namespace breadcrumb

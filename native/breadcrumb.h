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
  std::atomic<uint32_t> calls;       // reserved (kept for the page layout the parent reads)
  std::atomic<uint32_t> threadKilled; // 1: the run-context thread died without finishing (SECCOMP KILL_THREAD)
};
constexpr uint32_t kMagic = 0x75726e67;  // 'urng'

extern Page* gPage;

// Called before every wrapped syscall, the bench's hot loops included: store only when the number
// changes, so two threads looping on io_uring_enter only read the shared line (no RMW, no bouncing).
inline void Note(long nr) {
  const int32_t n = static_cast<int32_t>(nr);
  if (gPage->lastSyscall.load(std::memory_order_relaxed) != n) gPage->lastSyscall.store(n, std::memory_order_relaxed);
}

// Map `fd` (at least 4096 bytes, shared) as the page. 0 or -errno.
int Attach(int fd);

}  // namespace breadcrumb

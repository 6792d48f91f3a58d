// See ring_ledger.h.
#include "ring_ledger.h"

#include <time.h>

#include <atomic>

#include "syscalls.h"  // includes ring_ledger.h too (declarations only: no cycle)

namespace ledger {
namespace {

constexpr int kTrackedFds = 1 << 16;  // fds above this are not tracked (never a ring of ours in practice)
std::atomic<uint64_t> gRingBits[kTrackedFds / 64];
std::atomic<int64_t> gLastRingCloseNs{0};
std::atomic<uint64_t> gRetries{0};
std::atomic<uint64_t> gWaitedUs{0};
std::atomic<uint64_t> gRecovered{0};

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

}  // namespace

void NoteRingCreated(int fd) {
  if (fd < 0 || fd >= kTrackedFds) return;
  gRingBits[fd / 64].fetch_or(uint64_t{1} << (fd % 64), std::memory_order_relaxed);
}

void NoteFdClosing(int fd) {
  if (fd < 0 || fd >= kTrackedFds) return;
  const uint64_t bit = uint64_t{1} << (fd % 64);
  if (gRingBits[fd / 64].fetch_and(~bit, std::memory_order_relaxed) & bit) {
    gLastRingCloseNs.store(MonotonicNs(), std::memory_order_relaxed);
  }
}

bool WaitSliceForRelease() {
  const int64_t last = gLastRingCloseNs.load(std::memory_order_relaxed);
  if (last == 0 || MonotonicNs() - last >= kReleaseWindowNs) return false;
  sys::SleepNsOnce(kRetrySliceNs);  // EINTR only shortens one slice; the window bounds the total
  gRetries.fetch_add(1, std::memory_order_relaxed);
  gWaitedUs.fetch_add(kRetrySliceNs / 1000, std::memory_order_relaxed);
  return true;
}

void NoteRecovered() { gRecovered.fetch_add(1, std::memory_order_relaxed); }

Stats GetStats() {
  return Stats{gRetries.load(), gWaitedUs.load(), gRecovered.load()};
}

}  // namespace ledger

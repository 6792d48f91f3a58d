// Which fds of this process are io_uring rings, and when one was last closed: lets io_uring_setup
// wait for the kernel to give back ring memory that our own earlier probes released.
//
// Why: on kernels that charge ring memory to the user's RLIMIT_MEMLOCK (this host's 6.18 does for
// callers without CAP_IPC_LOCK), a closed ring's pages are returned asynchronously (an RCU grace
// period plus io_uring's exit work: ~35 ms measured here). A service starts from a clean budget;
// our probes create and close rings back to back, so without this the tool would report ENOMEM
// that its own churn caused.
#pragma once

#include <cstdint>

namespace ledger {

// How long after our last ring close an ENOMEM may still be our own churn.
constexpr int64_t kReleaseWindowNs = 400LL * 1000 * 1000;
// How long to sleep between retries inside that window.
constexpr int64_t kRetrySliceNs = 2LL * 1000 * 1000;

void NoteRingCreated(int fd);
// Call before closing any fd; remembers the time when it was a ring.
void NoteFdClosing(int fd);
// ENOMEM from io_uring_setup: while a ring of ours was closed less than kReleaseWindowNs ago,
// sleep one slice and return true (retry); false when there is nothing of ours to wait for.
bool WaitSliceForRelease();

struct Stats {
  uint64_t retries;    // io_uring_setup calls repeated after an ENOMEM inside the window
  uint64_t waitedUs;   // time slept for that
  uint64_t recovered;  // setups that then succeeded
};
Stats GetStats();
void NoteRecovered();

}  // namespace ledger

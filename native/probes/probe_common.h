// What several probes share (native/probes/*.cc): scope guards for fds and mappings, and one NOP
// submitted and reaped on a ring given by fd, params and mapping.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "probes/probes.h"
#include "ring.h"
#include "ring_access.h"
#include "syscalls.h"

namespace probe {

// Closes a file descriptor at scope exit.
struct FdGuard {
  int fd = -1;
  explicit FdGuard(int f = -1) : fd(f) {}
  ~FdGuard() {
    if (fd >= 0) sys::Close(fd);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
};

// Unmaps an anonymous mapping of ours at scope exit (nothing when p is null).
struct MapGuard {
  void* p;
  size_t n;
  ~MapGuard() {
    if (p) sys::Munmap(p, n);
  }
  MapGuard(const MapGuard&) = delete;
  MapGuard& operator=(const MapGuard&) = delete;
};

// Unmaps ring memory at scope exit.
struct MemGuard {
  uring::RingMemory mem;
  ~MemGuard() { uring::UnmapRings(&mem); }
};

// Publish the SQEs reserved on `r` (the probes' rings have nothing else queued), hand them to the
// kernel and wait (until `deadlineMs`) for a CQE. Returns how many of them the kernel took (what the
// probes report as enterRes; under SQPOLL, what its thread took by then) or the submitting enter's
// -errno, in which case the SQEs it did not take are taken back (nothing is left queued). Whether a
// CQE came is for the caller to see (PeekCqe/ForEachCqe).
int SubmitReserved(uring::Ring& r, int64_t deadlineMs);

// Put one NOP into the SQ of `ring` (fd, params, mapping), submit it, and reap CQEs until its own
// (bounded by timeoutMs).
void RawNop(int fd, const abi::io_uring_params& p, const uring::RingMemory& view, uint64_t userData, int timeoutMs,
            NopOutcome* out);

}  // namespace probe

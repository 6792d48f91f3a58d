// How much locked memory the seed's ring pair costs on this kernel, whether it is charged to the
// service's user, and how much of that user's budget is already used: measured, not inferred
// from the kernel version.
//
// How: io_uring_setup fails with ENOMEM, charging nothing, while the user's locked pages plus the
// ring's would pass RLIMIT_MEMLOCK. Raising the soft limit one page at a time until a ring is
// created finds (use + cost) exactly; holding that ring and going on finds the next threshold. The
// thresholds of send ring, receive ring and a second send ring give both costs and the use.
// Failed setups cost ~8 us here, so even a 64 MiB scan stays near 130 ms. The scan cannot go past
// the hard limit unless the caller may raise it (CAP_SYS_RESOURCE): measure before lowering it.
#pragma once

#include <cstdint>
#include <vector>

#include "run_context.h"

namespace probe {

struct MemlockInput {
  runctx::Context who;        // ids and caps of the service (its filter is not applied: this is about the budget)
  uint32_t sendEntries = 256;
  uint32_t recvEntries = 64;
  uint64_t scanLimitBytes = 64ull << 20;  // never scan past this
};

struct MemlockOutput {
  int res = 0;                // 0, or -errno of `stage` (a failure of the measurement itself)
  const char* stage = "";
  uint64_t pageSize = 0;
  uint64_t softLimit = 0;     // RLIMIT_MEMLOCK of the process at the start (UINT64_MAX = infinity)
  uint64_t hardLimit = 0;
  // A 1-entry ring with the soft limit at 0, with the service's capabilities: 0 accepted (not
  // charged: CAP_IPC_LOCK, or a kernel that does not charge rings), -ENOMEM (charged), or the
  // -errno that refused io_uring before any accounting (then nothing else was measured).
  int chargeTestRes = 0;
  bool scanned = false;
  int scanRes = 0;            // 0: all three thresholds found; -ENOMEM: the scan limit came first
  uint32_t scanLimitPages = 0;
  uint32_t sendThreshold = 0; // pages of limit at which each ring was first created (0 = not reached)
  uint32_t pairThreshold = 0;
  uint32_t thirdThreshold = 0;
  uint32_t attempts = 0;
  uint64_t scanUs = 0;
  // The same costs computed from the kernel's ring geometry (offsets of a ring created without
  // accounting): region sizes rounded up to pages, as the kernel charges them. 0 = unknown.
  uint32_t sendGeometryPages = 0;
  uint32_t recvGeometryPages = 0;
};

void MemlockProbe(const MemlockInput& in, MemlockOutput* out);

}  // namespace probe

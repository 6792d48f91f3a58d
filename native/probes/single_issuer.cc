// singleIssuerCrossThread (the single-issuer probe): a SINGLE_ISSUER ring entered from its creator's thread
// and from another one.
#include "probes/probes.h"

#include "native_thread.h"
#include "probes/probe_common.h"
#include "ring.h"
#include "syscalls.h"

namespace probe {

// ---------------------------------------------------------------------------
// singleIssuerCrossThread
// ---------------------------------------------------------------------------
void SingleIssuerCrossThread(uint32_t extraFlags, SingleIssuerOutput* out) {
  // Thread A is the calling thread: it creates the ring, so it is the ring's single issuer.
  abi::io_uring_params p{};
  p.flags = abi::SETUP_SINGLE_ISSUER | abi::SETUP_CLAMP | extraFlags;
  out->flags = p.flags;
  int fd = sys::IoUringSetup(8, &p);
  out->setupRes = fd < 0 ? fd : 0;
  if (fd < 0) return;
  FdGuard ring(fd);
  MemGuard mem;
  int r = uring::MapRingsSeparate(fd, p, &mem.mem, nullptr);
  if (r < 0) {
    out->internal = InternalError{"mmap", r};
    return;
  }
  RawNop(fd, p, mem.mem, 0xA, 1000, &out->sameThread);
  // Thread B submits through the same ring; the kernel should refuse (-EEXIST).
  native::NativeThread other;
  r = other.Start([&]() { RawNop(fd, p, mem.mem, 0xB, 1000, &out->otherThread); });
  if (r < 0) {
    out->internal = InternalError{"pthread_create", r};
    return;
  }
  other.Join();
}

}  // namespace probe

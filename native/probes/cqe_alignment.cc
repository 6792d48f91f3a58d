// paramsLayout (the cqe-alignment probe): how many bytes of io_uring_params the kernel reads and writes,
// measured against an inaccessible page.
#include "probes/probes.h"

#include <errno.h>
#include <string.h>

#include "probes/probe_common.h"
#include "ring_ledger.h"
#include "syscalls.h"

namespace probe {

// ---------------------------------------------------------------------------
// paramsLayout
// ---------------------------------------------------------------------------
namespace {

// io_uring_setup with `room` bytes of params right before `limit` (an inaccessible page): the seed's
// zeroed variable, CLAMP in flags when it fits. 0 (ring created and closed) or -errno.
// (ENOMEM right after one of our own rings was closed is retried, as sys::IoUringSetup does.)
int SetupWithRoom(uint8_t* limit, int room, uint32_t entries, uint32_t flags) {
  uint8_t* params = limit - room;
  for (;;) {
    memset(params, 0, static_cast<size_t>(room));
    if (room >= 12) memcpy(params + 8, &flags, sizeof(flags));
    int fd = sys::IoUringSetupRaw(entries, params);
    if (fd == -ENOMEM && ledger::WaitSliceForRelease()) continue;
    if (fd < 0) return fd;
    sys::Close(fd);
    return 0;
  }
}

// One setup with the whole window accessible, bytes [40, window) filled with `canary` (the
// sq_off/cq_off output area: the kernel reads it only for NO_MMAP). Returns 0 or -errno.
int SetupWithCanary(uint8_t* window, uint8_t canary, uint32_t entries, uint32_t flags) {
  for (;;) {
    memset(window, 0, 40);
    memset(window + 40, canary, kParamsWindow - 40);
    memcpy(window + 8, &flags, sizeof(flags));
    int fd = sys::IoUringSetupRaw(entries, window);
    if (fd == -ENOMEM && ledger::WaitSliceForRelease()) continue;
    if (fd < 0) return fd;
    sys::Close(fd);
    return 0;
  }
}

}  // namespace

void ParamsLayout(int probeRoom, ParamsLayoutOutput* out) {
  out->entries = 8;
  out->flags = abi::SETUP_CLAMP;
  out->probeRoom = probeRoom;
  const size_t page = static_cast<size_t>(sys::PageSize());
  void* base = nullptr;
  int r = sys::Mmap(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &base);
  if (r < 0) {
    out->res = r;
    return;
  }
  MapGuard unmap{base, 2 * page};
  uint8_t* limit = static_cast<uint8_t*>(base) + page;  // the first inaccessible byte
  r = sys::Mprotect(limit, page, PROT_NONE);
  if (r < 0) {
    out->res = r;
    return;
  }

  // What the kernel writes: two runs with different canaries past byte 40; a byte the kernel wrote
  // differs from the canary in at least one of them.
  uint8_t* window = limit - kParamsWindow;
  uint8_t first[kParamsWindow];
  out->res = SetupWithCanary(window, 0xa5, out->entries, out->flags);
  if (out->res < 0) return;
  memcpy(first, window, sizeof(first));
  memcpy(out->window, window, sizeof(out->window));
  out->res = SetupWithCanary(window, 0x5a, out->entries, out->flags);
  if (out->res < 0) return;
  out->copyOut = 40;
  for (int i = 40; i < kParamsWindow; i++) {
    if (first[i] != 0xa5 || window[i] != 0x5a) out->copyOut = i + 1;
  }

  // What the kernel reads: the smallest room before the inaccessible page it accepts (it copies the
  // whole struct in first, so any room below that is EFAULT).
  if (probeRoom > 0 && probeRoom <= kParamsWindow) out->probeRoomRes = SetupWithRoom(limit, probeRoom, out->entries, out->flags);
  int lo = 0, hi = 256;  // EFAULT at lo (nothing readable); search up to 256 bytes
  int atHi = SetupWithRoom(limit, hi, out->entries, out->flags);
  if (atHi < 0) {
    out->copyInRes = atHi;
    return;
  }
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    int res = SetupWithRoom(limit, mid, out->entries, out->flags);
    if (res == -EFAULT) {
      lo = mid;
    } else if (res < 0) {
      out->copyInRes = res;  // refused for another reason: no answer
      return;
    } else {
      hi = mid;
    }
  }
  out->copyIn = hi;
}

}  // namespace probe

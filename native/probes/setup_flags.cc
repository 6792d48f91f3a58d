// trySetupFlags (the setup-flags probe): io_uring_setup with given flags, and with NO_MMAP a NOP through
// ring memory of our own.
#include "probes/probes.h"

#include "probes/probe_common.h"
#include "ring.h"
#include "syscalls.h"

namespace probe {

using uring::RingMemory;

// ---------------------------------------------------------------------------
// trySetupFlags
// ---------------------------------------------------------------------------
void TrySetupFlags(uint32_t flags, uint32_t entries, uint32_t cqEntries, bool userMemory, SetupFlagOutput* out) {
  if (entries == 0) entries = 8;
  abi::io_uring_params p{};
  p.flags = flags;
  if (flags & abi::SETUP_SQPOLL) p.sq_thread_idle = 10;  // ms
  if (flags & abi::SETUP_CQSIZE) p.cq_entries = cqEntries ? cqEntries : entries * 2;
  out->flags = flags;

  // NO_MMAP: the kernel takes the rings from cq_off.user_addr and the SQEs from sq_off.user_addr,
  // page-aligned memory of ours (without it the addresses are 0 and the kernel faults on them).
  const size_t page = static_cast<size_t>(sys::PageSize());
  void* mem = nullptr;
  size_t ringsBytes = 0, sqesBytes = 0;
  const bool withMemory = userMemory && (flags & abi::SETUP_NO_MMAP);
  if (withMemory) {
    out->userMemory = true;
    // Generous upper bounds of what the kernel computes (rings_size(): the io_rings header, the CQEs
    // (32 bytes with CQE32) and the SQ index array; the SQEs, 128 bytes each with SQE128).
    const size_t cq = (flags & abi::SETUP_CQSIZE) ? p.cq_entries : static_cast<size_t>(entries) * 2;
    ringsBytes = (4096 + cq * 32 + static_cast<size_t>(entries) * 4 + page - 1) / page * page;
    sqesBytes = (static_cast<size_t>(entries) * 128 + page - 1) / page * page;
    out->memRes = sys::Mmap(ringsBytes + sqesBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0,
                            &mem);
    if (out->memRes < 0) {
      out->res = out->memRes;
      return;
    }
    p.cq_off.user_addr = reinterpret_cast<uint64_t>(mem);
    p.sq_off.user_addr = reinterpret_cast<uint64_t>(static_cast<uint8_t*>(mem) + ringsBytes);
  }
  MapGuard unmapMem{mem, ringsBytes + sqesBytes};

  int fd = sys::IoUringSetup(entries, &p);
  if (fd < 0) {
    out->res = fd;
    return;
  }
  FdGuard ring(fd);  // closed (and the kernel's hold on our pages dropped) before the memory goes
  out->res = 0;
  out->features = p.features;
  out->sqEntries = p.sq_entries;
  out->cqEntries = p.cq_entries;
  if (withMemory && !(flags & (abi::SETUP_SQPOLL | abi::SETUP_IOPOLL | abi::SETUP_R_DISABLED))) {
    // The ring works in our memory: one NOP submitted and reaped there.
    RingMemory view;
    uring::AdoptUserRingMemory(p, mem, static_cast<uint8_t*>(mem) + ringsBytes, &view);
    NopOutcome nop;
    RawNop(fd, p, view, 0x4e4d, 1000, &nop);
    out->nopTried = true;
    out->nopEnterRes = nop.enterRes;
    out->nopHasCqe = nop.hasCqeRes;
    out->nopCqeRes = nop.cqeRes;
  }
}

}  // namespace probe

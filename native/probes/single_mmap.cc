// mappingCompare (the single-mmap probe): the rings through the separate and the single mapping, compared.
#include "probes/probes.h"

#include <errno.h>

#include "probes/probe_common.h"
#include "ring_access.h"
#include "syscalls.h"

namespace probe {

using uring::RingMemory;

// ---------------------------------------------------------------------------
// mappingCompare
// ---------------------------------------------------------------------------
namespace {

// The CQE at the CQ head as the mapping `view` of ring `fd` shows it, without consuming it (a
// second view of a ring goes through the access layer like the first: a Ring attached to it).
CqeRead PeekThrough(int fd, const abi::io_uring_params& p, const RingMemory& view) {
  CqeRead r;
  uring::Ring ring;
  uring::RingAttach(&ring, fd, p, view);
  const abi::io_uring_cqe* cqe = uring::PeekCqe(ring);
  if (!cqe) return r;
  r.present = true;
  r.userData = cqe->user_data;
  r.res = cqe->res;
  r.flags = cqe->flags;
  return r;
}

struct RingView {
  int fd = -1;
  abi::io_uring_params params{};
  RingMemory mem;
};

// Submit one NOP through `submit` (entering its ring), wait for a completion, read the CQE at the
// CQ head through the separate and through the single view, then consume it through `submit`.
void NopThroughViews(const RingView& submit, const char* name, const RingView& separate, const RingView& single,
                     uint64_t userData, int timeoutMs, NopViews* out) {
  out->submittedThrough = name;
  out->userData = userData;
  // Attached now: the SQ tail is read from this view (the other view may have submitted before).
  uring::Ring ring;
  uring::RingAttach(&ring, submit.fd, submit.params, submit.mem);
  abi::io_uring_sqe* sqe = uring::GetSqe(ring);
  if (!sqe) {
    out->enterRes = -EBUSY;
    return;
  }
  uring::PrepNop(sqe, userData);
  out->enterRes = SubmitReserved(ring, uring::MonotonicMs() + timeoutMs);
  if (out->enterRes < 0) return;
  out->viaSeparate = PeekThrough(separate.fd, separate.params, separate.mem);
  out->viaSingle = PeekThrough(single.fd, single.params, single.mem);
  // Consume it where it was submitted (the other view sees the same head when it is the same ring).
  if (uring::PeekCqe(ring)) uring::CqAdvance(ring, 1);
}

bool SameNop(const CqeRead& a, uint64_t userData) { return a.present && a.userData == userData && a.res == 0; }

}  // namespace

void MappingCompare(uint32_t entries, bool singleFromOtherRing, MappingCompareOutput* out) {
  if (entries == 0) entries = 8;
  RingView ring;
  ring.params.flags = abi::SETUP_CLAMP;
  int fd = sys::IoUringSetup(entries, &ring.params);
  if (fd < 0) {
    out->res = fd;
    return;
  }
  FdGuard ringFd(fd);
  ring.fd = fd;
  out->res = 0;
  out->featSingleMmap = (ring.params.features & abi::FEAT_SINGLE_MMAP) != 0;

  // The single view: the same ring (or, for the tests, a second one).
  RingView other;
  FdGuard otherFd;
  const RingView* singleRing = &ring;
  if (singleFromOtherRing) {
    other.params.flags = abi::SETUP_CLAMP;
    int ofd = sys::IoUringSetup(entries, &other.params);
    if (ofd < 0) {
      out->res = ofd;
      return;
    }
    otherFd.fd = ofd;
    other.fd = ofd;
    singleRing = &other;
  }

  MemGuard sep;
  MemGuard single;
  out->separate.attempted = true;
  out->separate.res = uring::MapRingsSeparate(fd, ring.params, &sep.mem, &out->separate.mapping);
  out->separate.mapped = out->separate.res == 0;
  // Without FEAT_SINGLE_MMAP the SQ ring mapping does not hold the CQ ring: nothing to compare.
  if (out->featSingleMmap) {
    out->single.attempted = true;
    out->single.res = uring::MapRingsSingle(singleRing->fd, singleRing->params, true, &single.mem, &out->single.mapping);
    out->single.mapped = out->single.res == 0;
  }
  if (!out->separate.mapped) return;
  ring.mem = sep.mem;

  // The single view: the single mapping of the same ring (or of the other one); without it, the
  // separate view read twice.
  RingView viaSingle = ring;
  if (out->single.mapped) {
    viaSingle = *singleRing;
    viaSingle.mem = single.mem;
  }
  // NOP 1 through the separate mappings; NOP 2 through the single one. Each CQE is read through both.
  NopThroughViews(ring, "separate", ring, viaSingle, 0x5eed0001, 1000, &out->nops[0]);
  out->nopCount = 1;
  if (out->single.mapped) {
    NopThroughViews(viaSingle, "single", ring, viaSingle, 0x5eed0002, 1000, &out->nops[1]);
    out->nopCount = 2;
  }
  ring.mem = RingMemory{};  // owned by `sep`

  if (!out->single.mapped) return;
  const uring::RingMapping& a = out->separate.mapping;
  const uring::RingMapping& b = out->single.mapping;
  bool sameShape = a.sqRingMask == b.sqRingMask && a.sqRingEntries == b.sqRingEntries &&
                   a.cqRingMask == b.cqRingMask && a.cqRingEntries == b.cqRingEntries;
  bool nopsAgree = true;
  for (int i = 0; i < out->nopCount; i++) {
    const NopViews& n = out->nops[i];
    nopsAgree = nopsAgree && n.enterRes == 1 && SameNop(n.viaSeparate, n.userData) && SameNop(n.viaSingle, n.userData) &&
                n.viaSeparate.flags == n.viaSingle.flags;
  }
  out->agree = sameShape && nopsAgree;
}

}  // namespace probe

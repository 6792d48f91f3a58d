// Ring geometry checks (see ring_geometry.h).
#include "ring_geometry.h"

namespace uring {

namespace {

int Fault(GeometryFault* f, const char* field, const char* rule, uint64_t value, uint64_t bound) {
  if (f) {
    f->field = field;
    f->rule = rule;
    f->value = value;
    f->bound = bound;
  }
  return kGeometryError;
}

bool PowerOfTwo(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

// One u32 field of a ring header: 4-byte aligned and inside the region.
int CheckU32Field(const char* field, uint32_t off, uint64_t regionBytes, GeometryFault* f) {
  if (off % 4 != 0) return Fault(f, field, "4-byte aligned offset (bound: alignment)", off, 4);
  if (static_cast<uint64_t>(off) + 4 > regionBytes) return Fault(f, field, "offset + 4 <= mapping size", off, regionBytes);
  return 0;
}

uint32_t LoadU32(const void* base, uint32_t off) {
  const uint32_t* p = reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(base) + off);
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

}  // namespace

int CheckParamsShape(const abi::io_uring_params& p, GeometryFault* f) {
  if (!PowerOfTwo(p.sq_entries) || p.sq_entries > kMaxSqEntries)
    return Fault(f, "sq_entries", "power of two in [1, bound]", p.sq_entries, kMaxSqEntries);
  if (!PowerOfTwo(p.cq_entries) || p.cq_entries > kMaxCqEntries)
    return Fault(f, "cq_entries", "power of two in [1, bound]", p.cq_entries, kMaxCqEntries);
  if (p.cq_entries < p.sq_entries) return Fault(f, "cq_entries", "cq_entries >= sq_entries (bound)", p.cq_entries, p.sq_entries);
  if (p.flags & kUnsupportedLayoutFlags)
    return Fault(f, "flags", "no SQE128/CQE32/CQE_MIXED/NO_MMAP/REGISTERED_FD_ONLY (bound: those bits)",
                 p.flags & kUnsupportedLayoutFlags, kUnsupportedLayoutFlags);
  if (p.flags & ~kKnownSetupFlags)
    return Fault(f, "flags", "no setup flag unknown to this addon (bound: known bits)", p.flags & ~kKnownSetupFlags,
                 kKnownSetupFlags);
  return 0;
}

RingBytes RingBytesFor(const abi::io_uring_params& p) {
  RingBytes b;
  const abi::io_sqring_offsets& s = p.sq_off;
  const abi::io_cqring_offsets& c = p.cq_off;
  // The SQ ring ends with its index array (NO_SQARRAY: array is 0, as the kernel leaves it, and the
  // array-sized region still covers the header, which the geometry check verifies).
  b.sqRing = static_cast<uint64_t>(s.array) + static_cast<uint64_t>(p.sq_entries) * 4;
  b.cqRing = static_cast<uint64_t>(c.cqes) + static_cast<uint64_t>(p.cq_entries) * sizeof(abi::io_uring_cqe);
  b.sqes = static_cast<uint64_t>(p.sq_entries) * sizeof(abi::io_uring_sqe);
  return b;
}

int CheckRingGeometry(const abi::io_uring_params& p, uint64_t sqRingBytes, uint64_t cqRingBytes,
                      uint64_t sqesBytes, GeometryFault* f) {
  int r = CheckParamsShape(p, f);
  if (r < 0) return r;
  const abi::io_sqring_offsets& s = p.sq_off;
  const abi::io_cqring_offsets& c = p.cq_off;
  if ((r = CheckU32Field("sq_off.head", s.head, sqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("sq_off.tail", s.tail, sqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("sq_off.ring_mask", s.ring_mask, sqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("sq_off.ring_entries", s.ring_entries, sqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("sq_off.flags", s.flags, sqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("sq_off.dropped", s.dropped, sqRingBytes, f)) < 0) return r;
  if (!(p.flags & abi::SETUP_NO_SQARRAY)) {
    if (s.array % 4 != 0) return Fault(f, "sq_off.array", "4-byte aligned offset (bound: alignment)", s.array, 4);
    const uint64_t end = static_cast<uint64_t>(s.array) + static_cast<uint64_t>(p.sq_entries) * 4;
    if (end > sqRingBytes) return Fault(f, "sq_off.array", "array + sq_entries * 4 <= mapping size", end, sqRingBytes);
  }
  if ((r = CheckU32Field("cq_off.head", c.head, cqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("cq_off.tail", c.tail, cqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("cq_off.ring_mask", c.ring_mask, cqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("cq_off.ring_entries", c.ring_entries, cqRingBytes, f)) < 0) return r;
  if ((r = CheckU32Field("cq_off.overflow", c.overflow, cqRingBytes, f)) < 0) return r;
  // cq_off.flags exists since 5.8 (0 before: still inside the region).
  if ((r = CheckU32Field("cq_off.flags", c.flags, cqRingBytes, f)) < 0) return r;
  if (c.cqes % alignof(abi::io_uring_cqe) != 0)
    return Fault(f, "cq_off.cqes", "8-byte aligned offset (bound: alignment)", c.cqes, alignof(abi::io_uring_cqe));
  const uint64_t cqesEnd = static_cast<uint64_t>(c.cqes) + static_cast<uint64_t>(p.cq_entries) * sizeof(abi::io_uring_cqe);
  if (cqesEnd > cqRingBytes) return Fault(f, "cq_off.cqes", "cqes + cq_entries * 16 <= mapping size", cqesEnd, cqRingBytes);
  const uint64_t sqesNeed = static_cast<uint64_t>(p.sq_entries) * sizeof(abi::io_uring_sqe);
  if (sqesNeed > sqesBytes) return Fault(f, "sqes", "sq_entries * 64 <= SQE mapping size", sqesNeed, sqesBytes);
  return 0;
}

int CheckMappedGeometry(const abi::io_uring_params& p, const void* sqRing, const void* cqRing, GeometryFault* f) {
  const abi::io_sqring_offsets& s = p.sq_off;
  const abi::io_cqring_offsets& c = p.cq_off;
  uint32_t v = LoadU32(sqRing, s.ring_mask);
  if (v != p.sq_entries - 1) return Fault(f, "mapped sq ring_mask", "== sq_entries - 1 (bound)", v, p.sq_entries - 1);
  v = LoadU32(sqRing, s.ring_entries);
  if (v != p.sq_entries) return Fault(f, "mapped sq ring_entries", "== sq_entries (bound)", v, p.sq_entries);
  v = LoadU32(cqRing, c.ring_mask);
  if (v != p.cq_entries - 1) return Fault(f, "mapped cq ring_mask", "== cq_entries - 1 (bound)", v, p.cq_entries - 1);
  v = LoadU32(cqRing, c.ring_entries);
  if (v != p.cq_entries) return Fault(f, "mapped cq ring_entries", "== cq_entries (bound)", v, p.cq_entries);
  // Outstanding entries never exceed a ring's size (unsigned distance, as the kernel counts).
  const uint32_t sqOut = LoadU32(sqRing, s.tail) - LoadU32(sqRing, s.head);
  if (sqOut > p.sq_entries) return Fault(f, "mapped sq tail - head", "<= sq_entries (bound)", sqOut, p.sq_entries);
  const uint32_t cqOut = LoadU32(cqRing, c.tail) - LoadU32(cqRing, c.head);
  if (cqOut > p.cq_entries) return Fault(f, "mapped cq tail - head", "<= cq_entries (bound)", cqOut, p.cq_entries);
  return 0;
}

}  // namespace uring

// Ring geometry checks (issue 12, points 6 and 7): the entry counts, masks, offsets and layout
// flags the kernel hands back from io_uring_setup are checked before any pointer is derived from
// them and again, read back from the mapping, right after mmap. A kernel answer that breaks them
// (a patched kernel, an emulation, a bug) becomes -EPROTO with the offending field named, which the
// ring-setup probe reports as ABI_MISMATCH, instead of out-of-bounds reads and writes or a loop
// that never ends.
//
// All size arithmetic is done in 64 bits on values already bounded (entries <= 65536, offsets are
// 32-bit), so none of it can overflow.
#pragma once

#include <errno.h>

#include <cstddef>
#include <cstdint>

#include "abi.h"

namespace uring {

// What a failed check returns (distinct from every errno io_uring_setup or mmap give).
constexpr int kGeometryError = -EPROTO;

// The kernel's own bounds: IORING_MAX_ENTRIES and IORING_MAX_CQ_ENTRIES (2 * IORING_MAX_ENTRIES).
constexpr uint32_t kMaxSqEntries = 32768;
constexpr uint32_t kMaxCqEntries = 65536;

// Setup flags that change the layout of the rings in ways the ring-access layer does not handle
// (128-byte SQEs, 32-byte or mixed-size CQEs, rings in caller memory, a registered ring index in
// place of an fd). NO_SQARRAY is handled (RingMemory::sqArray is null).
constexpr uint32_t kUnsupportedLayoutFlags = abi::SETUP_SQE128 | abi::SETUP_CQE32 | abi::SETUP_CQE_MIXED |
                                             abi::SETUP_NO_MMAP | abi::SETUP_REGISTERED_FD_ONLY;
// Every setup flag this addon knows (abi.h); a bit past them may change the layout too (6.18's
// SQE_MIXED is 1 << 19), so it is refused as well.
constexpr uint32_t kKnownSetupFlags = (abi::SETUP_CQE_MIXED << 1) - 1;

// Which rule a field broke, with its value and the bound it broke.
struct GeometryFault {
  const char* field = nullptr;  // e.g. "sq_entries", "sq_off.ring_mask", "mapped cq ring_entries", "flags"
  const char* rule = nullptr;   // e.g. "power of two <= bound", "field end <= mapping size"
  uint64_t value = 0;
  uint64_t bound = 0;
};

// The bytes each region must at least span for these params (unaligned): SQ ring up to the end of
// its index array (or of its last header field with NO_SQARRAY), CQ ring up to the end of the CQE
// array, the SQE array. Only meaningful once CheckParamsShape passed (entries bounded).
struct RingBytes {
  uint64_t sqRing = 0;
  uint64_t cqRing = 0;
  uint64_t sqes = 0;
};

// Entry counts (non-zero powers of two, sq <= 32768, cq <= 65536, cq >= sq) and flags (no layout
// flag the layout does not handle, no unknown bit). 0 or kGeometryError (fault filled).
int CheckParamsShape(const abi::io_uring_params& p, GeometryFault* fault);

// The sizes to map (call after CheckParamsShape passed).
RingBytes RingBytesFor(const abi::io_uring_params& p);

// Everything that can be checked before mmap, against the sizes about to be mapped: the shape
// above, and every sq_off/cq_off field inside its region (u32 fields 4 bytes, the SQ index array
// sq_entries * 4 bytes, the CQE array cq_entries * 16 bytes), u32 fields 4-byte aligned, the CQE
// array 8-byte aligned (its user_data is a u64), the SQE region >= sq_entries * 64 bytes.
// 0 or kGeometryError (fault filled).
int CheckRingGeometry(const abi::io_uring_params& p, uint64_t sqRingBytes, uint64_t cqRingBytes,
                      uint64_t sqesBytes, GeometryFault* fault);

// After mmap: what the kernel wrote into the mapping agrees with params: ring_mask == entries - 1,
// ring_entries == entries, and tail - head <= entries on both rings (a fresh ring: nothing more
// than a ring's worth is outstanding; loops over tail - head are then bounded). `sqRing`/`cqRing`
// are the mapped regions (the same for a single mapping); call after CheckRingGeometry passed for
// their sizes. 0 or kGeometryError (fault filled).
int CheckMappedGeometry(const abi::io_uring_params& p, const void* sqRing, const void* cqRing, GeometryFault* fault);

}  // namespace uring

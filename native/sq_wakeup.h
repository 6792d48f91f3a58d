// SQPOLL: waking the kernel's SQ thread (issue 12, point 4).
#pragma once

#include <cstdint>

#include "abi.h"

// With IORING_SETUP_SQPOLL the kernel's SQ thread takes SQEs from the ring by itself; io_uring_enter
// only reports to_submit as "submitted" (and waits for completions with GETEVENTS). After
// sq_thread_idle ms (1000 by default) without work the thread goes to sleep and sets
// IORING_SQ_NEED_WAKEUP in the SQ ring's flags word (sq_off.flags): from then on SQEs we publish sit
// in the ring until an io_uring_enter passes IORING_ENTER_SQ_WAKEUP. Without that, every operation
// after about a second idle times out.
namespace uring {

// Whether the SQ thread is asleep and must be woken for SQEs already published. Call it only after
// the new SQ tail has been stored (release). Ordering, as liburing's sq_ring_needs_enter: the
// kernel stores NEED_WAKEUP, then a full barrier, then re-reads our tail before it sleeps; we store
// the tail, then a full barrier, then read the flags. A release store followed by a plain load may
// be reordered (store->load), and then both sides could miss the other's store: the thread sleeps
// with our SQE in the ring while we see no NEED_WAKEUP. The seq_cst fence forbids that; the flags
// load itself may be relaxed.
inline bool sqNeedsWakeup(const uint32_t* sqFlags) {
  if (!sqFlags) return true;  // flags word unknown: wake it (harmless when it is awake)
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return (__atomic_load_n(sqFlags, __ATOMIC_RELAXED) & abi::SQ_NEED_WAKEUP) != 0;
}

// The io_uring_enter flag to add when handing the kernel `toSubmit` published SQEs on a ring set up
// with `ringFlags`: ENTER_SQ_WAKEUP on an SQPOLL ring whose thread sleeps, else 0. Nothing to
// submit: no wakeup (a needless wake keeps the thread spinning another sq_thread_idle).
inline uint32_t sqWakeupFlag(uint32_t ringFlags, const uint32_t* sqFlags, uint32_t toSubmit) {
  if (!(ringFlags & abi::SETUP_SQPOLL) || toSubmit == 0) return 0;
  return sqNeedsWakeup(sqFlags) ? abi::ENTER_SQ_WAKEUP : 0;
}

}  // namespace uring

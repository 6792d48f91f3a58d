// The ring-access layer's waits (see ring_access.h).
#include "ring_access.h"

#include <errno.h>

namespace uring {

// SQEs to name as to_submit: published ones the kernel has not taken (under SQPOLL the count
// only tells the kernel to wake its thread and is what it returns).
static uint32_t PublishedUntaken(const Ring& r) {
  return __atomic_load_n(r.mem.sqTail, __ATOMIC_RELAXED) - SqHead(r);
}

int Submit(Ring& r) {
  return EnterBounded(r.fd, r.params.features, r.params.flags, PublishedUntaken(r), 0, 0, r.forcePoll, r.mem.sqFlags);
}

int SubmitAndWait(Ring& r, uint32_t waitNr, int64_t deadlineMs) {
  if (waitNr == 0) {
    const int e = Submit(r);
    return e < 0 ? e : static_cast<int>(CqReady(r));
  }
  // The kernel cannot post more CQEs than its CQ ring holds at once (pre-6.x kernels do not clamp
  // min_complete and would wait until the timeout).
  const uint32_t cqEntries = *r.mem.cqRingEntries;
  const uint32_t want = waitNr < cqEntries ? waitNr : cqEntries;
  // Each round is one bounded enter; the loop ends at the deadline (a round that returns early
  // without what we want is followed by another with less time left, and none once it is 0).
  for (;;) {
    const uint32_t pending = PublishedUntaken(r);
    const uint32_t ready = CqReady(r);
    if (ready >= want && pending == 0) return static_cast<int>(ready);
    const int64_t left = deadlineMs - MonotonicMs();
    const int timeout = left <= 0 ? 0 : (left > 0x7fffffff ? 0x7fffffff : static_cast<int>(left));
    const uint32_t more = ready >= want ? 0 : want - ready;
    const int e = EnterBounded(r.fd, r.params.features, r.params.flags, pending, more, timeout, r.forcePoll,
                               r.mem.sqFlags);
    const uint32_t now = CqReady(r);
    if (e < 0 && e != -ETIME) return e;
    if (now >= want) {
      // Everything we published has been handed over (or the SQPOLL thread was told).
      if (r.sqpoll() || PublishedUntaken(r) == 0) return static_cast<int>(now);
      if (e >= 0 && PublishedUntaken(r) < pending) continue;  // partial submit making progress
      return static_cast<int>(now);  // the caller sees the untaken SQEs through SqTaken
    }
    if (left <= 0) return -ETIME;
    if (e == -ETIME) {
      // The wait ran out; one last look happens in the next round with the deadline passed.
      continue;
    }
    // The kernel returned early with fewer CQEs than asked for: wait again, with less time.
  }
}

}  // namespace uring

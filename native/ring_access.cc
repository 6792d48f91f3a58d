// The ring-access layer's waits (see ring_access.h).
#include "ring_access.h"

#include <errno.h>
#include <poll.h>

#include "sq_wakeup.h"
#include "syscalls.h"

namespace uring {

// ---------------------------------------------------------------------------
// Bounded io_uring_enter
// ---------------------------------------------------------------------------
int EnterBounded(int ringFd, uint32_t features, uint32_t ringFlags, uint32_t toSubmit, uint32_t waitNr,
                 int timeoutMs, bool forcePoll, const uint32_t* sqFlags) {
  // DEFER_TASKRUN rings post completions only while the task is inside io_uring_enter with
  // GETEVENTS, so every enter on such a ring asks for events (min_complete 0 returns at once).
  const uint32_t getevents = (ringFlags & abi::SETUP_DEFER_TASKRUN) ? abi::ENTER_GETEVENTS : 0;
  // SQPOLL: an enter that hands the kernel SQEs wakes its SQ thread when that sleeps (sq_wakeup.h).
  // Asked right before each such enter (the SQEs were published before this call).

  if (waitNr == 0) {
    for (;;) {
      int r = sys::IoUringEnter(ringFd, toSubmit, 0, getevents | sqWakeupFlag(ringFlags, sqFlags, toSubmit),
                                nullptr, 0);
      if (r != -EINTR) return r;
    }
  }
  if (timeoutMs < 0) timeoutMs = 0;
  const int64_t deadline = MonotonicMs() + timeoutMs;

  if ((features & abi::FEAT_EXT_ARG) && !forcePoll) {
    // The kernel bounds the wait itself: GETEVENTS | EXT_ARG with a relative timeout.
    for (;;) {
      int64_t remaining = deadline - MonotonicMs();
      if (remaining < 0) remaining = 0;
      abi::kernel_timespec ts;
      ts.tv_sec = remaining / 1000;
      ts.tv_nsec = (remaining % 1000) * 1000000LL;
      abi::io_uring_getevents_arg arg{};
      arg.ts = reinterpret_cast<uint64_t>(&ts);
      int r = sys::IoUringEnter(ringFd, toSubmit, waitNr,
                                abi::ENTER_GETEVENTS | abi::ENTER_EXT_ARG | sqWakeupFlag(ringFlags, sqFlags, toSubmit),
                                &arg, sizeof(arg));
      if (r == -ETIMEDOUT) return -ETIME;
      if (r != -EINTR) return r;
      // EINTR: the seed retries; SQEs already consumed are not submitted twice (the kernel takes
      // at most what lies between its head and our tail).
    }
  }

  // No EXT_ARG (kernels < 5.11): submit without waiting, then poll() the ring fd, which reports
  // POLLIN when the CQ ring has entries, in slices so that task work gets run in between.
  int submitted = 0;
  if (toSubmit > 0) {
    for (;;) {
      int r = sys::IoUringEnter(ringFd, toSubmit, 0, getevents | sqWakeupFlag(ringFlags, sqFlags, toSubmit),
                                nullptr, 0);
      if (r == -EINTR) continue;
      if (r < 0) return r;
      submitted = r;
      break;
    }
  }
  for (;;) {
    // Run pending task work (COOP_TASKRUN / DEFER_TASKRUN) so completions reach the CQ ring.
    int r = sys::IoUringEnter(ringFd, 0, 0, abi::ENTER_GETEVENTS, nullptr, 0);
    if (r < 0 && r != -EINTR) return r;
    int64_t remaining = deadline - MonotonicMs();
    struct pollfd pfd;
    pfd.fd = ringFd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    int slice = remaining > 50 ? 50 : static_cast<int>(remaining < 0 ? 0 : remaining);
    r = sys::Poll(&pfd, 1, slice);
    if (r < 0 && r != -EINTR) return r;
    if (r > 0 && (pfd.revents & POLLIN)) {
      sys::IoUringEnter(ringFd, 0, 0, abi::ENTER_GETEVENTS, nullptr, 0);
      return submitted;
    }
    if (remaining <= 0) return -ETIME;
  }
}

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

// See probe_common.h.
#include "probes/probe_common.h"

#include <errno.h>

#include "ring_access.h"

namespace probe {

using uring::RingMemory;

int SubmitReserved(uring::Ring& r, int64_t deadlineMs) {
  const uint32_t queued = uring::SqUnsubmitted(r);
  uring::Publish(r);
  const int e = uring::Submit(r);
  if (e < 0) {
    uring::TakeBack(r, uring::SqHead(r), [](const abi::io_uring_sqe&) {});
    return e;
  }
  uring::SubmitAndWait(r, 1, deadlineMs);  // -ETIME: the caller finds no CQE
  return static_cast<int>(queued - uring::SqUnsubmitted(r));
}

void RawNop(int fd, const abi::io_uring_params& p, const RingMemory& view, uint64_t userData, int timeoutMs,
            NopOutcome* out) {
  out->hasCqeRes = false;
  uring::Ring ring;
  uring::RingAttach(&ring, fd, p, view);
  abi::io_uring_sqe* sqe = uring::GetSqe(ring);
  if (!sqe) {
    out->enterRes = -EBUSY;
    return;
  }
  uring::PrepNop(sqe, userData);
  const int64_t deadline = uring::MonotonicMs() + timeoutMs;
  // SQPOLL: the kernel's SQ thread submits; Submit wakes it when it went idle (IORING_SQ_NEED_WAKEUP).
  out->enterRes = SubmitReserved(ring, deadline);
  if (out->enterRes < 0) return;
  for (;;) {
    uring::ForEachCqe(ring, [&](const abi::io_uring_cqe& cqe) {
      if (cqe.user_data != userData) return true;
      out->hasCqeRes = true;
      out->cqeRes = cqe.res;
      return false;
    });
    if (out->hasCqeRes) return;
    if (uring::SubmitAndWait(ring, 1, deadline) < 0) return;  // -ETIME at the deadline
  }
}

}  // namespace probe

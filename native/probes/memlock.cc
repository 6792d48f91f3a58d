// See memlock.h.
#include "probes/memlock.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include "abi.h"
#include "syscalls.h"

namespace probe {
namespace {

uint64_t NowUs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

uint64_t FromRlim(rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(v); }

int SetSoft(rlim_t soft, rlim_t hard) {
  struct rlimit rl = {soft, hard};
  return sys::Setrlimit(RLIMIT_MEMLOCK, &rl);
}

// One ring of the seed's kind; the flags do not change its size, so CLAMP alone is enough.
int TryRing(uint32_t entries) {
  abi::io_uring_params p{};
  p.flags = abi::SETUP_CLAMP;
  return sys::IoUringSetupOnce(entries, &p);
}

struct Job {
  const MemlockInput* in;
  MemlockOutput* out;
  rlim_t hard;
};

// Raise the soft limit page by page from `*pages` until a ring of `entries` is created.
int ScanFor(Job* job, uint32_t entries, uint32_t* pages, uint32_t limitPages, int* fd) {
  for (; *pages <= limitPages; (*pages)++) {
    int r = SetSoft(static_cast<rlim_t>(*pages) * job->out->pageSize, job->hard);
    if (r < 0) return r;
    job->out->attempts++;
    *fd = TryRing(entries);
    if (*fd >= 0) return 0;
    if (*fd != -ENOMEM) return *fd;
  }
  return -ENOMEM;
}

void* Measure(void* arg) {
  Job* job = static_cast<Job*>(arg);
  MemlockOutput* out = job->out;
  const rlim_t soft = static_cast<rlim_t>(out->softLimit == UINT64_MAX ? RLIM_INFINITY : out->softLimit);

  const char* stage = "";
  if (int r = runctx::ApplyCredentials(job->in->who, &stage); r < 0) {
    out->res = r;
    out->stage = stage;
    return nullptr;
  }
  // Is the service charged at all? With its own capabilities, at a zero soft limit.
  if (int r = SetSoft(0, job->hard); r < 0) {
    out->res = r;
    out->stage = "setrlimit";
    return nullptr;
  }
  int fd = TryRing(1);
  out->chargeTestRes = fd < 0 ? fd : 0;
  if (fd >= 0) sys::Close(fd);
  if (fd < 0 && fd != -ENOMEM && fd != -EINVAL) {
    SetSoft(soft, job->hard);
    return nullptr;  // io_uring refused before accounting: nothing to measure
  }
  // The costs, measured as an uncapable process of the same user is charged.
  runctx::Context bare = job->in->who;
  bare.setIds = false;
  bare.setCaps = true;
  bare.caps = 0;
  if (int r = runctx::ApplyCredentials(bare, &stage); r < 0) {
    out->res = r;
    out->stage = stage;
    SetSoft(soft, job->hard);
    return nullptr;
  }
  out->scanned = true;
  const uint64_t hardBytes = FromRlim(job->hard);
  uint64_t limitBytes = job->in->scanLimitBytes < hardBytes ? job->in->scanLimitBytes : hardBytes;
  out->scanLimitPages = static_cast<uint32_t>(limitBytes / out->pageSize);
  const uint64_t t0 = NowUs();
  uint32_t pages = 0;
  int fds[3] = {-1, -1, -1};
  const uint32_t entries[3] = {job->in->sendEntries, job->in->recvEntries, job->in->sendEntries};
  uint32_t* thresholds[3] = {&out->sendThreshold, &out->pairThreshold, &out->thirdThreshold};
  int r = 0;
  for (int i = 0; i < 3 && r == 0; i++) {
    r = ScanFor(job, entries[i], &pages, out->scanLimitPages, &fds[i]);
    if (r == 0) *thresholds[i] = pages;
    else fds[i] = -1;
  }
  out->scanRes = r;
  out->scanUs = NowUs() - t0;
  for (int f : fds) {
    if (f >= 0) sys::Close(f);
  }
  SetSoft(soft, job->hard);
  return nullptr;
}

// Pages the kernel charges for a ring of `entries`: the rings region (CQE array, then the SQ index
// array unless NO_SQARRAY) and the SQE array, each rounded up to whole pages.
uint32_t GeometryPages(uint32_t entries, uint64_t pageSize) {
  abi::io_uring_params p{};
  p.flags = abi::SETUP_CLAMP;
  int fd = sys::IoUringSetupOnce(entries, &p);
  if (fd < 0) return 0;
  sys::Close(fd);
  uint64_t cqEnd = p.cq_off.cqes + static_cast<uint64_t>(p.cq_entries) * sizeof(abi::io_uring_cqe);
  uint64_t sqEnd = p.sq_off.array + static_cast<uint64_t>(p.sq_entries) * sizeof(uint32_t);
  uint64_t rings = cqEnd > sqEnd ? cqEnd : sqEnd;
  uint64_t sqes = static_cast<uint64_t>(p.sq_entries) * sizeof(abi::io_uring_sqe);
  return static_cast<uint32_t>((rings + pageSize - 1) / pageSize + (sqes + pageSize - 1) / pageSize);
}

}  // namespace

void MemlockProbe(const MemlockInput& in, MemlockOutput* out) {
  out->pageSize = static_cast<uint64_t>(sys::PageSize());
  struct rlimit orig;
  if (int r = sys::Getrlimit(RLIMIT_MEMLOCK, &orig); r < 0) {
    out->res = r;
    out->stage = "getrlimit";
    return;
  }
  out->softLimit = FromRlim(orig.rlim_cur);
  out->hardLimit = FromRlim(orig.rlim_max);
  // The scan may need a soft limit above the service's hard limit (to measure the cost of a pair
  // that does not fit); only a privileged caller can raise the hard limit, and does so just for
  // the scan.
  Job job{&in, out, orig.rlim_max};
  if (orig.rlim_max != RLIM_INFINITY && orig.rlim_max < in.scanLimitBytes) {
    struct rlimit raised = {orig.rlim_cur, static_cast<rlim_t>(in.scanLimitBytes)};
    if (sys::Setrlimit(RLIMIT_MEMLOCK, &raised) == 0) job.hard = raised.rlim_max;
  }
  // A thread of its own: it takes the service's ids, which cannot be given back.
  pthread_t t;
  int r = pthread_create(&t, nullptr, &Measure, &job);
  if (r != 0) {
    out->res = -r;
    out->stage = "thread";
  } else {
    pthread_join(t, nullptr);
  }
  setrlimit(RLIMIT_MEMLOCK, &orig);
  // As the calling (privileged) thread: not charged when it holds CAP_IPC_LOCK.
  out->sendGeometryPages = GeometryPages(in.sendEntries, out->pageSize);
  out->recvGeometryPages = GeometryPages(in.recvEntries, out->pageSize);
}

}  // namespace probe

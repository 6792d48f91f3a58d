// See run_context.h.
#include "run_context.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "breadcrumb.h"
#include "seccomp_compile.h"
#include "syscalls.h"

namespace runctx {
namespace {

// linux/capability.h, version 3: two 32-bit words per set.
constexpr uint32_t kCapabilityVersion3 = 0x20080522;
struct CapHeader {
  uint32_t version;
  int pid;
};
struct CapData {
  uint32_t effective;
  uint32_t permitted;
  uint32_t inheritable;
};

// Per-thread switches: the raw syscalls (sys::Thread*), not glibc's wrappers, which broadcast
// set*id to every thread of the process (POSIX semantics) and would switch Node's own threads too.
int ApplyIds(const Context& c, const char** stage) {
  *stage = "prctl(PR_SET_KEEPCAPS)";
  // Keep the permitted set across the uid change so capset can grant the service's capabilities
  // (systemd's AmbientCapabilities=); without it the kernel clears them on leaving uid 0.
  if (c.setCaps && c.caps != 0) {
    if (int r = sys::Prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL); r < 0) return r;
  }
  *stage = "setgroups";
  if (int r = sys::ThreadSetgroups(c.groups.size(), c.groups.empty() ? nullptr : c.groups.data()); r < 0) return r;
  *stage = "setresgid";
  if (int r = sys::ThreadSetresgid(c.gid, c.gid, c.gid); r < 0) return r;
  *stage = "setresuid";
  if (int r = sys::ThreadSetresuid(c.uid, c.uid, c.uid); r < 0) return r;
  return 0;
}

int ApplyCaps(uint64_t caps) {
  CapHeader h{kCapabilityVersion3, 0};
  CapData d[2] = {};
  d[0].effective = d[0].permitted = static_cast<uint32_t>(caps);
  d[1].effective = d[1].permitted = static_cast<uint32_t>(caps >> 32);
  return sys::Capset(&h, d);
}

class ContextThread {
 public:
  int Start(const Context& ctx, std::string* stage) {
    ctx_ = ctx;
    int r = pthread_create(&thread_, nullptr, &ContextThread::Main, this);
    if (r != 0) {
      *stage = "thread";
      return -r;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return ready_; });
    *stage = stage_;
    if (setupRes_ < 0) {
      lock.unlock();
      pthread_join(thread_, nullptr);
      return setupRes_;
    }
    return 0;
  }

  int Run(const std::function<void()>& fn) {
    std::lock_guard<std::mutex> oneAtATime(callMu_);  // one job slot: callers take turns
    std::unique_lock<std::mutex> lock(mu_);
    if (dead_) return -EOWNERDEAD;
    job_ = &fn;
    jobDone_ = false;
    cv_.notify_all();
    // The job's own waits are bounded; here we only watch for the thread being killed, which
    // nobody would signal. pthread_tryjoin_np sees a dead thread: the kernel clears its tid.
    while (!jobDone_) {
      cv_.wait_until(lock, std::chrono::system_clock::now() + std::chrono::milliseconds(50));
      if (!jobDone_ && pthread_tryjoin_np(thread_, nullptr) == 0) {
        dead_ = true;
        return -EOWNERDEAD;
      }
    }
    job_ = nullptr;
    return 0;
  }

 private:
  static void* Main(void* self) {
    static_cast<ContextThread*>(self)->Loop();
    return nullptr;
  }

  int Apply(const char** stage) {
    if (int r = ApplyCredentials(ctx_, stage); r < 0) return r;
    if (!ctx_.bpf.empty()) {
      *stage = "seccomp";
      // Last: from here on every syscall of this thread is the filter's to judge.
      if (int r = seccompc::InstallOnThisThread(ctx_.bpf); r < 0) return r;
    }
    *stage = "";
    return 0;
  }

  void Loop() {
    const char* stage = "";
    int res = Apply(&stage);
    std::unique_lock<std::mutex> lock(mu_);
    setupRes_ = res;
    stage_ = stage;
    ready_ = true;
    cv_.notify_all();
    if (res < 0) return;
    // Wait for jobs for the life of the process (no exit path: exiting would make syscalls the
    // service's filter may kill, and the process ends with the probe child anyway).
    for (;;) {
      cv_.wait(lock, [this] { return job_ != nullptr && !jobDone_; });
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      jobDone_ = true;
      cv_.notify_all();
    }
  }

  Context ctx_;
  pthread_t thread_{};
  std::mutex callMu_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  int setupRes_ = 0;
  std::string stage_;
  const std::function<void()>* job_ = nullptr;
  bool jobDone_ = true;
  bool dead_ = false;
};

ContextThread* gThread = nullptr;
std::mutex gConfigureMu;

}  // namespace

int ApplyCredentials(const Context& ctx, const char** stage) {
  if (ctx.setIds) {
    if (int r = ApplyIds(ctx, stage); r < 0) return r;
  }
  if (ctx.setCaps) {
    *stage = "capset";
    if (int r = ApplyCaps(ctx.caps); r < 0) return r;
  }
  *stage = "";
  return 0;
}

int Configure(const Context& ctx, std::string* stage) {
  std::lock_guard<std::mutex> guard(gConfigureMu);
  if (gThread) {
    *stage = "configure";
    return -EALREADY;
  }
  auto* t = new ContextThread();  // lives as long as the process
  int r = t->Start(ctx, stage);
  if (r < 0) {
    delete t;
    return r;
  }
  gThread = t;
  return 0;
}

bool Configured() {
  std::lock_guard<std::mutex> guard(gConfigureMu);
  return gThread != nullptr;
}

int Run(const std::function<void()>& fn) {
  ContextThread* t;
  {
    std::lock_guard<std::mutex> guard(gConfigureMu);
    t = gThread;
  }
  if (!t) {
    fn();
    return 0;
  }
  return t->Run(fn);
}

void DieOfThreadKill() {
  breadcrumb::gPage->threadKilled.store(1, std::memory_order_relaxed);
  signal(SIGSYS, SIG_DFL);
  kill(getpid(), SIGSYS);
  for (;;) pause();
}

}  // namespace runctx

// A joinable native thread whose start failure is an -errno (std::thread throws, which aborts under -fno-exceptions).
#pragma once

#include <errno.h>
#include <pthread.h>

#include <functional>
#include <utility>

namespace native {

// Start() returns 0 or -errno (pthread_create's EAGAIN under a pids limit, ...). The object must
// stay where it is while the thread runs; the destructor joins a thread that is still running.
class NativeThread {
 public:
  NativeThread() = default;
  NativeThread(const NativeThread&) = delete;
  NativeThread& operator=(const NativeThread&) = delete;
  ~NativeThread() { Join(); }

  int Start(std::function<void()> body) {
    if (started_) return -EBUSY;
    body_ = std::move(body);
    int r = pthread_create(&thread_, nullptr, &NativeThread::Trampoline, this);
    if (r != 0) return -r;
    started_ = true;
    return 0;
  }

  void Join() {
    if (!started_) return;
    pthread_join(thread_, nullptr);
    started_ = false;
  }

 private:
  static void* Trampoline(void* self) {
    static_cast<NativeThread*>(self)->body_();
    return nullptr;
  }

  pthread_t thread_{};
  bool started_ = false;
  std::function<void()> body_;
};

}  // namespace native

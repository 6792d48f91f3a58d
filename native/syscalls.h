// Thin raw-syscall wrappers returning >= 0 or -errno: the only place in the addon that reads errno.
#pragma once

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "abi.h"
#include "breadcrumb.h"
#include "ring_ledger.h"

namespace sys {

inline int NegErrno() { return -errno; }

// io_uring_setup exactly once: no waiting (the memlock probe measures with it).
inline int IoUringSetupOnce(uint32_t entries, abi::io_uring_params* p) {
  breadcrumb::Note(abi::NR_io_uring_setup);
  long r = syscall(abi::NR_io_uring_setup, entries, p);
  if (r < 0) return NegErrno();
  ledger::NoteRingCreated(static_cast<int>(r));
  return static_cast<int>(r);
}

// io_uring_setup with a params pointer we never dereference ourselves: the layout probe puts it
// right before an inaccessible page to see how many bytes the kernel reads (no retry, no copy).
inline int IoUringSetupRaw(uint32_t entries, void* params) {
  breadcrumb::Note(abi::NR_io_uring_setup);
  long r = syscall(abi::NR_io_uring_setup, entries, params);
  if (r < 0) return NegErrno();
  ledger::NoteRingCreated(static_cast<int>(r));
  return static_cast<int>(r);
}

// io_uring_setup as a fresh process would see it: an ENOMEM shortly after one of our own rings was
// closed is retried until the kernel has given that ring's memory back (bounded, see ring_ledger.h).
inline int IoUringSetup(uint32_t entries, abi::io_uring_params* p) {
  const abi::io_uring_params input = *p;
  bool retried = false;
  for (;;) {
    int r = IoUringSetupOnce(entries, p);
    if (r != -ENOMEM || !ledger::WaitSliceForRelease()) {
      if (r >= 0 && retried) ledger::NoteRecovered();
      return r;
    }
    *p = input;  // the kernel may have written to it
    retried = true;
  }
}

// One io_uring_enter; EINTR is NOT retried here (callers decide, like the seed's loop).
inline int IoUringEnter(int fd, uint32_t toSubmit, uint32_t minComplete, uint32_t flags, const void* arg,
                        size_t argSize) {
  breadcrumb::Note(abi::NR_io_uring_enter);
  long r = syscall(abi::NR_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argSize);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

inline int IoUringRegister(int fd, uint32_t op, void* arg, uint32_t nrArgs) {
  breadcrumb::Note(abi::NR_io_uring_register);
  long r = syscall(abi::NR_io_uring_register, fd, op, arg, nrArgs);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

// mmap: 0 and *out set, or -errno (MAP_FAILED never escapes).
inline int Mmap(size_t length, int prot, int flags, int fd, uint64_t offset, void** out) {
  #ifdef SYS_mmap
  breadcrumb::Note(SYS_mmap);
#else
  breadcrumb::Note(SYS_mmap2);
#endif
  void* p = mmap(nullptr, length, prot, flags, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    *out = nullptr;
    return NegErrno();
  }
  *out = p;
  return 0;
}

inline int Munmap(void* addr, size_t length) { return munmap(addr, length) < 0 ? NegErrno() : 0; }

inline int Mprotect(void* addr, size_t length, int prot) { return mprotect(addr, length, prot) < 0 ? NegErrno() : 0; }

inline int Close(int fd) {
  ledger::NoteFdClosing(fd);
  return close(fd) < 0 ? NegErrno() : 0;
}

inline int Socket(int domain, int type, int protocol) {
  breadcrumb::Note(SYS_socket);
  int r = socket(domain, type, protocol);
  return r < 0 ? NegErrno() : r;
}

inline int Bind(int fd, const struct sockaddr* addr, socklen_t len) {
  breadcrumb::Note(SYS_bind);
  return bind(fd, addr, len) < 0 ? NegErrno() : 0;
}

inline int GetSockName(int fd, struct sockaddr* addr, socklen_t* len) {
  breadcrumb::Note(SYS_getsockname);
  return getsockname(fd, addr, len) < 0 ? NegErrno() : 0;
}

inline int SetSockOpt(int fd, int level, int name, const void* value, socklen_t len) {
  breadcrumb::Note(SYS_setsockopt);
  return setsockopt(fd, level, name, value, len) < 0 ? NegErrno() : 0;
}

// sendto / sendmsg / recvmsg retry EINTR.
inline int SendTo(int fd, const void* buf, size_t len, int flags, const struct sockaddr* to, socklen_t toLen) {
  breadcrumb::Note(SYS_sendto);
  for (;;) {
    ssize_t r = sendto(fd, buf, len, flags, to, toLen);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

inline int SendMsg(int fd, const struct msghdr* msg, int flags) {
  breadcrumb::Note(SYS_sendmsg);
  for (;;) {
    ssize_t r = sendmsg(fd, msg, flags);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

inline int RecvMsg(int fd, struct msghdr* msg, int flags) {
  breadcrumb::Note(SYS_recvmsg);
  for (;;) {
    ssize_t r = recvmsg(fd, msg, flags);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

// sendmmsg (EINTR retried): datagrams sent (>= 0) or -errno.
inline int SendMmsg(int fd, struct mmsghdr* vec, unsigned int vlen, int flags) {
  breadcrumb::Note(SYS_sendmmsg);
  for (;;) {
    int r = sendmmsg(fd, vec, vlen, flags);
    if (r >= 0) return r;
    if (errno != EINTR) return NegErrno();
  }
}

// recvmmsg without a timeout (EINTR retried): datagrams received (>= 0) or -errno.
inline int RecvMmsg(int fd, struct mmsghdr* vec, unsigned int vlen, int flags) {
  breadcrumb::Note(SYS_recvmmsg);
  for (;;) {
    int r = recvmmsg(fd, vec, vlen, flags, nullptr);
    if (r >= 0) return r;
    if (errno != EINTR) return NegErrno();
  }
}

// nanosleep for `ms` milliseconds; EINTR sleeps on for the time that was left.
inline int SleepMs(uint32_t ms) {
  breadcrumb::Note(SYS_nanosleep);
  struct timespec d = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  for (;;) {
    if (nanosleep(&d, &d) == 0) return 0;
    if (errno != EINTR) return NegErrno();
  }
}

// sched_setaffinity / sched_getaffinity of the calling thread (pid 0).
inline int SchedSetAffinity(const cpu_set_t* set) {
  breadcrumb::Note(SYS_sched_setaffinity);
  return sched_setaffinity(0, sizeof *set, set) < 0 ? NegErrno() : 0;
}

inline int SchedGetAffinity(cpu_set_t* set) {
  breadcrumb::Note(SYS_sched_getaffinity);
  return sched_getaffinity(0, sizeof *set, set) < 0 ? NegErrno() : 0;
}

// poll with EINTR surfaced to the caller (it recomputes the remaining time).
inline int Poll(struct pollfd* fds, nfds_t n, int timeoutMs) {
  #ifdef SYS_poll
  breadcrumb::Note(SYS_poll);
#else
  breadcrumb::Note(SYS_ppoll);
#endif
  int r = poll(fds, n, timeoutMs);
  return r < 0 ? NegErrno() : r;
}

inline long PageSize() { return sysconf(_SC_PAGESIZE); }

}  // namespace sys

// Thin raw-syscall wrappers returning >= 0 or -errno: the only place in the addon that reads errno.
#pragma once

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "abi.h"

namespace sys {

inline int NegErrno() { return -errno; }

inline int IoUringSetup(uint32_t entries, abi::io_uring_params* p) {
  long r = syscall(abi::NR_io_uring_setup, entries, p);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

// One io_uring_enter; EINTR is NOT retried here (callers decide, like the seed's loop).
inline int IoUringEnter(int fd, uint32_t toSubmit, uint32_t minComplete, uint32_t flags, const void* arg,
                        size_t argSize) {
  long r = syscall(abi::NR_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argSize);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

inline int IoUringRegister(int fd, uint32_t op, void* arg, uint32_t nrArgs) {
  long r = syscall(abi::NR_io_uring_register, fd, op, arg, nrArgs);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

// mmap: 0 and *out set, or -errno (MAP_FAILED never escapes).
inline int Mmap(size_t length, int prot, int flags, int fd, uint64_t offset, void** out) {
  void* p = mmap(nullptr, length, prot, flags, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    *out = nullptr;
    return NegErrno();
  }
  *out = p;
  return 0;
}

inline int Munmap(void* addr, size_t length) { return munmap(addr, length) < 0 ? NegErrno() : 0; }

inline int Close(int fd) { return close(fd) < 0 ? NegErrno() : 0; }

inline int Socket(int domain, int type, int protocol) {
  int r = socket(domain, type, protocol);
  return r < 0 ? NegErrno() : r;
}

inline int Bind(int fd, const struct sockaddr* addr, socklen_t len) {
  return bind(fd, addr, len) < 0 ? NegErrno() : 0;
}

inline int GetSockName(int fd, struct sockaddr* addr, socklen_t* len) {
  return getsockname(fd, addr, len) < 0 ? NegErrno() : 0;
}

inline int SetSockOpt(int fd, int level, int name, const void* value, socklen_t len) {
  return setsockopt(fd, level, name, value, len) < 0 ? NegErrno() : 0;
}

// sendto / sendmsg / recvmsg retry EINTR.
inline int SendTo(int fd, const void* buf, size_t len, int flags, const struct sockaddr* to, socklen_t toLen) {
  for (;;) {
    ssize_t r = sendto(fd, buf, len, flags, to, toLen);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

inline int SendMsg(int fd, const struct msghdr* msg, int flags) {
  for (;;) {
    ssize_t r = sendmsg(fd, msg, flags);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

inline int RecvMsg(int fd, struct msghdr* msg, int flags) {
  for (;;) {
    ssize_t r = recvmsg(fd, msg, flags);
    if (r >= 0) return static_cast<int>(r);
    if (errno != EINTR) return NegErrno();
  }
}

// poll with EINTR surfaced to the caller (it recomputes the remaining time).
inline int Poll(struct pollfd* fds, nfds_t n, int timeoutMs) {
  int r = poll(fds, n, timeoutMs);
  return r < 0 ? NegErrno() : r;
}

inline long PageSize() { return sysconf(_SC_PAGESIZE); }

}  // namespace sys

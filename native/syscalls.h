// Thin raw-syscall wrappers returning >= 0 or -errno: the only place in the addon that reads errno.
#pragma once

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
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

// One nanosleep of `ns` (>= 0), EINTR NOT retried (it only shortens the sleep). 0 or -errno.
inline int SleepNsOnce(int64_t ns) {
  breadcrumb::Note(SYS_nanosleep);
  struct timespec d = {static_cast<time_t>(ns / 1000000000LL), static_cast<long>(ns % 1000000000LL)};
  return nanosleep(&d, nullptr) < 0 ? NegErrno() : 0;
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

// ---------------------------------------------------------------------------
// Files, process attributes, credentials and seccomp (seccomp_compile.cc, run_context.cc,
// breadcrumb.cc, memlock_probe.cc). Same contract: >= 0 or -errno.
// ---------------------------------------------------------------------------

// lseek: the new offset (>= 0) or -errno.
inline int64_t Lseek(int fd, int64_t offset, int whence) {
  breadcrumb::Note(SYS_lseek);
  off_t r = lseek(fd, static_cast<off_t>(offset), whence);
  return r < 0 ? NegErrno() : static_cast<int64_t>(r);
}

// read (EINTR retried): bytes read (>= 0, 0 at end of file) or -errno.
inline ssize_t Read(int fd, void* buf, size_t len) {
  breadcrumb::Note(SYS_read);
  for (;;) {
    ssize_t r = read(fd, buf, len);
    if (r >= 0) return r;
    if (errno != EINTR) return NegErrno();
  }
}

// fstat (glibc 2.33+ makes it newfstatat(fd, "", AT_EMPTY_PATH); the breadcrumb names that one).
inline int Fstat(int fd, struct stat* st) {
// (__GLIBC_PREREQ is glibc's: on musl it is not defined, and an undefined function-like macro in
// an #if is an error even behind &&, hence the separate macro.)
#if defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
#define URING_FSTAT_IS_NEWFSTATAT 1
#endif
#endif
#if defined(SYS_newfstatat) && defined(URING_FSTAT_IS_NEWFSTATAT)
  breadcrumb::Note(SYS_newfstatat);
#elif defined(SYS_fstat)
  breadcrumb::Note(SYS_fstat);
#else
  breadcrumb::Note(SYS_fstat64);
#endif
  return fstat(fd, st) < 0 ? NegErrno() : 0;
}

// memfd_create as the raw syscall (glibc has a wrapper only from 2.27): the fd or -errno.
inline int MemfdCreate(const char* name, unsigned int flags) {
  breadcrumb::Note(SYS_memfd_create);
  long r = syscall(SYS_memfd_create, name, static_cast<unsigned long>(flags));
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

// prctl with every argument a whole unsigned long (prctl is variadic; the kernel wants unused
// arguments to be zero in all 64 bits). Its result (>= 0: some options return a value) or -errno.
inline int Prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) {
  breadcrumb::Note(SYS_prctl);
  int r = prctl(option, arg2, arg3, arg4, arg5);
  return r < 0 ? NegErrno() : r;
}

// seccomp(2) as the raw syscall (no glibc wrapper): its result or -errno.
inline int Seccomp(unsigned int operation, unsigned int flags, void* args) {
  breadcrumb::Note(SYS_seccomp);
  long r = syscall(SYS_seccomp, static_cast<unsigned long>(operation), static_cast<unsigned long>(flags), args);
  return r < 0 ? NegErrno() : static_cast<int>(r);
}

// Credentials of the CALLING THREAD only: the raw syscalls, not glibc's wrappers, which broadcast
// set*id to every thread of the process (POSIX semantics). 0 or -errno.
inline int ThreadSetgroups(size_t size, const gid_t* list) {
  breadcrumb::Note(SYS_setgroups);
  return syscall(SYS_setgroups, size, list) < 0 ? NegErrno() : 0;
}

inline int ThreadSetresgid(gid_t rgid, gid_t egid, gid_t sgid) {
  breadcrumb::Note(SYS_setresgid);
  return syscall(SYS_setresgid, rgid, egid, sgid) < 0 ? NegErrno() : 0;
}

inline int ThreadSetresuid(uid_t ruid, uid_t euid, uid_t suid) {
  breadcrumb::Note(SYS_setresuid);
  return syscall(SYS_setresuid, ruid, euid, suid) < 0 ? NegErrno() : 0;
}

// capset(2) (per thread; header and data are linux/capability.h's layouts). 0 or -errno.
inline int Capset(void* header, void* data) {
  breadcrumb::Note(SYS_capset);
  return syscall(SYS_capset, header, data) < 0 ? NegErrno() : 0;
}

// getrlimit / setrlimit of this process. Current glibc makes both as prlimit64(0, ...) (2.36 here); the breadcrumb
// names that one where the platform has it. 0 or -errno.
inline int Getrlimit(int resource, struct rlimit* out) {
#ifdef SYS_prlimit64
  breadcrumb::Note(SYS_prlimit64);
#else
  breadcrumb::Note(SYS_getrlimit);
#endif
  return getrlimit(resource, out) < 0 ? NegErrno() : 0;
}

inline int Setrlimit(int resource, const struct rlimit* rl) {
#ifdef SYS_prlimit64
  breadcrumb::Note(SYS_prlimit64);
#else
  breadcrumb::Note(SYS_setrlimit);
#endif
  return setrlimit(resource, rl) < 0 ? NegErrno() : 0;
}

inline long PageSize() { return sysconf(_SC_PAGESIZE); }

}  // namespace sys

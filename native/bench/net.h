// Socket, thread and clock helpers of the bench engine: the bench's only place that reads errno.
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>  // struct timeval, suseconds_t: glibc brings them through <sys/socket.h>, musl does not
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "abi.h"
#include "syscalls.h"

namespace bench {
namespace net {

constexpr int kSolUdp = 17;      // SOL_UDP
constexpr int kUdpSegment = 103; // UDP_SEGMENT (GSO, 4.18+)
constexpr int kUdpGro = 104;     // UDP_GRO (5.0+)

inline int Neg(long r) { return r < 0 ? -errno : static_cast<int>(r); }

inline int UdpSocket() { return Neg(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)); }
inline int Close(int fd) { return fd >= 0 ? sys::Close(fd) : 0; }
inline int SetInt(int fd, int level, int opt, int value) {
  return Neg(::setsockopt(fd, level, opt, &value, sizeof value));
}
// SO_RCVBUFFORCE (root) and else SO_RCVBUF; the kernel doubles the value it stores.
inline int SetRcvbuf(int fd, int bytes) {
  if (SetInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes) == 0) return 0;
  return SetInt(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}
inline int SetSndbuf(int fd, int bytes) {
  if (SetInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, bytes) == 0) return 0;
  return SetInt(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}
inline int SetRecvTimeout(int fd, int ms) {
  struct timeval tv = {ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
  return Neg(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
}
// Bind to 127.0.0.1 port 0 and read back the address the kernel picked.
inline int BindLoopback(int fd, sockaddr_in* out) {
  std::memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(out), sizeof *out) < 0) return -errno;
  socklen_t len = sizeof *out;
  return Neg(::getsockname(fd, reinterpret_cast<sockaddr*>(out), &len));
}
inline long SendMsg(int fd, const msghdr* m, int flags) {
  long r = ::sendmsg(fd, m, flags);
  return r < 0 ? -errno : r;
}
inline long RecvMsg(int fd, msghdr* m, int flags) {
  for (;;) {
    long r = ::recvmsg(fd, m, flags);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}
inline int SendMmsg(int fd, mmsghdr* v, unsigned n, int flags) { return Neg(::sendmmsg(fd, v, n, flags)); }
inline int RecvMmsg(int fd, mmsghdr* v, unsigned n, int flags) {
  for (;;) {
    int r = ::recvmmsg(fd, v, n, flags, nullptr);
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}
inline long IoUringSetup(uint32_t entries, void* params) {
  return sys::IoUringSetup(entries, static_cast<abi::io_uring_params*>(params));
}
inline int IoUringRegister(int fd, unsigned op, void* arg, unsigned n) { return sys::IoUringRegister(fd, op, arg, n); }

inline uint64_t NowNs(clockid_t clock) {
  struct timespec ts;
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t MonoNs() { return NowNs(CLOCK_MONOTONIC); }
inline uint64_t ThreadCpuNs() { return NowNs(CLOCK_THREAD_CPUTIME_ID); }
inline void SleepMs(uint32_t ms) {
  struct timespec d = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  while (::nanosleep(&d, &d) < 0 && errno == EINTR) {
  }
}
// Pin the calling thread to one CPU (best effort).
inline int PinTo(int cpu) {
  if (cpu < 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return Neg(::sched_setaffinity(0, sizeof set, &set));
}
// The first two CPUs this process may run on, or -1 each when fewer than two are allowed.
inline void PickCpus(int* a, int* b) {
  *a = *b = -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) < 0) return;
  int found[2] = {-1, -1}, n = 0;
  for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
    if (CPU_ISSET(c, &set)) found[n++] = c;
  if (n == 2) {
    *a = found[0];
    *b = found[1];
  }
}

// Udp RcvbufErrors and InErrors from /proc/net/snmp; false when unreadable.
inline bool ReadUdpErrors(int64_t* rcvbufErrors, int64_t* inErrors) {
  FILE* f = std::fopen("/proc/net/snmp", "re");
  if (!f) return false;
  char names[1024] = {0}, line[1024];
  bool ok = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "Udp: ", 5) != 0) continue;
    if (!names[0]) {
      std::memcpy(names, line, sizeof names);
      continue;
    }
    // second "Udp:" line: values in the same order as the names
    char* np = nullptr;
    char* vp = nullptr;
    char* n = strtok_r(names + 5, " \n", &np);
    char* v = strtok_r(line + 5, " \n", &vp);
    while (n && v) {
      if (!std::strcmp(n, "RcvbufErrors")) *rcvbufErrors = std::strtoll(v, nullptr, 10), ok = true;
      if (!std::strcmp(n, "InErrors")) *inErrors = std::strtoll(v, nullptr, 10);
      n = strtok_r(nullptr, " \n", &np);
      v = strtok_r(nullptr, " \n", &vp);
    }
    break;
  }
  std::fclose(f);
  return ok;
}

}  // namespace net
}  // namespace bench

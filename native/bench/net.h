// Bench-specific socket, CPU and clock helpers, built on the sys:: wrappers (native/syscalls.h):
// nothing here reads errno or makes a raw syscall that can fail with one.
#pragma once

#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>  // struct timeval, suseconds_t: glibc brings them through <sys/socket.h>, musl does not
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "syscalls.h"

namespace bench {
namespace net {

constexpr int kSolUdp = 17;      // SOL_UDP
constexpr int kUdpSegment = 103; // UDP_SEGMENT (GSO, 4.18+)
constexpr int kUdpGro = 104;     // UDP_GRO (5.0+)

inline int UdpSocket() { return sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); }
inline int Close(int fd) { return fd >= 0 ? sys::Close(fd) : 0; }
inline int SetInt(int fd, int level, int opt, int value) { return sys::SetSockOpt(fd, level, opt, &value, sizeof value); }
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
  return sys::SetSockOpt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}
// Bind to 127.0.0.1 port 0 and read back the address the kernel picked.
inline int BindLoopback(int fd, sockaddr_in* out) {
  std::memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = sys::Bind(fd, reinterpret_cast<sockaddr*>(out), sizeof *out);
  if (r < 0) return r;
  socklen_t len = sizeof *out;
  return sys::GetSockName(fd, reinterpret_cast<sockaddr*>(out), &len);
}

// Clocks: clock_gettime on these clocks cannot fail (vDSO, no errno).
inline uint64_t NowNs(clockid_t clock) {
  struct timespec ts;
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t MonoNs() { return NowNs(CLOCK_MONOTONIC); }
inline uint64_t ThreadCpuNs() { return NowNs(CLOCK_THREAD_CPUTIME_ID); }
// Pin the calling thread to one CPU (best effort).
inline int PinTo(int cpu) {
  if (cpu < 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sys::SchedSetAffinity(&set);
}
// The first two CPUs this process may run on, or -1 each when fewer than two are allowed.
inline void PickCpus(int* a, int* b) {
  *a = *b = -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sys::SchedGetAffinity(&set) < 0) return;
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

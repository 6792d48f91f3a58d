// Loopback UDP throughput engine: a sender and a receiver thread per run, one technique per mode (no JS).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bench {

enum class Mode : uint8_t { Seed, SeedBatch, Syscall, Mmsg, Multishot, Gso };

constexpr uint32_t kMinSize = 24;     // 16-byte header + 4-byte trailer + room
constexpr uint32_t kMaxSize = 8192;
constexpr uint32_t kMaxBatch = 1024;
constexpr uint32_t kMaxDepth = 2048;  // the seed's pool cap
constexpr uint32_t kMaxInject = 4096;

// Parse / name a mode ("seed", "seed-batch", "syscall", "mmsg", "multishot", "gso").
bool ParseMode(const char* name, Mode* out);
const char* ModeName(Mode m);

struct ThroughputConfig {
  Mode mode = Mode::Syscall;
  uint32_t size = 64;          // datagram payload bytes
  uint32_t durationMs = 1000;  // how long the sender sends
  uint32_t batch = 32;         // datagrams per batched send / recvmmsg vector
  uint32_t depth = 64;         // receive pool (seed modes) / provided buffers / 8 (multishot)
  uint32_t extraRingFlags = 0; // ORed into every flag set of the seed's ladder (e.g. SINGLE_ISSUER|DEFER_TASKRUN)
  int rcvbuf = 4 << 20;        // receiver SO_RCVBUF(FORCE) bytes; 0 = leave the kernel default
  uint32_t stallMs = 0;        // receiver sleeps this long before its first receive (tests: drops)
  uint32_t inject = 0;         // garbled datagrams a third socket sends to the receiver (tests: corruption)
  bool pin = true;             // pin sender and receiver to different CPUs when two are allowed
};

struct ThroughputResult {
  int res = 0;                 // 0, or -errno of the step named in `stage`
  const char* stage = "done";  // socket | bind | thread | send-ring | recv-ring | pbuf-ring | send | receive | done
  const char* skipped = nullptr;  // set when the kernel lacks the technique (the mode did not run)
  uint64_t sent = 0;           // datagrams the sender handed to the kernel successfully
  uint64_t received = 0;       // datagrams that arrived with the right length and intact header/trailer
  uint64_t corrupt = 0;        // datagrams that arrived but failed the check (foreign, garbled, truncated)
  uint64_t bytesReceived = 0;  // payload bytes of the valid datagrams
  uint64_t sendErrors = 0;     // send completions / calls that failed (first errno in sendErrno)
  int sendErrno = 0;
  int64_t rcvbufErrors = -1;   // delta of Udp RcvbufErrors in /proc/net/snmp (-1: unreadable)
  int64_t inErrors = -1;       // delta of Udp InErrors
  uint64_t senderElapsedUs = 0;   // sender start .. sender stop
  uint64_t receiveElapsedUs = 0;  // sender start .. last datagram received
  uint64_t senderCpuUs = 0;    // CLOCK_THREAD_CPUTIME_ID of each thread over the run
  uint64_t receiverCpuUs = 0;
  int senderCpu = -1, receiverCpu = -1;  // pinned CPUs (-1: not pinned)
  uint32_t sendRingFlags = 0, recvRingFlags = 0;  // accepted setup flags (io_uring modes)
  uint32_t gsoSegments = 0;    // datagrams per GSO send (gso mode)
};

// Run one measurement. Blocks the calling thread for about durationMs (+ drain, bounded).
void RunThroughput(const ThroughputConfig& cfg, ThroughputResult* out);

enum class PingPongMode : uint8_t { Seed, Syscall };

struct PingPongConfig {
  PingPongMode mode = PingPongMode::Syscall;
  uint32_t size = 64;
  uint32_t durationMs = 500;
  uint32_t maxRounds = 200000;
  uint32_t extraRingFlags = 0;
  bool pin = true;
};

struct PingPongResult {
  int res = 0;
  const char* stage = "done";
  uint64_t rounds = 0;
  uint64_t corrupt = 0;
  uint64_t timeouts = 0;       // a reply did not come within the bounded wait
  double p50Us = 0, p99Us = 0, minUs = 0, maxUs = 0, meanUs = 0;
};

void RunPingPong(const PingPongConfig& cfg, PingPongResult* out);

}  // namespace bench

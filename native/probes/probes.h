// The kernel operations behind each addon function, as plain C++ inputs and results (no JS). Each is
// defined in the file named after the TypeScript probe that calls it (src/probes/<probe>.ts ->
// native/probes/<probe>.cc); what several share is in probe_common.h. (memlockProbe: memlock.h.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ring.h"

namespace probe {

// An internal failure (not a kernel answer under test): the addon rejects with a Node-style Error.
struct InternalError {
  const char* syscall = nullptr;  // null = none
  int err = 0;                    // -errno
};

// ---- ringLadder (ring_setup.cc) ----
struct RingLadderInput {
  bool recv = false;
  uint32_t entries = 0;
  int poolSize = uring::kDefaultRecvPoolSize;
  int bufferSize = uring::kDefaultRecvBufferSize;
  std::vector<uint32_t> flagSets;  // empty = the seed's ladder
  bool registerMaxWorkers = true;
  // recv only: create the seed's send ring first and keep it while the receive ring is set up,
  // as the seed holds both (their memory is charged together where rings count against memlock)
  bool holdSendRing = false;
};
struct RingLadderOutput {
  uring::SetupReport report;
  bool hasRecvPool = false;
  int poolSize = 0;
  uring::FillReport fill;  // the pool's RECVMSG: written by us, taken by the kernel
  int heldSendRes = 0;            // holdSendRing: the send ring's setup result (0 or -errno)
  uint32_t heldSendEntries = 0;   // and the entries it got
  InternalError internal;
};
void RingLadder(const RingLadderInput& in, RingLadderOutput* out);

// ---- mappingCompare (single_mmap.cc) ----
struct MappingView {
  bool attempted = false;  // the single mapping is made only with FEAT_SINGLE_MMAP
  int res = 0;
  bool mapped = false;
  uring::RingMapping mapping;
};
// One CQE slot read through one mapping (without consuming it).
struct CqeRead {
  bool present = false;  // the CQ ring seen through this mapping had an entry at its head
  uint64_t userData = 0;
  int32_t res = 0;
  uint32_t flags = 0;
};
// A NOP submitted through one mapping, its CQE read through both before being consumed.
struct NopViews {
  const char* submittedThrough = "separate";
  uint64_t userData = 0;
  int enterRes = 0;
  CqeRead viaSeparate;
  CqeRead viaSingle;
};
struct MappingCompareOutput {
  int res = 0;
  bool featSingleMmap = false;
  MappingView separate;
  MappingView single;
  int nopCount = 0;
  NopViews nops[2];
  bool agree = false;
};
// singleFromOtherRing (tests): the "single" view maps a second ring instead, so the comparison
// meets a real disagreement (the kernel's answers for two different rings).
void MappingCompare(uint32_t entries, bool singleFromOtherRing, MappingCompareOutput* out);

// ---- paramsLayout (cqe_alignment.cc) ----
// How many bytes of io_uring_params the kernel really reads and writes, measured: io_uring_setup
// with the params placed right before an inaccessible page, and with canary bytes past each field.
constexpr int kParamsWindow = 128;
struct ParamsLayoutOutput {
  uint32_t entries = 8;
  uint32_t flags = 0;
  int res = 0;                      // setup with the whole window accessible: 0 or -errno
  uint8_t window[kParamsWindow]{};  // that window after the setup (the kernel's params + canary)
  int copyOut = -1;                 // 1 + last window byte the kernel changed (bytes >= 40 canaried)
  int probeRoom = 0;                // the room asked about (the seed's struct size)
  int probeRoomRes = 0;             // setup with only `probeRoom` bytes before the inaccessible page
  int copyIn = -1;                  // smallest room that setup accepted (-1: not found)
  int copyInRes = 0;                // when not found: the result at the largest room tried
};
void ParamsLayout(int probeRoom, ParamsLayoutOutput* out);

// ---- probeOpcodes (opcodes.cc) ----
struct OpcodeProbeOutput {
  int res = 0;
  int lastOp = 0;
  std::vector<std::pair<uint8_t, bool>> ops;
};
void ProbeOpcodes(OpcodeProbeOutput* out);

// ---- multishotRecvmsg (opcodes.cc) ----
struct MultishotOutput {
  int res = 0;
  const char* stage = "setup";
  int packetsSent = 0;
  int completions = 0;
  bool moreFlag = false;
  bool bufferFlag = false;
  bool payloadOk = false;
  // How the multishot request ended before its buffers went (issue 12, point 5): its final CQE
  // (without IORING_CQE_F_MORE) reaped, by itself or after our ASYNC_CANCEL (awaited, bounded by
  // uring::kCancelWaitMs). When it did not come in time the buffer memory is leaked on purpose
  // (cancel.leaked) instead of unmapped under a request that may still write into it.
  bool armed = false;        // the kernel took the multishot RECVMSG
  bool terminated = false;   // its final CQE was reaped
  int32_t finalRes = 0;      // that CQE's res (-ECANCELED after our cancel)
  uring::CancelReport cancel;  // targets 0: nothing to cancel (never armed, or it ended by itself)
};
void MultishotRecvmsg(int timeoutMs, MultishotOutput* out);

// ---- trySetupFlags (setup_flags.cc) ----
struct SetupFlagOutput {
  uint32_t flags = 0;
  int res = 0;
  uint32_t features = 0;
  uint32_t sqEntries = 0;
  uint32_t cqEntries = 0;
  // NO_MMAP with userMemory: the ring lives in our memory; a NOP goes through it
  bool userMemory = false;
  int memRes = 0;        // allocating that memory (0 or -errno)
  bool nopTried = false;
  int nopEnterRes = 0;
  bool nopHasCqe = false;
  int32_t nopCqeRes = 0;
};
// userMemory: with IORING_SETUP_NO_MMAP, give the kernel page-aligned ring memory of our own
// (cq_off.user_addr: SQ/CQ rings, sq_off.user_addr: SQEs) instead of null addresses.
void TrySetupFlags(uint32_t flags, uint32_t entries, uint32_t cqEntries, bool userMemory, SetupFlagOutput* out);

// ---- singleIssuerCrossThread (single_issuer.cc) ----
struct NopOutcome {
  int enterRes = 0;
  bool hasCqeRes = false;
  int32_t cqeRes = 0;
};
struct SingleIssuerOutput {
  uint32_t flags = 0;  // the setup flags tried
  int setupRes = 0;
  NopOutcome sameThread;
  NopOutcome otherThread;
  InternalError internal;
};
// extraFlags: added to SINGLE_ISSUER|CLAMP (tests: SQPOLL, whose SQ thread is the one issuer).
void SingleIssuerCrossThread(uint32_t extraFlags, SingleIssuerOutput* out);

// ---- loopback (loopback.cc) ----
struct LoopbackInput {
  int family = 4;
  std::vector<uint32_t> sizes;
  uint32_t batch = 0;
  int poolSize = uring::kDefaultRecvPoolSize;
  int timeoutMs = uring::kDefaultWaitTimeoutMs;
  bool forcePollWait = false;  // wait with poll() on the ring fd even where FEAT_EXT_ARG exists
};
struct SendCounters {
  uint32_t calls = 0;
  uint32_t entries = 0;
  uint64_t bytes = 0;
  uint32_t errors = 0;
  int firstErrno = 0;  // -errno of the first failure, 0 when none
};
struct LoopbackOutput {
  int res = 0;
  const char* stage = "socket";
  bool hasSendRing = false;
  uint32_t sendEntries = 0, sendFlags = 0;
  bool hasRecvRing = false;
  uint32_t recvEntries = 0, recvFlags = 0;
  int recvQueued = 0;
  SendCounters sendmsg;
  SendCounters batch;
  // The seed's synchronous Recvmsg on the send ring (one datagram sent back from the receiver's
  // socket to the sender's): counted like the sends, verified like the pool's datagrams.
  SendCounters recvmsg;
  bool recvmsgOk = false;
  uint32_t received = 0;
  uint32_t expected = 0;
  bool bytesOk = true;
  bool lengthsOk = true;
  bool sourceOk = true;
  std::vector<std::string> mismatches;
  int64_t elapsedUs = 0;
  InternalError internal;
};
// Largest datagram the loopback test accepts per family (IPv4 65507, IPv6 65527) and the
// smallest (the 8-byte header carrying the magic and sequence number).
constexpr uint32_t kLoopbackMinSize = 8;
uint32_t LoopbackMaxSize(int family);
void Loopback(const LoopbackInput& in, LoopbackOutput* out);

}  // namespace probe

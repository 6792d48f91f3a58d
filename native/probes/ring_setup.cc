// ringLadder (the ring-setup probe): the seed's setup ladder for its send or receive ring, plain C++ results.
#include "probes/probes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probes/probe_common.h"
#include "ring.h"
#include "syscalls.h"

namespace probe {

// ---------------------------------------------------------------------------
// ringLadder
// ---------------------------------------------------------------------------
void RingLadder(const RingLadderInput& in, RingLadderOutput* out) {
  uring::SetupOptions opts;
  opts.entries = in.entries;
  opts.registerMaxWorkers = in.registerMaxWorkers;
  opts.poolSize = in.poolSize;
  opts.bufferSize = in.bufferSize;
  if (!in.flagSets.empty()) {
    opts.flagSets = in.flagSets.data();
    opts.flagSetCount = static_cast<int>(in.flagSets.size());
  }
  if (!in.recv) {
    uring::SendRing ring;
    ring.Setup(opts, &out->report);
    return;  // the ring closes here
  }
  uring::SendRing held;  // closes when this function returns, after the receive ring
  if (in.holdSendRing) {
    uring::SetupOptions sendOpts;
    sendOpts.registerMaxWorkers = in.registerMaxWorkers;
    uring::SetupReport sendReport;
    out->heldSendRes = held.Setup(sendOpts, &sendReport);
    out->heldSendEntries = sendReport.ok ? sendReport.params.sq_entries : 0;
  }
  // The receive ring needs the socket it receives from: a UDP socket on 127.0.0.1.
  int s = sys::Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    out->internal = InternalError{"socket", s};
    return;
  }
  FdGuard sock(s);
  struct sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = sys::Bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
  if (r < 0) {
    out->internal = InternalError{"bind", r};
    return;
  }
  uring::RecvRing ring;
  r = ring.Setup(s, opts, &out->report);
  if (r < 0) return;
  out->hasRecvPool = true;
  out->poolSize = ring.poolSize();
  ring.FillRecvQueue(&out->fill);
}

}  // namespace probe

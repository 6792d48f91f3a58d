// What porting the seed (the Go io_uring UDP ring that native/ reproduces) found wrong in it: one table, read by
// `uring-probe explain seed`, the foot of `check --verbose`, the report's `seedFindings` and the schema's description.
//
// Every entry was checked against the seed's text (`evidence` quotes it verbatim, whitespace as in the flattened
// copy; test/seed-findings.test.ts holds the quotes to it when the copy is there), and where a claim is about the
// kernel or Go it was measured: the `consequence` says what was seen and where.

export interface SeedFinding {
  /** stable kebab-case id: what reports carry in `seedFindings` and `explain seed:<id>` takes */
  id: string;
  /** one line */
  title: string;
  /** the seed's Go functions and types concerned */
  goSymbols: string[];
  /** what the seed does, naming its Go functions and types */
  seed: string;
  /** verbatim excerpts of the seed that show it */
  evidence: string[];
  /** what follows from it */
  consequence: string;
  /** on which kernels, and under which conditions, it happens */
  conditions: string;
  /** the kernel features concerned, by their IORING_* names ('io_uring' for io_uring itself); explain adds their releases */
  kernelFeatures: string[];
  /** the fix, in the seed's own Go terms */
  fix: string;
  /** where the port differs: the file in native/ and what it does instead (or why it does the same on purpose) */
  port: string;
  /** the native/ files `port` names */
  portFiles: string[];
}

export const SEED_FINDINGS: readonly SeedFinding[] = [
  {
    id: 'params-struct-112-bytes',
    title: 'ioUringParams is 112 bytes, the kernel\'s 120: setup zeroes 8 bytes past it',
    goSymbols: ['ioCqringOffsets', 'ioUringParams', 'newIoUringState', 'newIoUringRecvState', 'init'],
    seed:
      'ioCqringOffsets declares `Overflow uint32; Cqes uint32; Resv [2]uint32` (32 bytes) where the kernel\'s io_cqring_offsets has ' +
      '`overflow; cqes; flags; resv1` and then `__u64 user_addr` (40 bytes), so ioUringParams is 112 bytes against the kernel\'s 120. ' +
      'newIoUringState and newIoUringRecvState pass &params to io_uring_setup; init() checks the SQE and CQE sizes but not this one.',
    evidence: [
      'type ioCqringOffsets struct { Head uint32 Tail uint32 RingMask uint32 RingEntries uint32 Overflow uint32 Cqes uint32 Resv [2]uint32 }',
      'fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(tries), uintptr(unsafe.Pointer(',
      'if sz := unsafe.Sizeof(ioUringCqe{}); sz != 16 {',
    ],
    consequence:
      'io_uring_setup reads 120 bytes from &params and, once the ring exists, copies 120 bytes back (copy_to_user of the whole struct in io_uring_create): ' +
      'the 8 bytes after the seed\'s variable are overwritten with zeros (older kernels memset cq_off, later ones zero resv2, and from 6.5 user_addr unless NO_MMAP is set). ' +
      'Whatever Go placed there, a slot of newIoUringState\'s stack frame or the next heap object, is silently zeroed on every ring created. ' +
      'The fields the seed reads (Head to Cqes) sit at the right offsets, so the rings work and nothing points at the damage. ' +
      'Measured here (Linux 6.18): unsafe.Sizeof(ioUringParams{}) is 112, and a canary placed right after the seed\'s struct reads 0 after io_uring_setup.',
    conditions: 'Every kernel with io_uring (5.1 on): every successful io_uring_setup, for both rings, including the attempts of the ENOMEM and EINVAL ladder that succeed.',
    kernelFeatures: ['io_uring'],
    fix:
      'Declare the kernel\'s layout: `type ioCqringOffsets struct { Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1 uint32; UserAddr uint64 }`, ' +
      'and add `if sz := unsafe.Sizeof(ioUringParams{}); sz != 120 { panic(...) }` to init() next to the SQE and CQE checks.',
    port:
      'native/abi.h declares io_cqring_offsets as the kernel does (flags, resv1, user_addr: 40 bytes) and static_asserts sizeof(io_uring_params) == 120; ' +
      'the cqe-alignment probe measures what the kernel copies (the smallest room io_uring_setup accepts before an unmapped page, and the last byte it writes) ' +
      'and compares it field by field with the seed\'s declared structs (native/probes/cqe_alignment.cc ParamsLayout), passing with reason SEED_LAYOUT on every kernel that copies 120 bytes.',
    portFiles: ['native/abi.h', 'native/probes/cqe_alignment.cc'],
  },
  {
    id: 'full-sq-waits-forever',
    title: 'A full SQ: getSqeLocked waits for a completion without submitting, forever',
    goSymbols: ['ioUringState.getSqeLocked', 'ioUringState.submitAndWaitLocked', 'ioUringState.SendmsgBatch', 'ioUringState.popCqeLocked'],
    seed:
      'When tail - head reaches the ring\'s entries, ioUringState.getSqeLocked calls submitAndWaitLocked(0, 1): io_uring_enter(fd, 0, 1, GETEVENTS), submit nothing and wait for one completion. ' +
      'The SQEs filling the ring are published (tail advanced) but not yet submitted: SendmsgBatch submits only after it has enqueued the whole batch. ' +
      'submitAndWaitLocked also ignores how many SQEs io_uring_enter consumed.',
    evidence: [
      '}).Warn("getSqeLocked: io_uring ring is FULL, waiting for completions") if err := r.submitAndWaitLocked(0, 1); err != nil {',
      'if err := r.submitAndWaitLocked(submit, submit); err != nil {',
    ],
    consequence:
      'Nothing is in flight, so no completion can come: the goroutine blocks in io_uring_enter for good, holding r.mu, and every later Sendmsg, SendmsgBatch or Recvmsg on that ring blocks behind it. ' +
      'An SQE left behind by a short submit waits the same way, in popCqeLocked\'s own submitAndWaitLocked(0, 1). ' +
      'Measured here (Linux 6.18): a ring of 8 filled with unsubmitted NOPs, io_uring_enter(0, 1) still waiting after 3 s (an alarm interrupted it; the seed retries EINTR); io_uring_enter(8, 1) returned at once.',
    conditions:
      'Every kernel: a SendmsgBatch with more entries than the send ring\'s SQ, 256 by default and fewer when ENOMEM made the seed halve the ring (RING_SHRUNK), down to 8.',
    kernelFeatures: ['io_uring'],
    fix:
      'When the SQ is full, submit what is queued: count the SQEs published but not yet submitted and call submitAndWaitLocked(unsubmitted, 1), ' +
      'taking io_uring_enter\'s return value off the count; or split SendmsgBatch into chunks of at most sqEntryCount entries.',
    port:
      'native/ring.cc SendRing::getSqe counts the SQEs not yet handed to the kernel (unsubmitted_) and on a full ring calls submitAndWait(unsubmitted_, 1), bounded by the wait timeout; ' +
      'submitAndWait takes what the kernel consumed off that count.',
    portFiles: ['native/ring.cc'],
  },
  {
    id: 'unbounded-waits',
    title: 'Every wait is unbounded (no timeout) and holds the ring\'s mutex',
    goSymbols: [
      'ioUringState.submitAndWaitLocked',
      'ioUringRecvState.submitAndWaitLocked',
      'ioUringState.waitForCqeLocked',
      'ioUringState.Recvmsg',
      'ioUringRecvState.receivePackets',
      'ioUringRecvState.Close',
    ],
    seed:
      'Both submitAndWaitLocked call io_uring_enter(fd, submit, wait, flags, 0, 0), flags GETEVENTS when waiting: no timeout, no signal mask, EINTR retried. ' +
      'Sendmsg and Recvmsg wait (1, 1), SendmsgBatch (n, n), popCqeLocked (0, 1), receivePackets(true) (n, 1), all with r.mu held. ' +
      'The only guard, waitForCqeLocked\'s maxIterations = 1000, counts CQEs, not time.',
    evidence: [
      'unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(wait), flags, 0, 0)',
      'const maxIterations = 1000',
      'r.closed.Store(true) r.mu.Lock() defer r.mu.Unlock()',
    ],
    consequence:
      'A completion that does not come blocks the goroutine for good, with r.mu held: a Recvmsg on the send ring with no datagram blocks every Sendmsg on that ring; ' +
      'ioUringRecvState.Close waits on r.mu.Lock() behind a receivePackets(true), so an idle receive ring cannot be shut down until a datagram arrives. ' +
      'There is no error and no log: the 1000-iteration guard never fires, as each iteration is itself a wait without end.',
    conditions:
      'Every kernel, whenever the awaited completion does not come: an idle socket (Recvmsg, receivePackets(true)), Close while receivePackets waits, the full SQ of full-sq-waits-forever, ' +
      'a kernel or filter that loses completions.',
    kernelFeatures: ['IORING_FEAT_EXT_ARG'],
    fix:
      'Bound every wait: where params.Features has IORING_FEAT_EXT_ARG (5.11) pass IORING_ENTER_EXT_ARG with an io_uring_getevents_arg whose ts points at a __kernel_timespec, ' +
      'and treat ETIME as a timeout; before it, queue an IORING_OP_TIMEOUT SQE (5.4) or poll the ring fd through the netpoller (POLLIN when CQEs are ready). ' +
      'Do not hold r.mu across the wait, and let Close wake a waiter (IORING_OP_ASYNC_CANCEL of the queued receives) before it takes the lock.',
    port:
      'native/ring_access.cc SubmitAndWait bounds every wait by one deadline per operation (the ring\'s wait timeout, 2000 ms by default), through EnterBounded: EXT_ARG with a relative timeout where FEAT_EXT_ARG is set, ' +
      'otherwise a submit and poll() on the ring fd in 50 ms slices; an enter that returns early (the submit count in place of its wait\'s ETIME, a poll woken by the first of several CQEs) is followed by another bounded wait, and a wait that runs out returns -ETIME, which the probes report instead of hanging. ' +
      'native/ring.cc SendRing and native/recv_ring.cc RecvRing::ReceivePackets wait only through it, and no ring holds a lock across a wait (each is driven by one thread, native/ring.h).',
    portFiles: ['native/ring_access.cc', 'native/ring.cc', 'native/recv_ring.cc'],
  },
  {
    id: 'recv-close-double-munmap',
    title: 'ioUringRecvState.Close unmaps the single SQ/CQ mapping twice',
    goSymbols: ['ioUringRecvState.mapRings', 'ioUringRecvState.Close'],
    seed:
      'With IORING_FEAT_SINGLE_MMAP, ioUringRecvState.mapRings maps SQ and CQ ring once and sets r.cqRing = sqRingPtr. ' +
      'Close unmaps r.sqRing and sets it to nil, and only then asks whether cqRing is a separate mapping by comparing it with r.sqRing: ' +
      'len(r.cqRing) != len(r.sqRing) is now always true, so it calls unix.Munmap(r.cqRing) on the region it has just unmapped.',
    evidence: [
      'if params.Features&(1<<0) != 0 { r.cqRing = sqRingPtr }',
      'r.sqRing = nil } if r.cqRing != nil && len(r.cqRing) > 0 { // Only unmap if it\'s a separate mapping if len(r.cqRing) != len(r.sqRing) ||',
    ],
    consequence:
      'golang.org/x/sys/unix keeps a table of the mappings it made: the second Munmap finds none and returns EINVAL, so Close returns EINVAL on every such kernel. ' +
      'If another goroutine mapped a region of the same address and size between the two calls (another ring being set up: the kernel tends to reuse the hole just freed), ' +
      'the second call unmaps that mapping instead, and its owner faults on the next access. ' +
      'Measured here (Linux 6.18, x/sys/unix): the seed\'s mapRings and Close, copied verbatim, return "invalid argument" from Close.',
    conditions:
      'Kernels with IORING_FEAT_SINGLE_MMAP (5.4 on), so every kernel the seed starts on; every Close of a receive ring. ' +
      'The send ring (ioUringState.mapRings) maps SQ and CQ separately and is not affected.',
    kernelFeatures: ['IORING_FEAT_SINGLE_MMAP'],
    fix:
      'Decide before clearing anything: `single := len(r.cqRing) > 0 && len(r.sqRing) > 0 && &r.cqRing[0] == &r.sqRing[0]` ' +
      '(or keep the feature bit mapRings saw), unmap r.cqRing only when !single, then set both to nil.',
    port:
      'native/ring.cc UnmapRings unmaps the CQ ring only when its address differs from the SQ ring\'s (mem->cqRing != mem->sqRing), then the SQ ring and the SQEs; ' +
      'RingMemory.single (native/ring.h) records the single mapping for the single-mmap probe.',
    portFiles: ['native/ring.cc', 'native/ring.h'],
  },
  {
    id: 'send-copy-256-byte-window',
    title: 'enqueueSendmsgLocked copies name/control through a *[256]byte: >256 panics',
    goSymbols: ['ioUringState.enqueueSendmsgLocked', 'ioUringState.Sendmsg', 'ioUringState.SendmsgBatch'],
    seed:
      'There is no 256-byte msghdr: enqueueSendmsgLocked copies the caller\'s sockaddr and control data by converting msg.Name and msg.Control to *[256]byte ' +
      'and slicing [:msg.Namelen] and [:msg.Controllen], a 256-byte window onto whatever they point at. It does so after getSqeLocked has taken (and published) an SQE.',
    evidence: [
      'copy(sockaddrCopy, (*[256]byte)(unsafe.Pointer(msg.Name))[:msg.Namelen])',
      'copy(controlCopy, (*[256]byte)(unsafe.Pointer(msg.Control))[:msg.Controllen])',
    ],
    consequence:
      'A Namelen or Controllen above 256 panics inside Sendmsg or SendmsgBatch: "runtime error: slice bounds out of range [:N] with length 256". ' +
      'Nothing in the seed recovers it, so the process dies. If a caller recovers, the zeroed SQE getSqeLocked had already published (a NOP with user_data 0) goes out ' +
      'with the next submit in place of that call\'s own SQE, and that call then waits for good. ' +
      'Measured here (Go 1.19): the seed\'s copy with Namelen 300 panics with exactly that message; with 28 bytes it copies them, also in a -race build (checkptr does not object).',
    conditions:
      'Every kernel: a caller passing more than 256 bytes of name or control data. UDP\'s own cmsgs (UDP_SEGMENT, IP_PKTINFO, IPV6_PKTINFO) stay well below; several at once, or a caller\'s bug, do not.',
    kernelFeatures: ['IORING_OP_SENDMSG'],
    fix:
      'Copy exactly what the caller gave: `copy(sockaddrCopy, unsafe.Slice(msg.Name, msg.Namelen))` and `copy(controlCopy, unsafe.Slice(msg.Control, msg.Controllen))`, ' +
      'and check the lengths (EINVAL) before getSqeLocked takes an SQE.',
    port:
      'native/ring.cc SendRing::enqueueSendmsg returns -EINVAL when msg_namelen or msg_controllen exceeds kSendCopySize (256, native/ring.h) before it takes an SQE, ' +
      'then memcpy()s exactly namelen and controllen bytes into the slot\'s own 256-byte arrays.',
    portFiles: ['native/ring.cc', 'native/ring.h'],
  },
  {
    id: 'setup-ladder-needs-clamp',
    title: 'The setup ladder never tries without CLAMP: no ring before Linux 5.6',
    goSymbols: ['newIoUringState', 'newIoUringRecvState'],
    seed:
      'Both constructors try flagSets {CLAMP|COOP_TASKRUN, CLAMP}, fall through on EINVAL only while a set is left, and then return the EINVAL. ' +
      'There is no rung without flags, although neither ring needs CLAMP at the seed\'s default sizes (256 send entries, at most 2048 for the receive pool); the comment on the last rung says "All kernels".',
    evidence: [
      'flagSets := []uint32{ ioringSetupClamp | ioringSetupCoopTaskrun, // Kernel 5.19+: reduce thread creation ioringSetupClamp, // All kernels }',
      'if errno == unix.EINVAL && flagSetIdx < len(flagSets)-1 {',
    ],
    consequence:
      'A kernel without IORING_SETUP_CLAMP refuses both rungs with EINVAL and the seed gets no ring at all, although SENDMSG and RECVMSG exist from 5.3: ' +
      'on 5.3 to 5.5 the io_uring path is lost for a flag it does not need. Nor does the seed need FEAT_SINGLE_MMAP (5.4): its receive ring maps SQ and CQ separately without it.',
    conditions:
      'Linux 5.1 to 5.5, unless the distribution backported CLAMP (CLAMP came in 5.6 by the field notes, marked unverified there). 5.1 and 5.2 lack SENDMSG/RECVMSG anyway, so what is lost is 5.3 to 5.5.',
    kernelFeatures: ['IORING_SETUP_CLAMP', 'IORING_OP_SENDMSG', 'IORING_OP_RECVMSG', 'IORING_FEAT_SINGLE_MMAP'],
    fix:
      'Add a last rung without flags, `flagSets := []uint32{ioringSetupClamp | ioringSetupCoopTaskrun, ioringSetupClamp, 0}`, ' +
      'and cap entries yourself, as CLAMP would (without it io_uring_setup refuses more than the kernel\'s maximum with EINVAL).',
    port:
      'It does not differ, on purpose: native/ring.cc RunSetupLadder replays the seed\'s two rungs (kSeedFlagSets in native/ring.h), so ring-setup reports what the seed would get: ' +
      'on such a kernel it fails with the EINVAL. The setup-flags probe tries CLAMP on its own where a ring can be made.',
    portFiles: ['native/ring.cc', 'native/ring.h'],
  },
  {
    id: 'sendmsg-keeps-caller-iovlen',
    title: 'enqueueSendmsgLocked copies one iovec but keeps the caller\'s Iovlen',
    goSymbols: ['ioUringState.enqueueSendmsgLocked', 'ioUringState.enqueueRecvmsgLocked'],
    seed:
      'enqueueSendmsgLocked copies *msg into msgCopy and points msgCopy.Iov at a copy of the first iovec only, leaving msgCopy.Iovlen as the caller set it. ' +
      'The receive side (enqueueRecvmsgLocked) refuses Iovlen > 1 with ENOTSUP and sets Iovlen to 1; the send side checks nothing.',
    evidence: [
      'iovCopy = new(unix.Iovec) *iovCopy = *msg.Iov msgCopy.Iov = iovCopy if iovCopy.Base != nil { payloadRef = unsafe.Pointer(iovCopy.Base) }',
      'if iovCount > 1 { return 0, syscall.ENOTSUP }',
      'msgCopy.Iov = iovCopy setMsghdrIovlen(msgCopy, 1)',
    ],
    consequence:
      'With Iovlen N > 1 (a header and a payload in separate buffers) the kernel reads N iovecs starting at the 16-byte heap copy: the second and later ones are whatever follows it on the Go heap. ' +
      'The datagram then carries bytes of unrelated memory onto the network, or the send fails with EFAULT. ' +
      'Measured here (Linux 6.18): a SENDMSG whose msghdr says 2 iovecs but points at one copy followed by unrelated memory sent the header followed by that memory\'s bytes.',
    conditions: 'Every kernel with SENDMSG (5.3 on): callers of Sendmsg or SendmsgBatch that pass Iovlen > 1.',
    kernelFeatures: ['IORING_OP_SENDMSG'],
    fix:
      'Refuse Iovlen > 1 as enqueueRecvmsgLocked does (return syscall.ENOTSUP before getSqeLocked), or copy the whole array ' +
      '(`unsafe.Slice(msg.Iov, msg.Iovlen)`) and keep every Base alive in pendingSend; either way set msgCopy.Iovlen to what was copied.',
    port: 'native/ring.cc SendRing::enqueueSendmsg returns -ENOTSUP for msg_iovlen > 1 before it takes an SQE ("the seed copies one iovec").',
    portFiles: ['native/ring.cc'],
  },
  {
    id: 'abort-drops-inflight-memory',
    title: 'Aborted operations are forgotten while the kernel may still use their memory',
    goSymbols: [
      'ioUringState.abortPendingSendLocked',
      'ioUringState.abortPendingRecvLocked',
      'ioUringState.Sendmsg',
      'ioUringState.Recvmsg',
      'ioUringState.SendmsgBatch',
      'ioUringState.waitForCqeLocked',
    ],
    seed:
      'When a submit or a wait fails, abortPendingSendLocked / abortPendingRecvLocked delete the pendingSend / pendingRecv record, the only reference to the heap copies the SQE points at ' +
      '(msgCopy, iovCopy, the name and control copies); SendmsgBatch does it for every prepared entry. Nothing cancels the operation, and an SQE not yet submitted stays in the ring. ' +
      'The runtime.KeepAlive calls keep that memory alive only up to the line they are on.',
    evidence: [
      'func (r *ioUringState) abortPendingSendLocked(userData uint64) { if pending, ok := r.pendingSends[userData]; ok { delete(r.pendingSends, userData)',
      'if err := r.submitAndWaitLocked(1, 1); err != nil { r.abortPendingRecvLocked(userData)',
      'pending.callerMsg.Namelen = pending.msgCopy.Namelen',
      'r.completedCqes[userData] = cqe',
    ],
    consequence:
      'Once the garbage collector reuses that memory, the kernel reads a stale msghdr for a SENDMSG still queued or in flight; for a RECVMSG it writes msg_namelen, msg_controllen and msg_flags ' +
      'into the freed msgCopy (the seed itself reads them back from there) and the datagram and its sender into the caller\'s buffers after Recvmsg has returned: ' +
      'heap corruption, later and elsewhere. ' +
      'An SQE left unsubmitted goes out with the next submit in place of that call\'s own, which then waits for good; the forgotten operation\'s CQE, when it comes, stays in completedCqes.',
    conditions:
      'Every kernel, on error paths: io_uring_enter refusing a submit after the SQE was published (EAGAIN when the kernel cannot allocate requests, EBUSY with a CQ overflow backlog), ' +
      'the 1000-CQE guard\'s EIO, an enqueue failing in the middle of SendmsgBatch. Rare, as the seed retries EINTR and never times out, which is why it would surface as a crash far from io_uring.',
    kernelFeatures: ['io_uring'],
    fix:
      'Keep the record until its CQE arrives: mark it aborted instead of deleting it and drop it in waitForCqeLocked when the CQE comes; cancel receives with IORING_OP_ASYNC_CANCEL (5.5) keyed by user_data; ' +
      'count unsubmitted SQEs so that a failed submit is retried (or the ring torn down) instead of leaving them for the next caller.',
    port:
      'native/ring.cc SendRing::abortPending leaves the slot Abandoned (its msghdr copy stays in the slot table until waitForCqe sees its CQE and frees it), cancels a receive with ' +
      'IORING_OP_ASYNC_CANCEL since it points at the caller\'s buffers, and SendRing::Close cancels receives still in flight; unsubmitted_ counts SQEs not yet handed to the kernel.',
    portFiles: ['native/ring.cc'],
  },
];

/** The finding with this id, or undefined. */
export function seedFinding(id: string): SeedFinding | undefined {
  return SEED_FINDINGS.find((f) => f.id === id);
}

// What `uring-probe explain ID` says about every probe id and every reason code: what it means, what it
// checks or when it is given, which kernel brought the feature concerned (../shared/reference/io_uring-field-notes.md),
// and the fix. Probe titles come from the registry and reason fixes from REMEDIATION: neither is copied here.
// `explain seed` and `explain seed:ID`: what the port found in the seed, from src/seed/findings.ts (kind 'seed-finding').
import { CAPABILITIES, FEATURES, MEASURED_REGISTER_OPS, OPCODE_SINCE, SETUP_FLAGS } from '../gate/names.js';
import { PROBES } from '../probes/index.js';
import { LOOPBACK_BATCH, LOOPBACK_SIZES } from '../probes/loopback.js';
import { REQUIRED_OPS } from '../probes/opcodes.js';
import { REMEDIATION } from '../probes/reasons.js';
import { MIN_ENTRIES, RECV_POOL_SIZE, SEND_ENTRIES } from '../probes/ring-setup.js';
import { TRIED_FLAGS } from '../probes/setup-flags.js';
import { DEFAULT_CHECK_OPTIONS } from '../probes/spec.js';
import { SEED_FINDINGS, type SeedFinding } from '../seed/findings.js';
import type { ReasonCode } from '../types.js';

/**
 * How sure the kernel version is: `documented` (man page, commit, changelog), `measured` (seen on real
 * hosts by this project, not found in a primary source), `unverified` (the field notes mark it so: a lead).
 */
export type Confidence = 'documented' | 'measured' | 'unverified';

export interface KernelNote {
  /** what the kernel brought, e.g. 'IORING_SETUP_COOP_TASKRUN' */
  feature: string;
  /** the mainline release that brought it; null when unknown (the note says why) */
  since: string | null;
  confidence: Confidence;
  note?: string;
}

interface EntryBase {
  /** the probe id (lower case) or reason code (upper case), as reports spell it */
  id: string;
  /** one line: the probe's title from the registry, or what the reason code says */
  title: string;
  /** what it means */
  meaning: string;
  /** the kernel releases that brought what it is about (empty: not a matter of kernel version) */
  kernel: KernelNote[];
  /** said when `kernel` needs context (or is empty) */
  kernelNote?: string;
  /** what to do */
  fix: string;
}

export interface ProbeEntry extends EntryBase {
  kind: 'probe';
  /** what the probe checks, and when it warns, fails or skips */
  checks: string;
  /** false: runs in the CLI's own process (it does not touch io_uring) */
  kernelProbe: boolean;
  /** probes whose failure skips this one (DEPENDENCY_FAILED) */
  dependsOn: string[];
  /** every reason code this probe's result can carry, its own and the runner's */
  reasons: ReasonCode[];
}

export interface ReasonEntry extends EntryBase {
  kind: 'reason';
  /** when a probe gives it */
  when: string;
  /** the probes whose result can carry it, in registry order */
  givenBy: string[];
}

export type ExplainEntry = ProbeEntry | ReasonEntry;

/**
 * What the port found in the seed: the table's entry (src/seed/findings.ts) as it is, with the releases of the
 * kernel features it names. Not one of explainCatalog()'s entries: `explain seed` lists them, `explain seed:ID` shows one.
 */
export interface SeedFindingEntry extends SeedFinding {
  kind: 'seed-finding';
  /** kernelFeatures with the release that brought each (src/kernel-abi.ts, the field notes' confidence) */
  kernel: KernelNote[];
}

/** Any entry `uring-probe explain` can show. */
export type AnyExplainEntry = ExplainEntry | SeedFindingEntry;

// ---------------------------------------------------------------------------------------------
// Kernel versions: the `since` of flags, features, ops and register ops comes from src/gate/names.ts
// (the same table the gate quotes); which of them the field notes mark *(unverified)* is said here.

/** Items the field notes mark *(unverified)*. */
const UNVERIFIED = new Set(['IORING_SETUP_CQSIZE', 'IORING_SETUP_CLAMP', 'IORING_SETUP_ATTACH_WQ']);

function known(feature: string, since: string | null | undefined, note?: string): KernelNote {
  const k: KernelNote = { feature, since: since ?? null, confidence: UNVERIFIED.has(feature) ? 'unverified' : 'documented' };
  if (note) k.note = note;
  return k;
}
const flag = (name: string, note?: string): KernelNote =>
  known(`IORING_SETUP_${name}`, SETUP_FLAGS.find((f) => f.name === name)?.since, note);
const feat = (name: string, note?: string): KernelNote =>
  known(`IORING_FEAT_${name}`, FEATURES.find((f) => f.name === name)?.since, note);
const op = (name: string, note?: string): KernelNote => known(`IORING_OP_${name}`, OPCODE_SINCE[name], note);
const reg = (name: string, note?: string): KernelNote => known(`IORING_REGISTER_${name}`, MEASURED_REGISTER_OPS[name]?.since, note);

const IO_URING = known('io_uring (io_uring_setup, io_uring_enter, io_uring_register)', '5.1', 'CONFIG_IO_URING; distributions may build without it (AlmaLinux 9.0)');
const SYSCTLS = known(
  'kernel.io_uring_disabled and kernel.io_uring_group sysctls',
  '6.6',
  'commit 76d3ccecfa18; backported to RHEL 9.3; RHEL 10 defaults to 2, linux-hardened to 1',
);
const MEMLOCK_UNCHARGED = known(
  'ring memory no longer charged to RLIMIT_MEMLOCK',
  '5.12',
  'commit 26bfa89e25f4, signalled by IORING_FEAT_NATIVE_WORKERS; up to 5.11 rings count against the limit',
);
const MEMLOCK_CHARGED_AGAIN: KernelNote = {
  feature: 'ring memory charged again to callers without CAP_IPC_LOCK',
  since: '6.18',
  confidence: 'measured',
  note: 'seen on this project\'s 6.18 host, not on Debian\'s 6.1 or 6.12; the memlock probe measures it rather than trusting the version',
};
const BACKPORTS = 'Distributions backport (RHEL\'s 5.14 has much of later releases): the kernel\'s own answer, which the probes record, is the final word.';

/** A kernel feature by its full name, as src/seed/findings.ts spells it: 'io_uring', IORING_SETUP_*, IORING_FEAT_*, IORING_OP_*. */
function kernelNoteOf(name: string): KernelNote {
  if (name === 'io_uring') return IO_URING;
  const m = /^IORING_(SETUP|FEAT|OP)_(\w+)$/.exec(name);
  if (!m) return known(name, null);
  const kind = m[1]!;
  const bare = m[2]!;
  return kind === 'SETUP' ? flag(bare) : kind === 'FEAT' ? feat(bare) : op(bare);
}

// ---------------------------------------------------------------------------------------------
// Reason codes. Record<ReasonCode, …>: the compiler refuses a code without an entry.

interface ReasonInfo {
  title: string;
  meaning: string;
  when: string;
  kernel: KernelNote[];
  kernelNote?: string;
}

/** The refusals ring-setup attributes from io_uring_setup's errno (src/probes/reasons.ts setupRefusalReason). */
const REFUSALS: ReasonCode[] = ['SECCOMP_BLOCKED', 'SYSCTL_DISABLED', 'NOT_IN_GROUP', 'NOT_BUILT', 'LSM_DENIED', 'SANDBOX_BLOCKED', 'MEMLOCK_LIMIT', 'UNKNOWN'];

const REASONS: Record<ReasonCode, ReasonInfo> = {
  SECCOMP_BLOCKED: {
    title: 'a seccomp filter refuses or kills the io_uring syscalls',
    meaning:
      'The process runs under a seccomp filter that returns an errno for io_uring_setup/enter/register, or kills the caller (SIGSYS). ' +
      'Docker >= 25.0 (moby #46762) and containerd 2.0 RuntimeDefault (#9320) leave io_uring out of their default profiles and return EPERM; Podman never allowed it; ' +
      'a systemd SystemCallFilter= without SystemCallErrorNumber= kills.',
    when:
      'ring-setup, loopback or memlock: EPERM while kernel.io_uring_disabled is not the cause and /proc/self/status says Seccomp: 2, or ENOSYS with a filter; ' +
      'or any kernel probe\'s process killed by SIGSYS during ring-setup or in io_uring_setup/io_uring_enter (the facts name the syscall). Verdict: incompatible (exit 2).',
    kernel: [IO_URING],
    kernelNote: 'Not a kernel version: the container runtime\'s or unit\'s filter decides. `check --seccomp-profile FILE` or `--systemd-unit UNIT` probes under it.',
  },
  SYSCTL_DISABLED: {
    title: 'kernel.io_uring_disabled = 2: io_uring is off for every process',
    meaning: 'The sysctl kernel.io_uring_disabled is 2, so io_uring_setup fails with EPERM for every process, root included.',
    when: 'environment warns when it reads 2; ring-setup, loopback and memlock give it for an EPERM refusal while it is 2. Verdict: incompatible (exit 2), as the rings are refused.',
    kernel: [SYSCTLS],
    kernelNote:
      'ChromeOS, Android and Google\'s production servers turn io_uring off (this sysctl or CONFIG_IO_URING=n). ' +
      'Docker Desktop 4.42 turned io_uring off too; by which mechanism is unverified.',
  },
  NOT_IN_GROUP: {
    title: 'kernel.io_uring_disabled = 1 and the user is not in kernel.io_uring_group',
    meaning:
      'With kernel.io_uring_disabled = 1 only members of kernel.io_uring_group and holders of CAP_SYS_ADMIN may create rings: an admin\'s root shell passes, the service user does not.',
    when: 'ring-setup, loopback or memlock: EPERM while the sysctl is 1 and the probed user has neither the group nor CAP_SYS_ADMIN (`check --user` probes as the service user).',
    kernel: [SYSCTLS],
  },
  NOT_BUILT: {
    title: 'the kernel has no io_uring (ENOSYS, no seccomp filter)',
    meaning: 'io_uring_setup does not exist here: the kernel is older than 5.1 or was built with CONFIG_IO_URING=n. No seccomp filter is involved (that would be SECCOMP_BLOCKED).',
    when: 'ring-setup, loopback or memlock: io_uring_setup fails with ENOSYS and Seccomp: is not 2.',
    kernel: [IO_URING],
    kernelNote: 'Also seen under emulation (OrbStack x86).',
  },
  LSM_DENIED: {
    title: 'a security module (SELinux, AppArmor) denies io_uring (EACCES)',
    meaning:
      'A Linux security module refuses io_uring to this process\'s domain. SELinux checks anon_inode io_uring_t create/map/read/write and the io_uring class (override_creds, sqpoll, cmd): unconfined_t passes, a service domain may not.',
    when: 'ring-setup, loopback or memlock: io_uring_setup fails with EACCES.',
    kernel: [IO_URING, known('SELinux io_uring class permission `cmd`', '6.0')],
    kernelNote: 'The release that brought the SELinux io_uring class itself is not in the field notes. RHEL 9.3\'s backport of the sysctls also needs SELinux policy (liburing #989).',
  },
  SANDBOX_BLOCKED: {
    title: 'the sandbox refuses io_uring (EOPNOTSUPP)',
    meaning: 'The sandbox this runs in refuses io_uring with EOPNOTSUPP: seen on managed Kubernetes (semgrep #11836); gVisor keeps io_uring off by default.',
    when: 'ring-setup, loopback or memlock: io_uring_setup fails with EOPNOTSUPP.',
    kernel: [],
    kernelNote: 'Not a kernel version: the platform decides. Which errno gVisor returns is unverified.',
  },
  MEMLOCK_LIMIT: {
    title: 'ring memory does not fit RLIMIT_MEMLOCK (ENOMEM at the smallest ring)',
    meaning:
      'Ring memory is charged to the user\'s RLIMIT_MEMLOCK on this kernel, and the limit is too small: io_uring_setup fails with ENOMEM even at the smallest ring ' +
      `of the seed's ladder (${MIN_ENTRIES} entries). Whether rings are charged depends on the kernel and on CAP_IPC_LOCK, so it is measured, never inferred from the version.`,
    when:
      `ring-setup or loopback: ENOMEM at ${MIN_ENTRIES} entries (verdict: incompatible). memlock: warns when the seed's ring pair (send ${SEND_ENTRIES}, receive ${RECV_POOL_SIZE} entries) ` +
      `does not fit the limit, fails when not even one ${MIN_ENTRIES}-entry ring does. single-issuer: skips with it when its test ring gets ENOMEM.`,
    kernel: [MEMLOCK_UNCHARGED, MEMLOCK_CHARGED_AGAIN],
    kernelNote: 'Buffers registered with the ring still count on every kernel.',
  },
  UNKNOWN: {
    title: 'refused or failed for a reason the tool cannot attribute',
    meaning: 'An io_uring call or socket operation failed with an errno this tool has no explanation for.',
    when:
      'ring-setup, loopback or memlock: a refusal errno that fits no other code (e.g. EPERM with the sysctl at 0 and no seccomp filter, EINVAL); ' +
      'single-mmap: its comparison ring could not be created; loopback: socket or bind failed; throughput: a mode\'s run failed. Verdict: incompatible (exit 2).',
    kernel: [],
    kernelNote: 'Not a kernel version: the errno (in the result and facts) is the lead; check it against io_uring_setup(2), dmesg and the audit log.',
  },
  FLAGS_FALLBACK: {
    title: 'COOP_TASKRUN refused: the rings run with CLAMP alone (degraded)',
    meaning:
      'The seed asks for CLAMP|COOP_TASKRUN and falls back to CLAMP alone when the kernel refuses: it works, with more task-work interrupts.',
    when: 'ring-setup warns when a ring was accepted only after COOP_TASKRUN was dropped. Verdict: degraded (exit 1) if nothing worse.',
    kernel: [flag('COOP_TASKRUN'), flag('CLAMP')],
  },
  RING_SHRUNK: {
    title: 'ENOMEM made the seed halve a ring below its requested entries (degraded)',
    meaning: `The seed halves a ring on ENOMEM (down to ${MIN_ENTRIES} entries): the ring works, with fewer entries than asked for (send ${SEND_ENTRIES}, receive ${RECV_POOL_SIZE}).`,
    when: 'ring-setup warns when a ring\'s final entries are below the requested ones. Verdict: degraded (exit 1) if nothing worse.',
    kernel: [MEMLOCK_UNCHARGED, MEMLOCK_CHARGED_AGAIN],
    kernelNote: 'Where rings are not charged, ENOMEM means memory pressure, fragmentation or pinned memory (liburing #1614, #1408).',
  },
  NO_WORKER_LIMIT: {
    title: 'IOWQ_MAX_WORKERS refused: io-wq workers are unbounded (degraded)',
    meaning: 'The seed limits io-wq workers to {4,4} after setup and ignores a refusal; without the limit a loaded service may grow many kernel worker threads.',
    when: 'worker-limit warns when IORING_REGISTER_IOWQ_MAX_WORKERS fails (EINVAL before 5.15). Verdict: degraded (exit 1) if nothing worse.',
    kernel: [reg('IOWQ_MAX_WORKERS')],
  },
  NO_SINGLE_MMAP: {
    title: 'no FEAT_SINGLE_MMAP: the rings are mapped separately (degraded)',
    meaning: 'Without IORING_FEAT_SINGLE_MMAP the SQ and CQ rings need separate mmap calls. The seed handles both; it costs one mapping more per ring.',
    when: 'single-mmap warns when the feature bit is missing. Verdict: degraded (exit 1) if nothing worse.',
    kernel: [feat('SINGLE_MMAP')],
  },
  POOL_TRUNCATED: {
    title: 'the receive ring is smaller than the receive pool (degraded)',
    meaning: `The seed keeps a pool of ${RECV_POOL_SIZE} RECVMSG queued on its receive ring; a shrunk ring cannot hold them all, so fewer receives are in flight.`,
    when: 'ring-setup warns when the kernel took fewer pooled RECVMSG than the pool size (what io_uring_enter returned and the SQ head moved, not the SQEs written). Verdict: degraded (exit 1) if nothing worse.',
    kernel: [MEMLOCK_UNCHARGED, MEMLOCK_CHARGED_AGAIN],
  },
  OPCODE_MISSING: {
    title: 'SENDMSG or RECVMSG is not supported: the data path cannot run',
    meaning: `The seed's data path is IORING_OP_SENDMSG and IORING_OP_RECVMSG; a kernel without them cannot run it.`,
    when: `opcodes fails when IORING_REGISTER_PROBE does not list ${REQUIRED_OPS.join(' and ')} as supported. Verdict: incompatible (exit 2).`,
    kernel: REQUIRED_OPS.map((name) => op(name)),
  },
  PROBE_UNSUPPORTED: {
    title: 'IORING_REGISTER_PROBE refused: supported operations cannot be listed',
    meaning: 'Kernels before 5.6 cannot say which operations they support; the loopback probe still exercises SENDMSG/RECVMSG for real.',
    when: 'opcodes warns when IORING_REGISTER_PROBE fails. Verdict: degraded (exit 1) if nothing worse.',
    kernel: [reg('PROBE')],
  },
  MULTISHOT_UNAVAILABLE: {
    title: 'multishot RECVMSG with a provided buffer ring does not work here',
    meaning: 'Multishot RECVMSG (one SQE, many completions, buffers from a provided buffer ring) is not available. The seed does not use it; it only limits later optimisations.',
    when:
      'Defined for this case, but no probe gives it today: opcodes tries multishot RECVMSG for real and records the outcome in facts.multishotRecvmsg and its summary. ' +
      'To require it, gate with `--require multishot-recvmsg`.',
    kernel: [
      known('multishot RECV/RECVMSG', CAPABILITIES['multishot-recvmsg']?.since),
      known('provided buffer rings (IORING_REGISTER_PBUF_RING)', '5.19'),
    ],
    kernelNote: 'IORING_REGISTER_PROBE\'s bits do not cover multishot: only trying it tells.',
  },
  SINGLE_ISSUER_EEXIST: {
    title: 'informative: the kernel enforces SINGLE_ISSUER (why the seed leaves it out)',
    meaning:
      'A ring created with IORING_SETUP_SINGLE_ISSUER refuses submissions from any other thread with EEXIST. Go moves goroutines between OS threads, so the seed does not set the flag.',
    when: 'single-issuer passes with it when a submit from a second thread gets EEXIST. It does not change the verdict.',
    kernel: [flag('SINGLE_ISSUER'), flag('DEFER_TASKRUN', 'needs SINGLE_ISSUER')],
    kernelNote: 'Older kernels refuse the flag with EINVAL (then single-issuer skips with NOT_SUPPORTED).',
  },
  SINGLE_ISSUER_UNENFORCED: {
    title: 'the kernel accepted SINGLE_ISSUER but let another thread submit',
    meaning:
      'A ring created with IORING_SETUP_SINGLE_ISSUER took a submission from a second thread: the flag gives no single-submitter guarantee here. ' +
      'Mainline refuses such a submit with EEXIST since 6.0, except on SQPOLL rings (the kernel\'s polling thread is then the issuer).',
    when: 'single-issuer warns with it when the other thread\'s NOP completes. It concerns a flag the seed does not set.',
    kernel: [flag('SINGLE_ISSUER')],
    kernelNote: 'A patched kernel or an io_uring emulation; mainline enforces the flag.',
  },
  SEED_LAYOUT: {
    title: 'the seed\'s declared structs are smaller than what the kernel copies (a finding about the seed)',
    meaning:
      'The seed\'s Go ioCqringOffsets declares Resv [2]uint32 where the kernel has flags, resv1 and a 64-bit user_addr, so its ioUringParams is 112 bytes while io_uring_setup copies 120 in and out: ' +
      'every setup writes 8 bytes past the seed\'s variable. Measured, not assumed: cqe-alignment finds the smallest room io_uring_setup accepts and the last byte it writes.',
    when:
      'cqe-alignment passes with it when the kernel\'s measured copy exceeds the seed\'s declared struct. It does not change the verdict: it is the same on every kernel, a defect of the seed\'s code ' +
      '(also listed in seedFindings: params-struct-112-bytes).',
    kernel: [IO_URING],
    kernelNote: 'Not a kernel version: every kernel since 5.1 copies 120 bytes (user_addr was reserved before NO_MMAP gave it a name in 6.5).',
  },
  NO_LOOPBACK: {
    title: 'no usable loopback to test the data path on (verdict unknown)',
    meaning: 'The loopback interface is down or has no 127.0.0.1/::1 (typical of a fresh network namespace), so the data path could not be checked at all.',
    when: 'loopback fails with it when socket, bind or send fails with EADDRNOTAVAIL, ENETUNREACH, ENODEV, ENETDOWN, EAFNOSUPPORT or EHOSTUNREACH. Verdict: unknown (exit 3) if nothing worse.',
    kernel: [],
    kernelNote: 'Not a kernel version: the network namespace this runs in has no usable loopback.',
  },
  DATA_MISMATCH: {
    title: 'datagrams came back wrong through the seed\'s rings',
    meaning: 'UDP datagrams sent and received through the seed\'s rings arrived with wrong bytes, lengths or source addresses, or not at all: the data path is not safe on this kernel.',
    when: 'loopback (every byte, length and source address of each datagram checked) or throughput (corrupt datagrams in a run). Verdict: incompatible (exit 2).',
    kernel: [op('SENDMSG'), op('RECVMSG')],
  },
  ABI_MISMATCH: {
    title: 'the ring layout is not what the seed assumes',
    meaning: 'Struct sizes (SQE 64, CQE 16, params 120 bytes), offsets, CQE alignment or ring masks differ from what the seed\'s code assumes, or its two mapping strategies show different rings.',
    when: 'cqe-alignment fails on a size, offset, alignment or mask; single-mmap fails when the separate and the single mapping disagree; ring-setup fails when a ring\'s geometry (entries, masks, offsets, layout flags) fails the addon\'s check (EPROTO). Verdict: incompatible (exit 2).',
    kernel: [flag('SQE128', 'changes the SQE size; the seed never sets it'), flag('CQE32', 'changes the CQE size; the seed never sets it')],
    kernelNote: 'The base layout is io_uring\'s ABI since 5.1; a mismatch means a patched kernel or a bug, not an old release.',
  },
  BELOW_MIN_PPS: {
    title: 'loopback throughput is below --min-pps',
    meaning: 'The seed\'s rings moved fewer packets per second over loopback than the gate requires.',
    when: 'throughput fails with it when `--min-pps N` (or a policy\'s minPps) is given and the seed mode received fewer. Verdict: incompatible (exit 2).',
    kernel: [],
    kernelNote: 'Not a kernel version: figures are per host and noisy; liburing #844 measured io_uring below plain syscalls (430k vs 475k pps).',
  },
  BELOW_MIN_RATIO: {
    title: 'the seed\'s rings are slower than plain syscalls by more than --min-ratio',
    meaning: 'Seed-mode packets per second divided by the plain sendmsg/recvmsg baseline is below the ratio the gate requires.',
    when: 'throughput fails with it when `--min-ratio R` (or a policy\'s minRatio) is given and the ratio is lower. Verdict: incompatible (exit 2).',
    kernel: [],
    kernelNote: 'Not a kernel version: compare ratios within one run; Tailscale chose GSO/GRO over io_uring (#2303).',
  },
  THROUGHPUT_INCONCLUSIVE: {
    title: 'the throughput figure\'s interval straddles --min-pps or --min-ratio',
    meaning:
      'The seed and syscall modes are measured in short interleaved slices and the figure is the median of the pairs, with an interval from them. When the floor lies inside that interval, the run shows neither that the host meets the floor nor that it misses it.',
    when: 'throughput warns with it when `--min-pps` or `--min-ratio` (or a policy\'s minPps/minRatio) falls inside the interval. Verdict: degraded (exit 1); with `--strict` the gate counts it as unmet (exit 2).',
    kernel: [],
    kernelNote: 'Not a kernel version: the interval is as wide as the host is noisy; a floor set well below the host\'s usual figure is not inconclusive.',
  },
  PROBE_KILLED: {
    title: 'the probe process died of a signal (verdict unknown)',
    meaning: 'The child process that runs the kernel probes was killed, so this check could not finish; the next probes run in a new child.',
    when:
      'Any kernel probe, from the runner: the child died of a signal (facts.signal, facts.lastSyscall). A SIGSYS in ring-setup or in io_uring_setup/io_uring_enter is reported as SECCOMP_BLOCKED instead. Verdict: unknown (exit 3) if nothing worse.',
    kernel: [],
    kernelNote: 'Not a kernel version: a filter that kills (systemd SystemCallFilter= without SystemCallErrorNumber=, OpenHarmony) or a kernel bug.',
  },
  PROBE_TIMEOUT: {
    title: 'the probe did not answer in time and was killed (verdict unknown)',
    meaning: 'The probe process gave no answer within its time bound, was killed with SIGKILL, and the next probes ran in a new child.',
    when: `Any kernel probe, from the runner: no answer within --timeout (default ${DEFAULT_CHECK_OPTIONS.timeoutMs} ms, the throughput probe included: it shortens its measurement to fit a smaller bound, down to 4 interleaved pairs). Verdict: unknown (exit 3) if nothing worse.`,
    kernel: [],
    kernelNote: 'Not a kernel version: a kernel that loses completions, or a host too loaded to answer in time.',
  },
  PROBE_ERROR: {
    title: 'the probe failed internally (verdict unknown)',
    meaning: 'The probe threw, the native addon did not load, or its output could not be read, so this check could not be made.',
    when:
      'Any probe (the error is in facts.error); also memlock when its measurement could not run, worker-limit when ring-setup recorded no IOWQ_MAX_WORKERS call, ' +
      'single-issuer when its test ring failed with an errno other than EINVAL or ENOMEM. Verdict on a fail: unknown (exit 3) if nothing worse.',
    kernel: [],
    kernelNote: 'Not a kernel version: the tool itself (an addon built for another Node.js or libc, a bug) could not make the check.',
  },
  DEPENDENCY_FAILED: {
    title: 'skipped because a probe it depends on failed',
    meaning: 'The probe was not run: one it depends on (facts.failed) failed or was skipped for the same reason, so its answer would mean nothing.',
    when: 'Any probe with dependencies (most need ring-setup; throughput also loopback), from the runner. It does not change the verdict: the failed probe does.',
    kernel: [],
    kernelNote: 'Not a kernel version: see the reason of the probe that failed.',
  },
  NOT_SUPPORTED: {
    title: 'skipped: the kernel lacks what the probe examines',
    meaning: 'There was nothing to check: the kernel does not know the feature this probe examines.',
    when: 'single-issuer skips with it when io_uring_setup refuses SINGLE_ISSUER with EINVAL. It does not change the verdict.',
    kernel: [flag('SINGLE_ISSUER')],
  },
};

// ---------------------------------------------------------------------------------------------
// Probes, by the registry's ids. Titles, dependencies and "runs in the child" come from the registry.

interface ProbeInfo {
  meaning: string;
  checks: string;
  /** reason codes the probe itself gives (the runner's are added from the registry) */
  reasons: ReasonCode[];
  kernel: KernelNote[];
  kernelNote?: string;
  fix: string;
}

const PROBE_INFO: Readonly<Record<string, ProbeInfo>> = {
  environment: {
    meaning:
      'The host the kernel probes run on and the context they run in: kernel, architecture, distribution, container runtime and orchestrator, VM hints, ' +
      'seccomp mode and filter count, kernel.io_uring_disabled and kernel.io_uring_group, uid and groups, effective capabilities, RLIMIT_MEMLOCK, active security modules.',
    checks:
      'Reads /proc, /sys and the sysctls; never touches io_uring. Warns with SYSCTL_DISABLED when kernel.io_uring_disabled is 2. ' +
      'Its facts are what ring-setup uses to tell a seccomp filter from the sysctl or a security module when io_uring is refused.',
    reasons: ['SYSCTL_DISABLED'],
    kernel: [SYSCTLS],
    kernelNote: 'On kernels before 6.6 the sysctls do not exist and it says so.',
    fix: 'A warning means io_uring is off for every process: see `uring-probe explain SYSCTL_DISABLED`. The rest of its output is context for the other probes.',
  },
  memlock: {
    meaning:
      `What the seed's ring pair (send ${SEND_ENTRIES}, receive ${RECV_POOL_SIZE} entries) costs in locked memory on this kernel, and whether that memory is charged to the user's RLIMIT_MEMLOCK at all.`,
    checks:
      'Creates a 1-entry ring at a zero limit (with the probed user\'s capabilities) to see whether rings are charged; if they are, finds the ENOMEM boundary page by page, ' +
      'giving the pair\'s cost and what the user\'s other processes already have locked, and a LimitMEMLOCK= that fits. ' +
      `Warns with MEMLOCK_LIMIT when the pair does not fit, fails when not even one ${MIN_ENTRIES}-entry ring does; skips with the refusal's reason when io_uring_setup is refused outright.`,
    reasons: [...REFUSALS, 'PROBE_ERROR'],
    kernel: [MEMLOCK_UNCHARGED, MEMLOCK_CHARGED_AGAIN],
    fix: 'Raise the service\'s memlock limit to the size it suggests (systemd LimitMEMLOCK=, docker --ulimit memlock=) or grant CAP_IPC_LOCK; `check --memlock` tries a limit first.',
  },
  'ring-setup': {
    meaning:
      'The seed\'s setup ladder for both its rings, as the seed runs it: io_uring_setup with CLAMP|COOP_TASKRUN, CLAMP alone when that is refused, ' +
      `the entries halved on ENOMEM down to ${MIN_ENTRIES}; the send ring held while the receive ring is set up; the rings mapped and the receive pool queued.`,
    checks:
      'Records every attempt (entries, flags by name, result or errno, what the seed does next), the final entries, SQ/CQ sizes and feature bits. ' +
      'Fails when a ring is refused, with the reason attributed from the errno and the environment (EPERM: sysctl, group or seccomp; ENOSYS; EACCES; EOPNOTSUPP; ENOMEM at the minimum; ' +
      'EPROTO, ABI_MISMATCH: the kernel\'s entries, masks, offsets or layout flags failed the addon\'s ring-geometry check, before mapping or read back after); ' +
      'warns for each fallback the seed had to take (RING_SHRUNK, POOL_TRUNCATED, FLAGS_FALLBACK).',
    reasons: [...REFUSALS, 'ABI_MISMATCH', 'FLAGS_FALLBACK', 'RING_SHRUNK', 'POOL_TRUNCATED'],
    kernel: [IO_URING, flag('CLAMP'), flag('COOP_TASKRUN'), SYSCTLS],
    fix: 'A failure means io_uring is refused to this process: follow the reason\'s fix (`uring-probe explain CODE`). Until it passes, the probes that need a ring are skipped (DEPENDENCY_FAILED).',
  },
  'single-mmap': {
    meaning:
      'Whether the kernel maps the SQ and CQ rings with one mmap (IORING_FEAT_SINGLE_MMAP), and whether the seed\'s two mapping strategies see the same ring. ' +
      'The seed\'s ladder never tries without CLAMP (5.6), so on 5.1-5.5 it cannot start at all; a kernel without SINGLE_MMAP (5.1-5.3) never gets this far.',
    checks:
      `Creates an ${MIN_ENTRIES}-entry ring, maps it both ways, submits one NOP through the separate mappings and one through the single mapping, and reads each completion ` +
      '(user_data, res, flags) through both the separate CQ mapping and the single mapping. ' +
      'Warns with NO_SINGLE_MMAP when the feature bit is missing (no mainline kernel that accepts CLAMP lacks it); fails with ABI_MISMATCH when the mappings disagree, with UNKNOWN when the ring cannot be created or mapped.',
    reasons: ['NO_SINGLE_MMAP', 'ABI_MISMATCH', 'UNKNOWN'],
    kernel: [feat('SINGLE_MMAP')],
    fix: 'A warning costs one mapping per ring and nothing else (a kernel >= 5.4 removes it); a mismatch means: do not roll out, report the kernel.',
  },
  'cqe-alignment': {
    meaning: 'Whether the kernel\'s ring layout is the one the seed\'s Go structs declare: what io_uring_setup copies, the offsets it fills, CQE array alignment and ring masks.',
    checks:
      'Measures how many bytes of io_uring_params the kernel copies in and out (a struct placed before an unmapped page, and a canary after it), and compares them field by field with the seed\'s ' +
      'declared Go structs (transcribed in the probe); the CQE array offset a multiple of 16 and its address 16-byte aligned; SQ/CQ entries powers of two with masks = entries - 1 on both rings. ' +
      'Fails with ABI_MISMATCH when a field the seed reads differs; passes with SEED_LAYOUT when only the seed\'s struct is too short (a finding about the seed, not the host).',
    reasons: ['ABI_MISMATCH', 'SEED_LAYOUT'],
    kernel: [IO_URING, flag('SQE128', 'the seed never sets it'), flag('CQE32', 'the seed never sets it')],
    kernelNote: 'The layout is io_uring\'s ABI since 5.1, not a feature of a later release: a difference means a patched kernel or a bug.',
    fix: 'Do not roll out the io_uring data path on this host; report the kernel version with the probe\'s facts.',
  },
  'worker-limit': {
    meaning: 'Whether the seed\'s IORING_REGISTER_IOWQ_MAX_WORKERS {4,4} call after setup bounds the kernel\'s io-wq worker threads.',
    checks:
      'Reads the results ring-setup recorded on both rings (the seed registers {4,4} on its send ring and on its receive ring), with the previous limits. ' +
      'Warns with NO_WORKER_LIMIT, naming the ring, when either was refused (EINVAL before 5.15).',
    reasons: ['NO_WORKER_LIMIT', 'PROBE_ERROR'],
    kernel: [reg('IOWQ_MAX_WORKERS')],
    fix: 'A kernel >= 5.15 bounds the workers; until then the service works with unbounded io-wq threads.',
  },
  opcodes: {
    meaning: 'Which io_uring operations the kernel supports, by name, and whether multishot RECVMSG with a provided buffer ring really delivers datagrams.',
    checks:
      `IORING_REGISTER_PROBE: ${REQUIRED_OPS.join(' and ')} are required (fails with OPCODE_MISSING without them); SEND, RECV, SEND_ZC, SENDMSG_ZC, PROVIDE_BUFFERS, SOCKET, BIND, ... are reported. ` +
      'Multishot RECVMSG is tried over loopback, since the probe bits do not cover it. Warns with PROBE_UNSUPPORTED when the kernel cannot list operations.',
    reasons: ['OPCODE_MISSING', 'PROBE_UNSUPPORTED'],
    kernel: [
      reg('PROBE'),
      ...REQUIRED_OPS.map((name) => op(name)),
      op('PROVIDE_BUFFERS'),
      op('SEND_ZC'),
      op('SENDMSG_ZC'),
      known('multishot RECV/RECVMSG', CAPABILITIES['multishot-recvmsg']?.since),
    ],
    fix: 'A missing SENDMSG/RECVMSG needs a newer kernel (>= 5.3, better >= 5.19) or the epoll path; gate on the others with `--require op:NAME`.',
  },
  'setup-flags': {
    meaning: 'Which io_uring setup flags this kernel accepts, each tried on its own (and with the flag it needs, where it needs one).',
    checks:
      `io_uring_setup of an ${MIN_ENTRIES}-entry ring with each of ${TRIED_FLAGS.join(', ')}; TASKRUN_FLAG is retried with COOP_TASKRUN and DEFER_TASKRUN with SINGLE_ISSUER. ` +
      'NO_MMAP is tried with page-aligned ring memory of ours (and a NOP through it); the null-address attempt is kept as `recognised` (EFAULT: the kernel knows the flag). ' +
      'Always passes: it informs, and `--require FLAG` gates on it.',
    reasons: [],
    kernel: TRIED_FLAGS.map((name) =>
      flag(name, name === 'SQPOLL' ? 'root only 5.1-5.10, CAP_SYS_NICE from 5.11, unprivileged from 5.13' : undefined),
    ),
    fix: 'Nothing to fix: a refused flag only matters to a service that needs it (`--require FLAG` fails the gate then).',
  },
  'single-issuer': {
    meaning: 'Whether the kernel enforces IORING_SETUP_SINGLE_ISSUER, which is why the seed leaves the flag out: Go moves goroutines between OS threads.',
    checks:
      'Creates a SINGLE_ISSUER ring; a NOP from its own thread must complete with res 0 (else PROBE_ERROR: nothing could be checked), then one from another thread. ' +
      'Passes with SINGLE_ISSUER_EEXIST when the second submit gets EEXIST; warns with SINGLE_ISSUER_UNENFORCED when it completes; ' +
      'skips with NOT_SUPPORTED when the kernel refuses the flag (EINVAL), with MEMLOCK_LIMIT on ENOMEM.',
    reasons: ['SINGLE_ISSUER_EEXIST', 'SINGLE_ISSUER_UNENFORCED', 'NOT_SUPPORTED', 'MEMLOCK_LIMIT', 'PROBE_ERROR'],
    kernel: [flag('SINGLE_ISSUER'), flag('DEFER_TASKRUN', 'needs SINGLE_ISSUER')],
    fix: 'Nothing to fix for the seed; a service that wants the flag must submit from one OS thread (Go: runtime.LockOSThread, and R_DISABLED to enable the ring there).',
  },
  loopback: {
    meaning: 'The seed\'s data path for real: UDP over 127.0.0.1 (and ::1 when configured) through its send ring and receive pool.',
    checks:
      `Sendmsg of ${LOOPBACK_SIZES.join('/')} bytes and a SendmsgBatch of ${LOOPBACK_BATCH} through the send ring, the receive ring's pool collecting them, and the send ring's synchronous Recvmsg; ` +
      'every byte, length and source address is checked. Fails with DATA_MISMATCH when anything came back wrong, with NO_LOOPBACK (verdict unknown) when there is no loopback to use, ' +
      'and with ring-setup\'s refusal reasons when its rings cannot be created.',
    reasons: ['NO_LOOPBACK', 'DATA_MISMATCH', ...REFUSALS],
    kernel: [op('SENDMSG'), op('RECVMSG')],
    fix: 'NO_LOOPBACK: `ip link set lo up` and run again. DATA_MISMATCH: do not roll out the io_uring data path on this kernel; report the kernel version and the facts.',
  },
  throughput: {
    meaning: 'What the seed\'s rings are worth on this host: a short live loopback run (about 1.5 s) of the seed mode against the plain sendmsg/recvmsg baseline.',
    checks:
      'Received packets per second of both, their ratio and the best mode this kernel offers (a short look at seed-batch, mmsg, multishot and gso); corrupt datagrams fail it with DATA_MISMATCH. ' +
      'The two modes alternate in short slices (seed, syscall, syscall, seed, ...) and the ratio is the median of the per-pair ratios, with an order-statistic interval. With `--min-pps` or `--min-ratio` it fails when the whole interval is below them (BELOW_MIN_PPS, BELOW_MIN_RATIO) and warns when the interval straddles them (THROUGHPUT_INCONCLUSIVE). `--no-bench` leaves it out.',
    reasons: ['BELOW_MIN_PPS', 'BELOW_MIN_RATIO', 'THROUGHPUT_INCONCLUSIVE', 'DATA_MISMATCH', 'UNKNOWN'],
    kernel: [],
    kernelNote: 'Not a kernel version: the figures are per host and noisy; compare ratios within one run.',
    fix: 'Below a floor: see `uring-probe bench` for every mode on this host and what would help, or keep the syscall path here.',
  },
};

/** The reasons the runner gives to any probe it runs (src/check.ts, src/probes/result.ts), from the registry's facts. */
function runnerReasons(spec: (typeof PROBES)[number]): ReasonCode[] {
  const out: ReasonCode[] = [];
  // a SIGSYS kill in io_uring_setup/io_uring_enter is reported as SECCOMP_BLOCKED, whichever probe was running
  if (spec.kernel) out.push('SECCOMP_BLOCKED', 'PROBE_KILLED', 'PROBE_TIMEOUT');
  out.push('PROBE_ERROR');
  if (spec.dependsOn.length > 0) out.push('DEPENDENCY_FAILED');
  return out;
}

const NOT_WRITTEN = 'not written yet (see README.md)';

function probeEntry(spec: (typeof PROBES)[number]): ProbeEntry {
  const info = PROBE_INFO[spec.id];
  const reasons = [...new Set<ReasonCode>([...(info?.reasons ?? []), ...runnerReasons(spec)])];
  const entry: ProbeEntry = {
    kind: 'probe',
    id: spec.id,
    title: spec.title,
    meaning: info?.meaning ?? NOT_WRITTEN,
    checks: info?.checks ?? NOT_WRITTEN,
    kernelProbe: spec.kernel,
    dependsOn: [...spec.dependsOn],
    reasons,
    kernel: info?.kernel ?? [],
    fix: info?.fix ?? NOT_WRITTEN,
  };
  if (info?.kernelNote) entry.kernelNote = info.kernelNote;
  return entry;
}

function reasonEntry(code: ReasonCode, probes: readonly ProbeEntry[]): ReasonEntry {
  const info = REASONS[code] as ReasonInfo | undefined;
  const entry: ReasonEntry = {
    kind: 'reason',
    id: code,
    title: info?.title ?? NOT_WRITTEN,
    meaning: info?.meaning ?? NOT_WRITTEN,
    when: info?.when ?? NOT_WRITTEN,
    givenBy: probes.filter((p) => p.reasons.includes(code)).map((p) => p.id),
    kernel: info?.kernel ?? [],
    fix: REMEDIATION[code],
  };
  if (info?.kernelNote) entry.kernelNote = info.kernelNote;
  return entry;
}

let cached: ExplainEntry[] | null = null;

/** Every entry: the probes in registry order, then every reason code in REMEDIATION's order. */
export function explainCatalog(): ExplainEntry[] {
  if (cached) return cached;
  const probes = PROBES.map(probeEntry);
  const reasons = (Object.keys(REMEDIATION) as ReasonCode[]).map((code) => reasonEntry(code, probes));
  cached = [...probes, ...reasons];
  return cached;
}

/** Every id `explain` knows, as reports spell them. */
export function explainIds(): string[] {
  return explainCatalog().map((e) => e.id);
}

/** Case-, separator- and prefix-insensitive form: 'Ring_Setup', 'probe:ring-setup' and 'RINGSETUP' are one key. */
function keyOf(text: string): string {
  return text.trim().toLowerCase().replace(/^(probe|reason):/, '').replace(/[-_\s]/g, '');
}

/** The entry an ID names (case-insensitive; '-' and '_' alike; 'probe:' / 'reason:' prefixes allowed), or null. */
export function findEntry(id: string): ExplainEntry | null {
  const key = keyOf(id);
  if (key === '') return null;
  return explainCatalog().find((e) => keyOf(e.id) === key) ?? null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Closest ids to an unknown one, for "did you mean": as src/gate/names.ts suggests (one contains the
 * other, or the same first four letters), plus small typos (edit distance); nearest first, at most 4.
 * Failing that, the entries whose title (then meaning, or a probe's checks) mentions it.
 */
export function suggestIds(id: string): string[] {
  const key = keyOf(id);
  if (key.length < 2) return [];
  const scored: Array<{ id: string; score: number }> = [];
  for (const e of explainCatalog()) {
    const k = keyOf(e.id);
    const distance = editDistance(key, k);
    const related = (key.length >= 3 && (k.includes(key) || key.includes(k))) || (key.length >= 4 && k.slice(0, 4) === key.slice(0, 4));
    if (distance <= Math.max(1, Math.floor(k.length / 4)) || related) scored.push({ id: e.id, score: distance });
  }
  if (scored.length > 0) return scored.sort((a, b) => a.score - b.score).slice(0, 4).map((s) => s.id);
  // Not like any id: a flag, errno or word the entries talk about (COOP_TASKRUN -> FLAGS_FALLBACK), titles first.
  const word = id.trim().toLowerCase();
  if (word.length < 4) return [];
  const inTitle = explainCatalog().filter((e) => e.title.toLowerCase().includes(word));
  const inText = explainCatalog().filter(
    (e) => !inTitle.includes(e) && `${e.meaning} ${e.kind === 'probe' ? e.checks : ''}`.toLowerCase().includes(word),
  );
  return [...inTitle, ...inText].slice(0, 4).map((e) => e.id);
}

// ---------------------------------------------------------------------------------------------
// What the port found in the seed (src/seed/findings.ts), addressed as `seed:ID`.

let seedCached: SeedFindingEntry[] | null = null;

/** Every seed finding, in the table's order. */
export function seedFindingEntries(): SeedFindingEntry[] {
  if (seedCached) return seedCached;
  seedCached = SEED_FINDINGS.map((f) => ({ kind: 'seed-finding' as const, ...f, kernel: f.kernelFeatures.map(kernelNoteOf) }));
  return seedCached;
}

/** The prefix that addresses a seed finding: `seed:params-struct-112-bytes`. */
export const SEED_PREFIX = 'seed:';

function seedKeyOf(text: string): string {
  return text.trim().toLowerCase().replace(/^seed:/, '').replace(/[-_\s]/g, '');
}

/** The seed finding an ID names (with or without `seed:`; case-, separator-insensitive), or null. */
export function findSeedFinding(id: string): SeedFindingEntry | null {
  const key = seedKeyOf(id);
  if (key === '') return null;
  return seedFindingEntries().find((e) => seedKeyOf(e.id) === key) ?? null;
}

/** Whether an ID asks for the seed findings (`seed`, `seed:`) or one of them (`seed:ID`). */
export function isSeedId(id: string): boolean {
  const t = id.trim().toLowerCase();
  return t === 'seed' || t.startsWith(SEED_PREFIX);
}

/**
 * Any entry: a probe id or reason code first (as findEntry), then a seed finding; `seed:ID` names only seed findings.
 * A bare seed finding id works too, since no probe id or reason code spells like one (test/seed-findings.test.ts).
 */
export function findAnyEntry(id: string): AnyExplainEntry | null {
  if (id.trim().toLowerCase().startsWith(SEED_PREFIX)) return findSeedFinding(id);
  return findEntry(id) ?? findSeedFinding(id);
}

/** Closest seed findings to an unknown `seed:ID` (as `seed:<id>`): small typos, shared words, then titles; at most 4. */
export function suggestSeedIds(id: string): string[] {
  const key = seedKeyOf(id);
  if (key.length < 2) return [];
  const words = id.trim().toLowerCase().replace(/^seed:/, '').split(/[-_\s]+/).filter((w) => w.length >= 3);
  const scored: Array<{ id: string; score: number }> = [];
  for (const e of seedFindingEntries()) {
    const k = seedKeyOf(e.id);
    const distance = editDistance(key, k);
    const shared = words.filter((w) => e.id.includes(w) || e.title.toLowerCase().includes(w)).length;
    if (distance <= Math.max(1, Math.floor(k.length / 4)) || k.includes(key) || shared > 0) {
      scored.push({ id: `${SEED_PREFIX}${e.id}`, score: distance - shared * 100 });
    }
  }
  return scored.sort((a, b) => a.score - b.score).slice(0, 4).map((s) => s.id);
}

// Typed report model: what probes return and what every renderer and reader consumes (schema v1).
import type { ContextReport } from './context/service-context.js';

export type ProbeStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type Verdict = 'compatible' | 'degraded' | 'incompatible' | 'unknown';

/** Exit codes, the monitoring-plugin convention; only bin/ sets process.exitCode. */
export const EXIT = {
  compatible: 0,
  degraded: 1,
  incompatible: 2,
  unknown: 3,
  usage: 64,
} as const;

/**
 * Stable reason codes. A probe sets `reason` whenever its status is not `pass`
 * (and may set one on `pass` to explain a fallback that still works).
 */
export type ReasonCode =
  // io_uring refused outright (ring-setup)
  | 'SECCOMP_BLOCKED'      // a seccomp filter returns an errno (or kills) for io_uring_setup
  | 'SYSCTL_DISABLED'      // kernel.io_uring_disabled = 2
  | 'NOT_IN_GROUP'         // kernel.io_uring_disabled = 1 and the user is not in kernel.io_uring_group
  | 'NOT_BUILT'            // ENOSYS without a seccomp filter: CONFIG_IO_URING=n or kernel < 5.1
  | 'LSM_DENIED'           // EACCES: SELinux/AppArmor policy
  | 'SANDBOX_BLOCKED'      // EOPNOTSUPP and similar from a sandbox (gVisor, managed k8s)
  | 'MEMLOCK_LIMIT'        // ENOMEM even at the minimum ring size
  | 'UNKNOWN'              // refused for a reason we could not attribute
  // fallbacks (degraded)
  | 'FLAGS_FALLBACK'       // CLAMP|COOP_TASKRUN refused, CLAMP alone accepted
  | 'RING_SHRUNK'          // ENOMEM: the ring was halved below the requested entries
  | 'NO_WORKER_LIMIT'      // IOWQ_MAX_WORKERS refused (kernel < 5.15)
  | 'NO_SINGLE_MMAP'       // FEAT_SINGLE_MMAP absent (kernel < 5.4): three mappings
  | 'POOL_TRUNCATED'       // receive ring smaller than the pool: not every receive can be queued
  // missing capabilities
  | 'OPCODE_MISSING'       // SENDMSG or RECVMSG not supported
  | 'PROBE_UNSUPPORTED'    // IORING_REGISTER_PROBE refused (kernel < 5.6)
  | 'MULTISHOT_UNAVAILABLE'
  | 'SINGLE_ISSUER_EEXIST' // informative: the kernel enforces single-issuer (why the seed omits it)
  | 'SINGLE_ISSUER_UNENFORCED' // the kernel accepted SINGLE_ISSUER but let another thread submit
  | 'NO_LOOPBACK'          // no usable loopback interface / address
  | 'DATA_MISMATCH'        // bytes, lengths or source addresses came back wrong
  | 'ABI_MISMATCH'         // struct sizes/offsets/alignment not what the seed assumes
  | 'SEED_LAYOUT'          // the seed's declared structs are smaller than what the kernel copies (its params: 112 of 120 bytes)
  | 'BELOW_MIN_PPS'
  | 'BELOW_MIN_RATIO'
  | 'THROUGHPUT_INCONCLUSIVE' // the measured interval straddles --min-pps / --min-ratio (a warn; unmet only with --strict)
  // the probe itself could not run: verdict unknown
  | 'PROBE_KILLED'         // the probe process died of a signal (named in facts.signal)
  | 'PROBE_TIMEOUT'        // the probe process did not answer in time and was killed
  | 'PROBE_ERROR'          // the probe threw or returned garbage
  | 'DEPENDENCY_FAILED'    // skipped because a probe it needs failed
  | 'NOT_SUPPORTED';       // skipped: the kernel lacks what this probe examines (e.g. SINGLE_ISSUER < 6.0)

/** One io_uring_setup (or ring mmap) attempt of the seed's setup ladder. */
export interface SetupAttempt {
  /** which of the seed's two rings: the send/receive ring or the receive-pool ring */
  ring: 'send' | 'recv';
  /** 'setup' = io_uring_setup; 'mmap' = mapping the rings of an accepted setup */
  stage: 'setup' | 'mmap';
  entries: number;
  flags: string[];        // e.g. ['CLAMP', 'COOP_TASKRUN']
  flagsRaw: number;
  ok: boolean;
  errno: string | null;   // 'EINVAL', 'ENOMEM', ... (null when ok)
  /** what the seed does next: 'map' (setup accepted: map its rings) | 'accept' | 'drop-flags' | 'halve' | 'give-up' */
  next: 'map' | 'accept' | 'drop-flags' | 'halve' | 'give-up';
}

export type FactValue = string | number | boolean | null | FactValue[] | { [key: string]: FactValue };
export type Facts = Record<string, FactValue>;

export interface ProbeResult {
  id: string;              // stable machine id, e.g. 'ring-setup'
  title: string;           // for people
  status: ProbeStatus;
  summary: string;         // one line
  reason: ReasonCode | null;
  errno: string | null;    // errno name of the decisive failure, if any
  facts: Facts;
  remediation: string | null; // one or two sentences, when status is not pass
  durationMs: number;
  attempts?: SetupAttempt[]; // ring-setup only
}

export interface HostInfo {
  hostname: string;
  machineIdHash: string | null; // sha256 of /etc/machine-id, hex, first 16 chars
  kernelRelease: string;
  kernelVersion: string;
  arch: string;
  distribution: string | null;  // PRETTY_NAME of /etc/os-release
}

export interface Report {
  schemaVersion: 1;
  tool: { name: 'uring-probe'; version: string };
  host: HostInfo;
  startedAt: string;   // ISO 8601
  durationMs: number;
  verdict: Verdict;
  exitCode: number;
  /** the context the kernel probes ran under (issue 7): the service's user, limits, filter; absent in older reports */
  context?: ContextReport;
  probes: ProbeResult[];
  /** present when the run was gated (--require, --min-pps, --min-ratio, --strict, --policy) */
  gate?: GateOutcome;
  /** ids of what the port found in the seed (src/seed/findings.ts, `uring-probe explain seed`); absent in older reports */
  seedFindings?: string[];
}

/** The outcome of checking a report against requirements (src/gate/). */
export interface GateOutcome {
  requirements: string[];      // e.g. ['COOP_TASKRUN', 'op:SEND_ZC', 'multishot-recvmsg']
  strict: boolean;             // degraded counts as failure
  minPps: number | null;
  minRatio: number | null;
  unmet: Array<{ requirement: string; have: string }>;
  /** throughput floors whose measured interval straddles them (unmet as well only with strict); absent in older reports */
  inconclusive?: Array<{ requirement: string; have: string }>;
  passed: boolean;
}

/** What the CLI prints in JSON mode when it cannot produce a report (bad input, internal error). */
export interface ErrorDocument {
  schemaVersion: 1;
  tool: { name: 'uring-probe'; version: string };
  error: { code: string; message: string };
  exitCode: number;
}

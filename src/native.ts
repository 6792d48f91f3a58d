// The one typed facade over the C++ addon: `any` stays inside this loader.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// Shapes the addon returns. Kernel refusals are data (`res` = 0 or -errno), never
// exceptions; the addon rejects only on an internal failure, with a Node-style
// Error (code 'EINVAL', errno, syscall) or a TypeError for bad arguments.
// ---------------------------------------------------------------------------

export interface AbiInfo {
  sqeSize: number;          // 64
  cqeSize: number;          // 16
  paramsSize: number;       // 120
  sqOffsetsSize: number;    // 40
  cqOffsetsSize: number;    // 40
  pageSize: number;
  /** byte offsets of the fields the seed writes, from offsetof() in our own ABI header */
  sqeOffsets: Record<string, number>;
  cqeOffsets: Record<string, number>;
  /** constants from native/abi.h, by name (setup flags, features, ops, register ops) */
  setupFlags: Record<string, number>;
  features: Record<string, number>;
  opcodes: Record<string, number>;
  registerOps: Record<string, number>;
}

export interface NativeAttempt {
  stage: 'setup' | 'mmap';
  entries: number;
  flags: number;
  res: number;              // fd (>= 0, already closed) or 0 on success; -errno on failure
}

export interface RingOffsets {
  sq: { head: number; tail: number; ringMask: number; ringEntries: number; flags: number; dropped: number; array: number };
  cq: { head: number; tail: number; ringMask: number; ringEntries: number; overflow: number; cqes: number; flags: number };
}

export interface RingParams {
  sqEntries: number;
  cqEntries: number;
  flags: number;            // flags of the accepted setup
  features: number;
  offsets: RingOffsets;
}

export interface RingMapping {
  strategy: 'separate' | 'single';
  sqRingSize: number;
  cqRingSize: number;
  sqesSize: number;
  /** address of the CQE array modulo 16 and modulo 8 (the seed warns if % 8 != 0) */
  cqesAddrMod16: number;
  cqesAddrMod8: number;
  /** values read back through the mapping: ring_mask / ring_entries of SQ and CQ */
  sqRingMask: number;
  sqRingEntries: number;
  cqRingMask: number;
  cqRingEntries: number;
}

export interface RingLadderOptions {
  /** 'send' = the seed's newIoUringState; 'recv' = newIoUringRecvState (SINGLE_MMAP-aware, pool) */
  kind: 'send' | 'recv';
  /** 0 = the seed's default (256 for send; poolSize for recv) */
  entries?: number;
  poolSize?: number;        // recv only, seed default 64, capped at 2048
  bufferSize?: number;      // recv only, default 2048
  /** default: the seed's ladder [CLAMP|COOP_TASKRUN, CLAMP] */
  flagSets?: number[];
  /** default true: IORING_REGISTER_IOWQ_MAX_WORKERS {4,4} after setup, as the seed does */
  registerMaxWorkers?: boolean;
  /** recv only: hold the seed's send ring while the receive ring is set up, as the seed does */
  holdSendRing?: boolean;
}

export interface RingLadderResult {
  res: number;              // 0, or -errno of the failure that ended the ladder
  attempts: NativeAttempt[];
  params: RingParams | null;
  mapping: RingMapping | null;
  /** the kernel's answer that failed the addon's geometry check (EPROTO, ABI_MISMATCH), else null */
  geometry?: { field: string; rule: string; value: number; bound: number } | null;
  /** IOWQ_MAX_WORKERS: res 0 or -errno; `previous` = the limits the kernel had before (it writes them back) */
  maxWorkers: { res: number; requested: [number, number]; previous: [number, number] | null } | null;
  /** holdSendRing: the send ring held during the receive ladder */
  heldSendRing?: { res: number; entries: number } | null;
  /**
   * recv only: the pool's RECVMSG (fillRecvQueue). `written`: SQEs we wrote and published;
   * `submitted`: io_uring_enter's result (SQEs the kernel took, or -errno); the kernel's SQ head
   * before and after that call. `queued` = what the kernel took (0 on an error), `submitRes` = the
   * enter's -errno (0 when none). `entered` false: nothing was written, so no enter was made.
   */
  recvPool: {
    poolSize: number;
    written: number;
    entered: boolean;
    submitted: number;
    sqHeadBefore: number;
    sqHeadAfter: number;
    queued: number;
    submitRes: number;
  } | null;
}

/** One CQE slot as one mapping shows it (null: that mapping's CQ ring had nothing at its head). */
export interface CqeView {
  userData: number;
  res: number;
  flags: number;
}

export interface MappingCompareResult {
  res: number;              // setup result (0 or -errno)
  featSingleMmap: boolean;
  /** `attempted` false for the single mapping without FEAT_SINGLE_MMAP (the SQ mapping holds no CQ ring then) */
  separate: { attempted: boolean; res: number; mapping: RingMapping | null };
  single: { attempted: boolean; res: number; mapping: RingMapping | null };
  /**
   * NOP 1 submitted through the separate mappings, NOP 2 through the single one (when made); each
   * one's CQE read through the separate CQ mapping and through the single mapping before it was consumed.
   */
  nops: Array<{
    submittedThrough: 'separate' | 'single';
    userData: number;
    enterRes: number;
    viaSeparate: CqeView | null;
    viaSingle: CqeView | null;
  }>;
  /** both mappings show the same ring: same masks/entries, and every NOP's CQE (user_data, res 0, flags) read alike through both */
  agree: boolean;
}

/**
 * io_uring_params as the kernel copies it, measured (io_uring_setup of an 8-entry CLAMP ring):
 * `window` = 128 bytes after a setup with bytes 40.. filled with a canary; `copyOut` = 1 + the last
 * byte the kernel changed there (two canaries); `copyIn` = the smallest room before an inaccessible
 * page that io_uring_setup accepts (-1: not found, `copyInRes` says why); `probeRoomRes` = the
 * setup's answer with only `probeRoom` bytes of room (-EFAULT when the kernel reads past them).
 */
export interface ParamsLayoutResult {
  entries: number;
  flags: number;
  res: number;
  window: number[] | null;
  copyOut: number;
  probeRoom: number;
  probeRoomRes: number;
  copyIn: number;
  copyInRes: number;
}

export interface OpcodeProbeResult {
  res: number;              // IORING_REGISTER_PROBE: 0 or -errno (EINVAL before 5.6)
  lastOp: number;
  ops: Array<{ op: number; supported: boolean }>;
}

export interface MultishotResult {
  /** 0 = worked; otherwise -errno of the step named in `stage` */
  res: number;
  stage: 'setup' | 'socket' | 'register-pbuf-ring' | 'submit' | 'recv' | 'done';
  packetsSent: number;
  completions: number;      // CQEs with res > 0 for the one multishot SQE
  moreFlag: boolean;        // IORING_CQE_F_MORE seen on a completion
  bufferFlag: boolean;      // IORING_CQE_F_BUFFER seen
  payloadOk: boolean;       // payload found intact inside the io_uring_recvmsg_out layout
  /** the multishot request ended (a CQE without F_MORE was reaped), with `finalRes` */
  terminated?: boolean;
  finalRes?: number;
  /** the ASYNC_CANCEL that ended the request, awaited before the buffers went (native CancelReport) */
  cancel?: {
    targets: number; cancelsSubmitted: number; cancelsFailed: number; cancelCqes: number;
    awaited: number; outstanding: number; freed: boolean; leaked: boolean; elapsedMs: number;
  };
}

export interface SetupFlagResult {
  flags: number;
  res: number;              // 0 (ring created and closed) or -errno
  features: number;
  sqEntries: number;
  cqEntries: number;
  /** NO_MMAP tried with ring memory of ours (userMemory option) */
  userMemory: boolean;
  /** with that memory: a NOP submitted and reaped in it (null when not tried) */
  nop: { enterRes: number; cqeRes: number | null } | null;
}

export interface SingleIssuerResult {
  flags: number;            // the setup flags tried (SINGLE_ISSUER|CLAMP, plus any extraFlags)
  setupRes: number;
  sameThread: { enterRes: number; cqeRes: number | null };
  otherThread: { enterRes: number; cqeRes: number | null };
}

export interface LoopbackOptions {
  family: 4 | 6;
  /** sizes of the datagrams sent one by one through Sendmsg */
  sizes: number[];
  /** number of datagrams in one SendmsgBatch call */
  batch: number;
  poolSize?: number;        // default 64
  timeoutMs?: number;       // bound on every wait, default 2000
  /** use the poll() wait that kernels without FEAT_EXT_ARG (< 5.11) get, even where EXT_ARG exists */
  forcePollWait?: boolean;
}

export interface LoopbackResult {
  res: number;              // 0, or -errno of the step in `stage`
  stage: 'socket' | 'bind' | 'send-ring' | 'recv-ring' | 'sendmsg' | 'sendmsg-batch' | 'receive' | 'recvmsg' | 'done';
  sendRing: { entries: number; flags: number } | null;
  recvRing: { entries: number; flags: number; queued: number } | null;
  sendmsg: { calls: number; bytes: number; errors: number; firstErrno: number };
  batch: { calls: number; entries: number; bytes: number; errors: number; firstErrno: number };
  /** the seed's synchronous Recvmsg on the send ring: one 1400-byte datagram sent back from the
   *  receiver's socket, checked for bytes, length and source (`ok`) */
  recvmsg: { calls: number; bytes: number; errors: number; firstErrno: number; ok: boolean };
  received: number;
  expected: number;
  bytesOk: boolean;
  lengthsOk: boolean;
  sourceOk: boolean;
  mismatches: string[];     // at most a few human-readable descriptions
  // firstErrno fields above are -errno (0 when none), like every `res`
  elapsedUs: number;
}

export interface SeccompCompileResult {
  res: number;              // 0, or -errno (-ENOENT: libseccomp.so.2 not found)
  error: string;
  library: string;
  bpf: Buffer | null;       // struct sock_filter[]
  unknownSyscalls: string[];
  skipped: string[];
}

export interface MemlockProbeResult {
  res: number;              // 0, or -errno of `stage` (the measurement itself failed)
  stage: string;
  pageSize: number;
  softLimit: number | 'infinity';
  hardLimit: number | 'infinity';
  /** 1-entry ring at a zero soft limit, with the service's caps: 0 = not charged, -ENOMEM = charged, else refused */
  chargeTestRes: number;
  scanned: boolean;
  scanRes: number;          // 0: all thresholds found; -ENOMEM: the scan limit came first
  scanLimitPages: number;
  sendThreshold: number;    // pages (0 = not reached)
  pairThreshold: number;
  thirdThreshold: number;
  attempts: number;
  scanUs: number;
  sendGeometryPages: number;
  recvGeometryPages: number;
}

export interface Addon {
  abi(): AbiInfo;
  ringLadder(opts: RingLadderOptions): Promise<RingLadderResult>;
  /** singleFromOtherRing (tests): the single view maps a second ring, a real disagreement */
  mappingCompare(opts: { entries: number; singleFromOtherRing?: boolean }): Promise<MappingCompareResult>;
  /** room: the struct size to try io_uring_setup with, right before an inaccessible page (the seed's) */
  paramsLayout(opts: { room: number }): Promise<ParamsLayoutResult>;
  probeOpcodes(): Promise<OpcodeProbeResult>;
  multishotRecvmsg(opts: { timeoutMs?: number }): Promise<MultishotResult>;
  /** userMemory: with NO_MMAP, page-aligned ring memory of ours instead of null addresses */
  trySetupFlags(opts: { flags: number; entries?: number; cqEntries?: number; userMemory?: boolean }): Promise<SetupFlagResult>;
  /** extraFlags (tests): added to SINGLE_ISSUER|CLAMP, e.g. SQPOLL */
  singleIssuerCrossThread(opts?: { extraFlags?: number }): Promise<SingleIssuerResult>;
  loopback(opts: LoopbackOptions): Promise<LoopbackResult>;
  /** map a shared file (>= 16 bytes) as the breadcrumb page: the last syscall survives a SIGSYS kill */
  setBreadcrumbFd(fd: number): number;
  compileSeccomp(spec: unknown): SeccompCompileResult;
  /** start the service's context thread (ids, caps, seccomp filter); res 0 or -errno of `stage` */
  setContext(opts: { uid?: number; gid?: number; groups?: number[]; caps?: string; bpf?: Buffer }): { res: number; stage: string };
  /** RLIMIT_MEMLOCK of this process: 0 or -errno */
  setMemlock(soft: string, hard: string): number;
  memlockProbe(opts: { sendEntries?: number; recvEntries?: number; scanLimitMiB?: number }): Promise<MemlockProbeResult>;
  /** io_uring_setup retries after ENOMEM while our own closed rings were being given back */
  ringLedgerStats(): { retries: number; waitedMs: number; recovered: number };
  /** live throughput engine (issue 3); see src/bench/ */
  bench: unknown;
}

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = resolve(here, '..', '..'); // dist/src -> package root

/**
 * URING_PROBE_ADDON=/path/to/uring_probe.node: load exactly that addon file instead of searching
 * (for a specially built addon, e.g. the AddressSanitizer build of `npm run test:sanitize`; child
 * processes, the probe child included, inherit it). Unset or empty: the normal search below. A
 * relative path is taken from the current directory. The single executable's embedded addon still
 * wins (setEmbeddedAddonLoader).
 */
export const ADDON_OVERRIDE_ENV = 'URING_PROBE_ADDON';
function addonOverride(): string | null {
  const value = process.env[ADDON_OVERRIDE_ENV];
  return value ? resolve(value) : null;
}

/**
 * Where the addon may come from, in the order node-gyp-build tries them: a local build
 * (build/Release, build/Debug: `npm install` from source, or a developer's tree), then the
 * prebuilt Node-API addon shipped in the package (prebuilds/linux-x64/uring-probe.napi.glibc.node,
 * built on glibc 2.31 so it loads on Debian 11 and later). Node-API: one binary for every Node.
 */
export function addonCandidates(): string[] {
  const override = addonOverride();
  return [
    ...(override ? [override] : []),
    join(packageRoot, 'build', 'Release', 'uring_probe.node'),
    join(packageRoot, 'build', 'Debug', 'uring_probe.node'),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'uring-probe.napi.glibc.node'),
  ];
}

export class AddonLoadError extends Error {
  readonly code = 'ADDON_LOAD';
  constructor(message: string, readonly tried: string[]) {
    super(message);
  }
}

let cached: Addon | null = null;

/** A hook for packagings that carry the addon elsewhere (the single executable): returns it, or null. */
let embeddedLoader: (() => Addon | null) | null = null;
export function setEmbeddedAddonLoader(loader: () => Addon | null): void {
  embeddedLoader = loader;
}

export function loadAddon(): Addon {
  if (cached) return cached;
  const embedded = embeddedLoader?.();
  if (embedded) {
    cached = embedded;
    return cached;
  }
  const require = createRequire(import.meta.url);
  const tried = addonCandidates();
  const override = addonOverride();
  if (override) {
    try {
      cached = require(override) as Addon;
      return cached;
    } catch (err) {
      throw new AddonLoadError(
        `the native addon ${override} (from ${ADDON_OVERRIDE_ENV}) could not be loaded (${(err as Error).message.split('\n')[0]}); ` +
          `unset ${ADDON_OVERRIDE_ENV} to use the installed addon`,
        [override],
      );
    }
  }
  let path: string;
  try {
    const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    path = nodeGypBuild.resolve(packageRoot);
  } catch (err) {
    const present = tried.filter((p) => existsSync(p));
    throw new AddonLoadError(
      `the native addon could not be found (${present.length ? present.join(', ') : 'none of ' + tried.join(', ')}: ` +
        `${(err as Error).message.split('\n')[0]}); reinstall uring-probe (the package ships a prebuilt addon for linux-x64), ` +
        'or build it from source with `npm rebuild uring-probe` (needs python3, make and g++)',
      tried,
    );
  }
  try {
    cached = require(path) as Addon;
    return cached;
  } catch (err) {
    throw new AddonLoadError(
      `the native addon ${path} could not be loaded (${(err as Error).message.split('\n')[0]}); ` +
        'reinstall uring-probe, or build it from source with `npm rebuild uring-probe` (needs python3, make and g++)',
      tried,
    );
  }
}

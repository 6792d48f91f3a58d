// Typed facade over `addon.bench` (the native loopback throughput engine): the one place its `unknown` is cast.
import { loadAddon } from '../native.js';

export const BENCH_MODES = ['seed', 'seed-batch', 'syscall', 'mmsg', 'multishot', 'gso'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

/** Modes whose rings take --ring-flags (ORed into every flag set of the seed's ladder). */
export const RING_MODES: ReadonlySet<BenchMode> = new Set<BenchMode>(['seed', 'seed-batch', 'multishot']);

export const MIN_SIZE = 24;
export const MAX_SIZE = 8192;

export interface EngineRunOptions {
  mode: BenchMode;
  size: number;
  durationMs: number;
  batch?: number;        // default 32
  depth?: number;        // default 64 (the seed's receive pool)
  ringFlags?: number;    // extra setup flags, e.g. SINGLE_ISSUER|DEFER_TASKRUN
  /** test knobs */
  rcvbuf?: number;       // receiver SO_RCVBUF bytes; 0 = kernel default (default 4 MiB)
  stallMs?: number;      // receiver sleeps before its first receive
  inject?: number;       // garbled datagrams a third socket sends to the receiver
  pin?: boolean;         // default true
}

/** What the engine measured in one run (raw counts; derived figures are computed in runner.ts). */
export interface EngineRun {
  mode: BenchMode;
  size: number;
  res: number;                 // 0 or -errno of `stage`
  stage: string;
  skipped: string | null;      // the kernel lacks the technique: why
  sent: number;
  received: number;            // intact datagrams
  corrupt: number;             // arrived but wrong (length, header, trailer)
  bytesReceived: number;
  sendErrors: number;
  sendErrno: number;
  rcvbufErrors: number | null; // delta of Udp RcvbufErrors (/proc/net/snmp)
  inErrors: number | null;
  senderElapsedUs: number;
  receiveElapsedUs: number;
  senderCpuUs: number;
  receiverCpuUs: number;
  senderCpu: number;
  receiverCpu: number;
  sendRingFlags: number;
  recvRingFlags: number;
  gsoSegments: number;
}

export interface PingPongOptions {
  mode: 'seed' | 'syscall';
  size?: number;
  durationMs?: number;
  maxRounds?: number;
  ringFlags?: number;
  pin?: boolean;
}

export interface PingPongRun {
  mode: 'seed' | 'syscall';
  size: number;
  res: number;
  stage: string;
  rounds: number;
  corrupt: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
  meanUs: number;
}

export interface BenchEngine {
  run(opts: EngineRunOptions): Promise<EngineRun>;
  pingPong(opts: PingPongOptions): Promise<PingPongRun>;
  modes: string[];
  minSize: number;
  maxSize: number;
}

let cached: BenchEngine | null = null;

/** The engine of the loaded addon; throws when the addon was built without it. */
export function benchEngine(): BenchEngine {
  if (cached) return cached;
  const raw = loadAddon().bench as Partial<BenchEngine> | undefined;
  if (!raw || typeof raw.run !== 'function' || typeof raw.pingPong !== 'function') {
    throw new Error('the native addon has no throughput engine (addon.bench); rebuild it with `npx node-gyp build`');
  }
  cached = raw as BenchEngine;
  return cached;
}

export function isBenchMode(s: string): s is BenchMode {
  return (BENCH_MODES as readonly string[]).includes(s);
}

// Runs the engine over a plan (modes x sizes x repeats, interleaved) and reduces each case to median [min-max].
import { errnoName } from '../errno.js';
import { bitOf, namesOfBits, SETUP_FLAGS } from '../kernel-abi.js';
import { benchEngine, RING_MODES, type BenchMode, type EngineRun, type PingPongRun } from './engine.js';
import { suggestionsFor, type Suggestion } from './suggestions.js';

/**
 * The setup flags --ring-flags accepts: those that keep the engine's 64-byte SQEs, 16-byte CQEs and
 * mmap'd rings (bits from the one table in src/kernel-abi.ts).
 */
const RING_FLAG_NAMES = ['SQPOLL', 'CLAMP', 'SUBMIT_ALL', 'COOP_TASKRUN', 'TASKRUN_FLAG', 'SINGLE_ISSUER', 'DEFER_TASKRUN', 'NO_SQARRAY'];
export const RING_FLAG_BITS: Record<string, number> = Object.fromEntries(
  RING_FLAG_NAMES.map((name) => [name, bitOf(SETUP_FLAGS, name)!]),
);
export const DEFER_FLAGS = (RING_FLAG_BITS.SINGLE_ISSUER ?? 0) | (RING_FLAG_BITS.DEFER_TASKRUN ?? 0);

export function ringFlagNames(flags: number): string {
  return namesOfBits(flags, SETUP_FLAGS).join('|');
}

/**
 * "SINGLE_ISSUER,DEFER_TASKRUN", "SINGLE_ISSUER|DEFER_TASKRUN" or a number; null when unparsable or
 * when it names a flag outside RING_FLAG_BITS: the engine's rings assume 64-byte SQEs, 16-byte CQEs
 * and mmap'd rings, so CQE32, SQE128, NO_MMAP, IOPOLL... would measure nothing true.
 */
export function parseRingFlags(text: string): number | null {
  const t = text.trim();
  if (t === '' || t === '0') return 0;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) {
    const n = Number(t);
    const known = Object.values(RING_FLAG_BITS).reduce((a, b) => a | b, 0);
    return Number.isSafeInteger(n) && n <= 0xffffffff && (n & ~known) === 0 ? n >>> 0 : null;
  }
  let flags = 0;
  for (const part of t.split(/[|,+]/)) {
    const name = part.trim().toUpperCase().replace(/^IORING_SETUP_/, '');
    const bit = RING_FLAG_BITS[name];
    if (bit === undefined) return null;
    flags |= bit;
  }
  return flags >>> 0;
}

export interface BenchPlan {
  modes: BenchMode[];
  sizes: number[];
  durationMs: number;
  repeat: number;
  batch: number;
  depth: number;
  /** extra setup flags for the ring modes */
  ringFlags: number;
  /** add one `seed` case with the other flag choice (SINGLE_ISSUER|DEFER_TASKRUN, or none) for comparison */
  compareFlags: boolean;
  /** ping-pong latency for seed and syscall (first size) */
  pingPong: boolean;
}

export const DEFAULT_PLAN: BenchPlan = {
  modes: ['seed', 'seed-batch', 'syscall', 'mmsg', 'multishot', 'gso'],
  sizes: [64, 1400],
  durationMs: 1000,
  repeat: 3,
  batch: 32,
  depth: 64,
  ringFlags: 0,
  compareFlags: true,
  pingPong: true,
};

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export interface CaseFigures {
  rxPps: Stat;
  txPps: Stat;
  gbps: Stat;
  drops: Stat;               // sent - received
  rcvbufErrors: Stat | null; // kernel counter delta
  senderCpuMsPerM: Stat;     // sender thread CPU ms per million datagrams sent
  receiverCpuMsPerM: Stat;   // receiver thread CPU ms per million datagrams received
}

export interface CaseSpec {
  label: string;   // 'seed', 'seed+SINGLE_ISSUER|DEFER_TASKRUN', ...
  mode: BenchMode;
  ringFlags: number;
}

export interface BenchCase extends CaseSpec {
  size: number;
  runs: EngineRun[];
  skipped: string | null;     // kernel lacks the technique
  error: string | null;       // the run failed for another reason
  figures: CaseFigures | null;
  corrupt: number;            // over all runs
  ratioToSyscall: number | null; // median rxPps / syscall median rxPps, same size
}

export interface BenchResult {
  plan: BenchPlan;
  cases: BenchCase[];
  pingPong: PingPongRun[];
  best: Record<number, string | null>; // size -> label of the fastest case
  suggestions: Suggestion[];
}

export function stat(values: number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: 0, min: 0, max: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
  return { median, min: v[0] ?? 0, max: v[v.length - 1] ?? 0 };
}

/** Per-run derived figures. */
export function derive(run: EngineRun) {
  const rxS = run.receiveElapsedUs / 1e6;
  const txS = run.senderElapsedUs / 1e6;
  const rxPps = rxS > 0 ? run.received / rxS : 0;
  return {
    rxPps,
    txPps: txS > 0 ? run.sent / txS : 0,
    gbps: (rxPps * run.size * 8) / 1e9,
    drops: Math.max(0, run.sent - run.received),
    senderCpuMsPerM: run.sent > 0 ? run.senderCpuUs / 1000 / (run.sent / 1e6) : 0,
    receiverCpuMsPerM: run.received > 0 ? run.receiverCpuUs / 1000 / (run.received / 1e6) : 0,
  };
}

export function figuresOf(runs: EngineRun[]): CaseFigures | null {
  const ok = runs.filter((r) => r.res === 0 && !r.skipped);
  if (ok.length === 0) return null;
  const d = ok.map(derive);
  const rcv = ok.map((r) => r.rcvbufErrors).filter((x): x is number => x !== null);
  return {
    rxPps: stat(d.map((x) => x.rxPps)),
    txPps: stat(d.map((x) => x.txPps)),
    gbps: stat(d.map((x) => x.gbps)),
    drops: stat(d.map((x) => x.drops)),
    rcvbufErrors: rcv.length ? stat(rcv) : null,
    senderCpuMsPerM: stat(d.map((x) => x.senderCpuMsPerM)),
    receiverCpuMsPerM: stat(d.map((x) => x.receiverCpuMsPerM)),
  };
}

export function runError(run: EngineRun): string | null {
  if (run.res === 0) return null;
  return `${run.stage} failed with ${errnoName(run.res)}`;
}

/** The cases of a plan: one per mode, plus the flag comparison for `seed`. */
export function casesOf(plan: BenchPlan): CaseSpec[] {
  const cases: CaseSpec[] = [];
  for (const mode of plan.modes) {
    const flags = RING_MODES.has(mode) ? plan.ringFlags : 0;
    cases.push({ label: flags ? `${mode}+${ringFlagNames(flags)}` : mode, mode, ringFlags: flags });
    if (mode === 'seed' && plan.compareFlags) {
      const other = plan.ringFlags ? 0 : DEFER_FLAGS;
      cases.push({ label: other ? `seed+${ringFlagNames(other)}` : 'seed', mode, ringFlags: other });
    }
  }
  return cases;
}

export interface Progress {
  done: number;
  total: number;
  label: string;
}

/**
 * Run the plan. Repeats are the outer loop and cases alternate inside it, so slow drifts of a
 * noisy machine spread over every case instead of landing on one.
 */
export async function runBench(plan: BenchPlan, onProgress?: (p: Progress) => void): Promise<BenchResult> {
  const engine = benchEngine();
  const specs = casesOf(plan);
  const cases: BenchCase[] = [];
  for (const size of plan.sizes) {
    for (const s of specs) {
      cases.push({ ...s, size, runs: [], skipped: null, error: null, figures: null, corrupt: 0, ratioToSyscall: null });
    }
  }
  const pingModes: Array<'seed' | 'syscall'> = plan.pingPong ? ['seed', 'syscall'] : [];
  const total = plan.repeat * cases.length + pingModes.length;
  let done = 0;
  for (let rep = 0; rep < plan.repeat; rep++) {
    for (const c of cases) {
      if (c.skipped) {
        done++;
        continue; // the kernel lacks it: no point asking again
      }
      onProgress?.({ done, total, label: `${c.label} ${c.size} B (${rep + 1}/${plan.repeat})` });
      const run = await engine.run({
        mode: c.mode,
        size: c.size,
        durationMs: plan.durationMs,
        batch: plan.batch,
        depth: plan.depth,
        ringFlags: c.ringFlags,
      });
      c.runs.push(run);
      if (run.skipped) c.skipped = run.skipped;
      else if (run.res !== 0 && c.ringFlags && (run.stage === 'send-ring' || run.stage === 'recv-ring') && run.res === -22) {
        c.skipped = `the kernel refused the setup flags ${ringFlagNames(c.ringFlags)} (EINVAL)`;
      } else if (run.res !== 0) c.error = runError(run);
      done++;
    }
  }
  const pingPong: PingPongRun[] = [];
  for (const mode of pingModes) {
    onProgress?.({ done, total, label: `ping-pong ${mode}` });
    pingPong.push(await engine.pingPong({ mode, size: plan.sizes[0] ?? 64, durationMs: Math.min(plan.durationMs, 500) }));
    done++;
  }
  onProgress?.({ done, total, label: 'done' });
  const best: Record<number, string | null> = {};
  for (const c of cases) {
    c.figures = figuresOf(c.runs);
    c.corrupt = c.runs.reduce((a, r) => a + r.corrupt, 0);
  }
  for (const size of plan.sizes) {
    const sameSize = cases.filter((c) => c.size === size);
    const base = sameSize.find((c) => c.mode === 'syscall' && c.figures);
    let top: BenchCase | null = null;
    for (const c of sameSize) {
      if (!c.figures) continue;
      if (base?.figures && base.figures.rxPps.median > 0) c.ratioToSyscall = c.figures.rxPps.median / base.figures.rxPps.median;
      if (!top || c.figures.rxPps.median > (top.figures?.rxPps.median ?? 0)) top = c;
    }
    best[size] = top?.label ?? null;
  }
  const result: BenchResult = { plan, cases, pingPong, best, suggestions: [] };
  result.suggestions = suggestionsFor(result);
  return result;
}

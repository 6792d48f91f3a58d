// Probe `throughput`: a short live loopback run of the seed's rings against plain syscalls, the ratio, and the best mode.
import { benchEngine, type BenchMode, type EngineRun } from '../bench/engine.js';
import { levelsOf, median, medianInterval } from '../bench/interval.js';
import { derive, runError } from '../bench/runner.js';
import { errnoName } from '../errno.js';
import type { FactValue, Facts, ProbeResult } from '../types.js';
import { probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

export const THROUGHPUT_SIZE = 64;
/** The other modes get a short look each, only to name the best one this kernel offers. */
const SURVEY_MODES: BenchMode[] = ['seed-batch', 'mmsg', 'multishot', 'gso'];
const SURVEY_MAX_MS = 100;

/** One engine run of the throughput probe, as recorded in its facts. */
export type ThroughputModeFacts = {
  durationMs: number;
  /** received and sent packets/s */
  rxPps: number;
  txPps: number;
  gbps: number;
  sent: number;
  received: number;
  drops: number;
  /** the kernel's UDP RcvbufErrors during the run; null when it could not be read */
  rcvbufErrors: number | null;
  corrupt: number;
  senderCpuMsPerM: number;
  receiverCpuMsPerM: number;
  /** why the mode was skipped (not available on this kernel, e.g. multishot before 6.0); null when it ran */
  skipped: string | null;
  /** why the run failed, null when it did not */
  error: string | null;
};

/** One interleaved pair of slices: the seed's rings and the syscall baseline, back to back. */
export type ThroughputSliceFacts = {
  /** received packets/s in the seed's slice, then in the syscall slice (null: that slice failed) */
  seedPps: number | null;
  syscallPps: number | null;
  /** seedPps / syscallPps of this pair, 3 decimals */
  ratio: number | null;
};

/** Facts of the `throughput` probe. */
export type ThroughputFacts = {
  // The fields marked optional are absent in reports made before the interleaved measurement (one
  // block per mode); this version always writes them.
  /** datagram size, bytes */
  size: number;
  /** measured time per mode: the sum of its slices, ms */
  durationMs: number;
  /** length of one slice, ms; the two modes alternate slice by slice (seed, syscall, syscall, seed, ...) */
  sliceMs?: number;
  /** interleaved pairs measured */
  pairs?: number;
  /** received packets/s through the seed's rings: the median of its slices (null: the run failed) */
  seedPps: number | null;
  /** interval of the seed's median (see intervalConfidence) */
  seedPpsLow?: number | null;
  seedPpsHigh?: number | null;
  /** received packets/s with sendmsg/recvmsg: the median of its slices */
  syscallPps: number | null;
  /** the median of the per-pair seed/syscall ratios, 3 decimals */
  ratio: number | null;
  /** interval of that median from the pairs (order statistics, no distribution assumed) */
  ratioLow?: number | null;
  ratioHigh?: number | null;
  /** how often such an interval covers the true median (e.g. 0.961 for 12 pairs) */
  intervalConfidence?: number | null;
  /**
   * The levels the seed's slice rates sat at: one entry, or two when they split into two states
   * (a gap of 10% or more with two slices or more on each side); pps is each level's median.
   */
  seedLevels?: Array<{ pps: number; slices: number }>;
  /** 'pass', 'below' or 'inconclusive' (the interval straddles the floor) for --min-pps / --min-ratio; null without one */
  minPpsOutcome?: FloorOutcome | null;
  minRatioOutcome?: FloorOutcome | null;
  bestMode: string | null;
  bestPps: number | null;
  minPps: number | null;
  minRatio: number | null;
  slices?: ThroughputSliceFacts[];
  /** the probe's time bound (--timeout, ms) and the budgets taken from it: no pair is started after pairsBudgetMs (at least 4 are measured), the survey of other modes is left out after surveyBudgetMs */
  timeBoundMs?: number;
  pairsBudgetMs?: number;
  surveyBudgetMs?: number;
  /** each mode's runs summed (seed and syscall: all their slices; the others: one short survey run) */
  modes: Record<string, ThroughputModeFacts>;
};

/** Where a measured interval lies against a floor. */
export type FloorOutcome = 'pass' | 'below' | 'inconclusive';

/** pass when the whole interval is at or above the floor, below when all of it is under, else inconclusive. */
export function floorOutcome(low: number, high: number, floor: number): FloorOutcome {
  if (low >= floor) return 'pass';
  if (high < floor) return 'below';
  return 'inconclusive';
}

function modeFacts(run: EngineRun): ThroughputModeFacts {
  const d = derive(run);
  return {
    durationMs: Math.round(run.senderElapsedUs / 1000),
    rxPps: Math.round(d.rxPps),
    txPps: Math.round(d.txPps),
    gbps: Math.round(d.gbps * 1000) / 1000,
    sent: run.sent,
    received: run.received,
    drops: d.drops,
    rcvbufErrors: run.rcvbufErrors,
    corrupt: run.corrupt,
    senderCpuMsPerM: Math.round(d.senderCpuMsPerM),
    receiverCpuMsPerM: Math.round(d.receiverCpuMsPerM),
    skipped: run.skipped,
    error: run.skipped ? null : runError(run),
  };
}

/** Facts of a survey mode the probe had no time left for. */
function notMeasured(why: string): ThroughputModeFacts {
  return {
    durationMs: 0,
    rxPps: 0,
    txPps: 0,
    gbps: 0,
    sent: 0,
    received: 0,
    drops: 0,
    rcvbufErrors: null,
    corrupt: 0,
    senderCpuMsPerM: 0,
    receiverCpuMsPerM: 0,
    skipped: why,
    error: null,
  };
}

function kpps(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1000)}k`;
}

/** Several runs of one mode as one: counts and times summed, the first failure kept. */
export function sumRuns(runs: readonly EngineRun[]): EngineRun {
  const first = runs[0]!;
  const failed = runs.find((r) => r.res !== 0 || r.skipped);
  const add = (key: keyof EngineRun): number => runs.reduce((sum, r) => sum + (r[key] as number), 0);
  const nullable = (key: 'rcvbufErrors' | 'inErrors'): number | null =>
    runs.some((r) => r[key] === null) ? null : runs.reduce((sum, r) => sum + (r[key] as number), 0);
  return {
    ...first,
    res: failed?.res ?? 0,
    stage: failed?.stage ?? first.stage,
    skipped: failed?.skipped ?? null,
    sent: add('sent'),
    received: add('received'),
    corrupt: add('corrupt'),
    bytesReceived: add('bytesReceived'),
    sendErrors: add('sendErrors'),
    sendErrno: runs.find((r) => r.sendErrno !== 0)?.sendErrno ?? 0,
    rcvbufErrors: nullable('rcvbufErrors'),
    inErrors: nullable('inErrors'),
    senderElapsedUs: add('senderElapsedUs'),
    receiveElapsedUs: add('receiveElapsedUs'),
    senderCpuUs: add('senderCpuUs'),
    receiverCpuUs: add('receiverCpuUs'),
  };
}

/** Length of one interleaved slice. Shorter slices pair the two modes more closely but pay the rings' and threads' set-up more often. */
export const SLICE_MS = 50;
/**
 * Time the probe gives itself, from its start, before it stops adding pairs (at least 4 are
 * measured) and before it leaves out the survey of the other modes: on a loaded host each slice's
 * set-up takes longer, and the whole probe must finish inside its time bound (--timeout, like every
 * kernel probe) with its report. The budgets are these shares of the bound, at most the figures
 * below (which the default bound of 5000 ms gives): a longer --timeout never lengthens the
 * measurement, a shorter one shortens it, down to the 4 pairs.
 */
const PAIRS_BUDGET_MS = 1900;
const SURVEY_BUDGET_MS = 2500;
const PAIRS_SHARE = 0.38;
const SURVEY_SHARE = 0.5;
const MIN_PAIRS = 4;

/** The measurement's budgets under a time bound of `timeoutMs`. */
export function throughputBudgets(timeoutMs: number): { pairsBudgetMs: number; surveyBudgetMs: number } {
  return {
    pairsBudgetMs: Math.min(PAIRS_BUDGET_MS, Math.floor(timeoutMs * PAIRS_SHARE)),
    surveyBudgetMs: Math.min(SURVEY_BUDGET_MS, Math.floor(timeoutMs * SURVEY_SHARE)),
  };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function rxPpsOf(run: EngineRun): number | null {
  if (run.res !== 0 || run.skipped) return null;
  const pps = derive(run).rxPps;
  return Number.isFinite(pps) ? pps : null;
}

/**
 * The probe's status from its facts' floor outcomes: fail when the interval is below a floor,
 * warn (THROUGHPUT_INCONCLUSIVE) when it straddles one, pass otherwise. `line` is the measurement.
 */
export function judgeFloors(
  facts: ThroughputFacts,
  line: string,
): { status: 'pass' | 'warn' | 'fail'; reason: 'BELOW_MIN_PPS' | 'BELOW_MIN_RATIO' | 'THROUGHPUT_INCONCLUSIVE' | null; summary: string } {
  const confidence = `${Math.round((facts.intervalConfidence ?? 0) * 100)}%`;
  const seedRange = `seed ${kpps(facts.seedPps ?? 0)} pkt/s (${confidence} interval ${kpps(facts.seedPpsLow ?? 0)}–${kpps(facts.seedPpsHigh ?? 0)})`;
  const ratioRange = `seed/syscall ratio ${facts.ratio?.toFixed(2) ?? '?'} (${confidence} interval ${facts.ratioLow?.toFixed(2) ?? '?'}–${facts.ratioHigh?.toFixed(2) ?? '?'})`;
  if (facts.minPpsOutcome === 'below') {
    return { status: 'fail', reason: 'BELOW_MIN_PPS', summary: `${seedRange} is below --min-pps ${facts.minPps}; ${line}` };
  }
  if (facts.minRatioOutcome === 'below') {
    return { status: 'fail', reason: 'BELOW_MIN_RATIO', summary: `${ratioRange} is below --min-ratio ${facts.minRatio}; ${line}` };
  }
  const straddles = [
    ...(facts.minPpsOutcome === 'inconclusive' ? [`${seedRange} straddles --min-pps ${facts.minPps}`] : []),
    ...(facts.minRatioOutcome === 'inconclusive' ? [`${ratioRange} straddles --min-ratio ${facts.minRatio}`] : []),
  ];
  if (straddles.length > 0) {
    return { status: 'warn', reason: 'THROUGHPUT_INCONCLUSIVE', summary: `inconclusive: ${straddles.join('; ')}; ${line}` };
  }
  return { status: 'pass', reason: null, summary: line };
}

export const throughputProbe: ProbeSpec = {
  id: 'throughput',
  title: 'Loopback throughput: the seed\'s rings against plain syscalls',
  kernel: true,
  dependsOn: ['ring-setup', 'loopback'],
  enabled: (options) => options.bench,
  async run(ctx): Promise<ProbeResult> {
    const spec = throughputProbe;
    const engine = benchEngine();
    const { benchDurationMs, minPps, minRatio, timeoutMs } = ctx.options;
    const { pairsBudgetMs, surveyBudgetMs } = throughputBudgets(timeoutMs);
    const durationMs = Math.max(50, Math.min(benchDurationMs, 1000));
    const pairCount = Math.max(4, Math.round(durationMs / SLICE_MS));
    const sliceMs = Math.max(10, Math.round(durationMs / pairCount));
    const surveyMs = Math.max(30, Math.min(SURVEY_MAX_MS, Math.floor(durationMs / 4)));

    // The two modes alternate slice by slice, in ABBA order, so that what changes on the host during
    // the measurement (other load, CPU frequency, where the hypervisor runs the vCPUs) reaches both
    // alike; the ratio is taken per pair. A failed slice ends the measurement.
    const seedRuns: EngineRun[] = [];
    const sysRuns: EngineRun[] = [];
    const slices: ThroughputSliceFacts[] = [];
    const started = Date.now();
    for (let i = 0; i < pairCount; i++) {
      if (i >= MIN_PAIRS && Date.now() - started > pairsBudgetMs) break;
      const order: Array<'seed' | 'syscall'> = i % 2 === 0 ? ['seed', 'syscall'] : ['syscall', 'seed'];
      const pair: Partial<Record<'seed' | 'syscall', EngineRun>> = {};
      for (const mode of order) pair[mode] = await engine.run({ mode, size: THROUGHPUT_SIZE, durationMs: sliceMs });
      const seedRun = pair.seed!;
      const sysRun = pair.syscall!;
      seedRuns.push(seedRun);
      sysRuns.push(sysRun);
      const a = rxPpsOf(seedRun);
      const b = rxPpsOf(sysRun);
      slices.push({
        seedPps: a === null ? null : Math.round(a),
        syscallPps: b === null ? null : Math.round(b),
        ratio: a !== null && b ? round3(a / b) : null,
      });
      if (a === null || b === null) break;
    }
    const runs = new Map<BenchMode, EngineRun>();
    runs.set('seed', sumRuns(seedRuns));
    runs.set('syscall', sumRuns(sysRuns));
    const outOfTime: BenchMode[] = [];
    for (const mode of SURVEY_MODES) {
      if (Date.now() - started > surveyBudgetMs) outOfTime.push(mode);
      else runs.set(mode, await engine.run({ mode, size: THROUGHPUT_SIZE, durationMs: surveyMs }));
    }

    const perMode: Record<string, ThroughputModeFacts> = {};
    for (const [mode, run] of runs) perMode[mode] = modeFacts(run);
    for (const mode of outOfTime) perMode[mode] = notMeasured(`not run: the seed/syscall pairs took the probe's time budget (${surveyBudgetMs} ms of --timeout ${timeoutMs} ms)`);
    const seed = runs.get('seed')!;
    const sys = runs.get('syscall')!;
    const complete = slices.every((x) => x.ratio !== null);
    const seedRates = slices.map((x) => x.seedPps).filter((x): x is number => x !== null);
    const sysRates = slices.map((x) => x.syscallPps).filter((x): x is number => x !== null);
    const ratios = slices.map((x) => x.ratio).filter((x): x is number => x !== null);
    const seedI = complete ? medianInterval(seedRates) : null;
    const ratioI = complete ? medianInterval(ratios) : null;
    const seedPps = seedI ? Math.round(seedI.median) : null;
    const syscallPps = complete ? Math.round(median(sysRates)) : null;
    const ratio = ratioI ? round3(ratioI.median) : null;

    let best: { mode: BenchMode; pps: number } | null = null;
    for (const [mode, run] of runs) {
      const pps = mode === 'seed' ? seedPps : mode === 'syscall' ? syscallPps : rxPpsOf(run);
      if (pps !== null && pps > 0 && (!best || pps > best.pps)) best = { mode, pps };
    }
    const minPpsOutcome = minPps !== null && seedI ? floorOutcome(seedI.low, seedI.high, minPps) : null;
    const minRatioOutcome = minRatio !== null && ratioI ? floorOutcome(ratioI.low, ratioI.high, minRatio) : null;
    const facts: ThroughputFacts = {
      size: THROUGHPUT_SIZE,
      durationMs: sliceMs * seedRuns.length,
      sliceMs,
      pairs: ratios.length,
      seedPps,
      seedPpsLow: seedI ? Math.round(seedI.low) : null,
      seedPpsHigh: seedI ? Math.round(seedI.high) : null,
      syscallPps,
      ratio,
      ratioLow: ratioI ? round3(ratioI.low) : null,
      ratioHigh: ratioI ? round3(ratioI.high) : null,
      intervalConfidence: ratioI ? ratioI.confidence : null,
      seedLevels: complete ? levelsOf(seedRates).map((l) => ({ pps: Math.round(l.value), slices: l.count })) : [],
      minPpsOutcome,
      minRatioOutcome,
      bestMode: best?.mode ?? null,
      bestPps: best ? Math.round(best.pps) : null,
      minPps,
      minRatio,
      slices,
      timeBoundMs: timeoutMs,
      pairsBudgetMs,
      surveyBudgetMs,
      modes: perMode,
    };

    for (const [mode, run] of [['seed', seed], ['syscall', sys]] as const) {
      if (run.res !== 0 || run.skipped) {
        return probeResult(spec, {
          status: 'fail',
          summary: `the ${mode} run failed: ${runError(run) ?? run.skipped ?? 'no result'}`,
          reason: 'UNKNOWN',
          errno: errnoName(run.res),
          facts,
        });
      }
      if (run.corrupt > 0 || run.received > run.sent || run.received === 0) {
        return probeResult(spec, {
          status: 'fail',
          summary: `the ${mode} run got ${run.received} intact and ${run.corrupt} corrupt datagrams of ${run.sent} sent`,
          reason: 'DATA_MISMATCH',
          facts,
        });
      }
    }
    const confidence = `${Math.round((ratioI?.confidence ?? 0) * 100)}%`;
    const ratioText = `ratio ${ratio?.toFixed(2) ?? '?'}, ${confidence} interval ${ratioI!.low.toFixed(2)}–${ratioI!.high.toFixed(2)} over ${ratios.length} interleaved pairs`;
    const seedLevels = facts.seedLevels ?? [];
    const levels = seedLevels.length === 2 ? `; seed slices at two levels: ${seedLevels.map((l) => `${l.slices}× ${kpps(l.pps)}`).join(', ')}` : '';
    const line = `seed ${kpps(seedPps ?? 0)} pkt/s, syscall ${kpps(syscallPps ?? 0)} pkt/s (${ratioText}) at ${THROUGHPUT_SIZE} B${levels}; best here: ${best?.mode ?? '?'} ${kpps(best?.pps ?? 0)}`;
    const judged = judgeFloors(facts, line);
    return probeResult(spec, { ...judged, facts });
  },
};


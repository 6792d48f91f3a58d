// Probe `throughput`: a short live loopback run of the seed's rings against plain syscalls, the ratio, and the best mode.
import { benchEngine, type BenchMode, type EngineRun } from '../bench/engine.js';
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

/** Facts of the `throughput` probe. */
export type ThroughputFacts = {
  /** datagram size, bytes */
  size: number;
  durationMs: number;
  /** received packets/s through the seed's rings (null: the run failed) */
  seedPps: number | null;
  /** received packets/s with sendmsg/recvmsg */
  syscallPps: number | null;
  /** seedPps / syscallPps, 3 decimals */
  ratio: number | null;
  bestMode: string | null;
  bestPps: number | null;
  minPps: number | null;
  minRatio: number | null;
  modes: Record<string, ThroughputModeFacts>;
};

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

function kpps(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1000)}k`;
}

export const throughputProbe: ProbeSpec = {
  id: 'throughput',
  title: 'Loopback throughput: the seed\'s rings against plain syscalls',
  kernel: true,
  dependsOn: ['ring-setup', 'loopback'],
  timeoutMs: 3000,
  enabled: (options) => options.bench,
  async run(ctx): Promise<ProbeResult> {
    const spec = throughputProbe;
    const engine = benchEngine();
    const { benchDurationMs, minPps, minRatio } = ctx.options;
    const durationMs = Math.max(50, Math.min(benchDurationMs, 1000));
    const surveyMs = Math.max(30, Math.min(SURVEY_MAX_MS, Math.floor(durationMs / 4)));

    const runs = new Map<BenchMode, EngineRun>();
    runs.set('seed', await engine.run({ mode: 'seed', size: THROUGHPUT_SIZE, durationMs }));
    runs.set('syscall', await engine.run({ mode: 'syscall', size: THROUGHPUT_SIZE, durationMs }));
    for (const mode of SURVEY_MODES) runs.set(mode, await engine.run({ mode, size: THROUGHPUT_SIZE, durationMs: surveyMs }));

    const perMode: Record<string, ThroughputModeFacts> = {};
    let best: { mode: BenchMode; pps: number } | null = null;
    for (const [mode, run] of runs) {
      perMode[mode] = modeFacts(run);
      const pps = run.res === 0 && !run.skipped ? derive(run).rxPps : 0;
      if (pps > 0 && (!best || pps > best.pps)) best = { mode, pps };
    }
    const seed = runs.get('seed') as EngineRun;
    const sys = runs.get('syscall') as EngineRun;
    const seedPps = seed.res === 0 ? Math.round(derive(seed).rxPps) : null;
    const syscallPps = sys.res === 0 ? Math.round(derive(sys).rxPps) : null;
    const ratio = seedPps !== null && syscallPps ? Math.round((seedPps / syscallPps) * 1000) / 1000 : null;
    const facts: ThroughputFacts = {
      size: THROUGHPUT_SIZE,
      durationMs,
      seedPps,
      syscallPps,
      ratio,
      bestMode: best?.mode ?? null,
      bestPps: best ? Math.round(best.pps) : null,
      minPps,
      minRatio,
      modes: perMode,
    };

    for (const [mode, run] of [['seed', seed], ['syscall', sys]] as const) {
      if (run.res !== 0) {
        return probeResult(spec, {
          status: 'fail',
          summary: `the ${mode} run failed: ${runError(run) ?? 'no result'}`,
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
    const line = `seed ${kpps(seedPps ?? 0)} pkt/s, syscall ${kpps(syscallPps ?? 0)} pkt/s (ratio ${ratio?.toFixed(2) ?? '?'}) at ${THROUGHPUT_SIZE} B; best here: ${best?.mode ?? '?'} ${kpps(best?.pps ?? 0)}`;
    if (minPps !== null && (seedPps ?? 0) < minPps) {
      return probeResult(spec, {
        status: 'fail',
        summary: `seed received ${kpps(seedPps ?? 0)} pkt/s, below --min-pps ${minPps}; ${line}`,
        reason: 'BELOW_MIN_PPS',
        facts,
      });
    }
    if (minRatio !== null && (ratio ?? 0) < minRatio) {
      return probeResult(spec, {
        status: 'fail',
        summary: `seed/syscall ratio ${ratio?.toFixed(2) ?? '?'} is below --min-ratio ${minRatio}; ${line}`,
        reason: 'BELOW_MIN_RATIO',
        facts,
      });
    }
    return probeResult(spec, { status: 'pass', summary: line, facts });
  },
};

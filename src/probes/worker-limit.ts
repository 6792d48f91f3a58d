// Probe `worker-limit`: did IORING_REGISTER_IOWQ_MAX_WORKERS {4,4} (the seed's call after each ring's setup) succeed on the send ring and on the receive ring?
import type { FactValue, Facts, ProbeResult } from '../types.js';
import { asRecord, asString, factsOf, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

/** Both of the seed's constructors (newIoUringState, newIoUringRecvState) register {4,4} and ignore the result. */
const RINGS = [
  ['send', 'send ring'],
  ['recv', 'receive ring'],
] as const;

/** IORING_REGISTER_IOWQ_MAX_WORKERS on one ring, as ring-setup recorded it. */
export type WorkerLimitRingFacts = {
  /** 'ok' or the errno it was refused with */
  result: string;
  /** [bounded, unbounded] asked for: the seed's {4,4} */
  requested: number[] | null;
  /** the limits the kernel had before (it writes them back) */
  previous: number[] | null;
};

/** Facts of the `worker-limit` probe. */
export type WorkerLimitFacts = {
  send: WorkerLimitRingFacts | null;
  recv: WorkerLimitRingFacts | null;
  /** one outcome for both rings: 'ok' only when both accepted, else the first errno; null when not recorded */
  result: string | null;
};

function numbersOrNull(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
}

export const workerLimitProbe: ProbeSpec = {
  id: 'worker-limit',
  title: 'io-wq worker limit (IOWQ_MAX_WORKERS)',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(ctx): Promise<ProbeResult> {
    const spec = workerLimitProbe;
    const setup = factsOf(ctx.results, 'ring-setup');
    const facts: WorkerLimitFacts = { send: null, recv: null, result: null };
    const missing: string[] = [];
    const refused: Array<{ name: string; errno: string }> = [];
    const previous: string[] = [];
    for (const [key, name] of RINGS) {
      const maxWorkers = asRecord(asRecord(setup[key])?.maxWorkers);
      if (!maxWorkers) {
        missing.push(name);
        facts[key] = null;
        continue;
      }
      const result = asString(maxWorkers.result) ?? 'unknown';
      facts[key] = {
        result,
        requested: numbersOrNull(maxWorkers.requested),
        previous: numbersOrNull(maxWorkers.previous),
      };
      if (result === 'ok') previous.push(`${name} ${Array.isArray(maxWorkers.previous) ? maxWorkers.previous.join('/') : '?'}`);
      else refused.push({ name, errno: result });
    }
    // One outcome for both rings (what the gate reads): 'ok' only when both were accepted.
    facts.result = missing.length > 0 ? null : refused[0]?.errno ?? 'ok';
    if (missing.length > 0) {
      // ring-setup passed but carries no record of the call: we cannot tell, which is not a pass.
      return probeResult(spec, {
        status: 'fail',
        summary: `ring-setup recorded no IOWQ_MAX_WORKERS call on the ${missing.join(' and ')}, so the worker limit could not be checked`,
        reason: 'PROBE_ERROR',
        facts,
      });
    }
    if (refused.length === 0) {
      return probeResult(spec, {
        status: 'pass',
        summary: `io-wq workers limited to 4 bounded / 4 unbounded on both rings (previous limits: ${previous.join(', ')})`,
        facts,
      });
    }
    const first = refused[0]!;
    const which = refused.length === 2 ? 'the send and the receive ring' : `the ${first.name}`;
    const older = first.errno === 'EINVAL' && refused.every((r) => r.errno === 'EINVAL') ? ' (kernel < 5.15)' : '';
    const other = refused.length === 1 ? `; the ${RINGS.find(([, n]) => n !== first.name)![1]} accepted it` : '';
    return probeResult(spec, {
      status: 'warn',
      summary:
        `IOWQ_MAX_WORKERS refused on ${which} with ${refused.map((r) => r.errno).filter((e, i, a) => a.indexOf(e) === i).join('/')}${older}: ` +
        `${refused.length === 2 ? 'their' : 'that ring\'s'} io-wq workers are not limited (the seed ignores this error)${other}`,
      reason: 'NO_WORKER_LIMIT',
      errno: first.errno,
      facts,
    });
  },
};

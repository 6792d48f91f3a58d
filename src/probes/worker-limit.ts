// Probe `worker-limit`: did IORING_REGISTER_IOWQ_MAX_WORKERS {4,4} (the seed's call after setup) succeed on the send ring?
import type { FactValue, Facts, ProbeResult } from '../types.js';
import { asRecord, asString, factsOf, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

export const workerLimitProbe: ProbeSpec = {
  id: 'worker-limit',
  title: 'io-wq worker limit (IOWQ_MAX_WORKERS)',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(ctx): Promise<ProbeResult> {
    const spec = workerLimitProbe;
    const send = asRecord(factsOf(ctx.results, 'ring-setup').send);
    const maxWorkers = asRecord(send?.maxWorkers);
    if (!maxWorkers) {
      // ring-setup passed but carries no record of the call: we cannot tell, which is not a pass.
      return probeResult(spec, {
        status: 'fail',
        summary: 'ring-setup recorded no IOWQ_MAX_WORKERS call, so the worker limit could not be checked',
        reason: 'PROBE_ERROR',
        facts: {},
      });
    }
    const result = asString(maxWorkers.result) ?? 'unknown';
    const facts: Facts = {
      ring: 'send',
      requested: (maxWorkers.requested ?? null) as FactValue,
      previous: (maxWorkers.previous ?? null) as FactValue,
      result,
    };
    if (result === 'ok') {
      const prev = Array.isArray(maxWorkers.previous) ? maxWorkers.previous.join('/') : '?';
      return probeResult(spec, {
        status: 'pass',
        summary: `io-wq workers limited to 4 bounded / 4 unbounded (previous limits ${prev})`,
        facts,
      });
    }
    if (result === 'EINVAL') {
      return probeResult(spec, {
        status: 'warn',
        summary: 'IOWQ_MAX_WORKERS refused with EINVAL: kernel < 5.15, io-wq workers are unbounded',
        reason: 'NO_WORKER_LIMIT',
        errno: 'EINVAL',
        facts,
      });
    }
    return probeResult(spec, {
      status: 'warn',
      summary: `IOWQ_MAX_WORKERS refused with ${result}: io-wq workers are unbounded (the seed ignores this error)`,
      reason: 'NO_WORKER_LIMIT',
      errno: result,
      facts,
    });
  },
};

// Tests of the `throughput` probe: it yields seed/syscall facts, gates on --min-pps / --min-ratio, and --no-bench drops it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throughputProbe } from '../src/probes/throughput.js';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../src/probes/spec.js';
import type { ProbeResult } from '../src/types.js';

async function runProbe(over: Partial<CheckOptions>): Promise<ProbeResult> {
  const options: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, benchDurationMs: 150, ...over };
  return throughputProbe.run({ options, results: new Map() });
}

describe('throughput probe', () => {
  it('measures the seed and the syscall baseline and names the best mode', async () => {
    const r = await runProbe({});
    assert.equal(r.status, 'pass', r.summary);
    assert.equal(r.reason, null);
    const f = r.facts;
    assert.ok(typeof f.seedPps === 'number' && f.seedPps > 0);
    assert.ok(typeof f.syscallPps === 'number' && f.syscallPps > 0);
    assert.ok(typeof f.ratio === 'number' && Math.abs(f.ratio - f.seedPps / f.syscallPps) < 0.01);
    assert.ok(typeof f.bestMode === 'string');
    const modes = f.modes as Record<string, Record<string, unknown>>;
    for (const m of ['seed', 'syscall', 'seed-batch', 'mmsg', 'multishot', 'gso']) assert.ok(modes[m], `facts for ${m}`);
    assert.equal(modes.seed?.corrupt, 0);
  });

  it('--min-ratio 1000 makes it fail with BELOW_MIN_RATIO', async () => {
    const r = await runProbe({ minRatio: 1000 });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'BELOW_MIN_RATIO');
    assert.ok(r.remediation);
  });

  it('--min-pps above any loopback rate makes it fail with BELOW_MIN_PPS', async () => {
    const r = await runProbe({ minPps: 1e12 });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'BELOW_MIN_PPS');
  });

  it('is left out with --no-bench and runs as a kernel probe within about three seconds', () => {
    assert.equal(throughputProbe.enabled?.({ ...DEFAULT_CHECK_OPTIONS, bench: false }), false);
    assert.equal(throughputProbe.enabled?.(DEFAULT_CHECK_OPTIONS), true);
    assert.equal(throughputProbe.kernel, true);
    assert.ok((throughputProbe.timeoutMs ?? 0) <= 3000);
  });
});

// Tests of the `throughput` probe: interleaved seed/syscall slices, the ratio with its interval,
// the floors (--min-pps / --min-ratio: below, inconclusive, pass), and --no-bench dropping it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { levelsOf, median, medianInterval } from '../src/bench/interval.js';
import { floorOutcome, judgeFloors, throughputBudgets, throughputProbe, type ThroughputFacts } from '../src/probes/throughput.js';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../src/probes/spec.js';
import type { ProbeResult, Report } from '../src/types.js';
import { runCli } from './helpers/launcher.js';

async function runProbe(over: Partial<CheckOptions>): Promise<ProbeResult> {
  const options: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, benchDurationMs: 200, ...over };
  return throughputProbe.run({ options, results: new Map() });
}

describe('interval statistics', () => {
  it('median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('the order-statistic interval of the median has the binomial coverage', () => {
    const twelve = [12, 1, 11, 2, 10, 3, 9, 4, 8, 5, 7, 6];
    const i = medianInterval(twelve);
    // n = 12: [x(3), x(10)] covers with 1 - 2 P(Bin(12, 1/2) <= 2) = 0.961; [x(4), x(9)] only 0.854
    assert.deepEqual([i.low, i.high, i.confidence, i.median], [3, 10, 0.961, 6.5]);
    // n = 5: no interval reaches 95%; [min, max] covers 1 - 2/32 = 0.9375
    assert.deepEqual(medianInterval([5, 4, 3, 2, 1]), { median: 3, low: 1, high: 5, confidence: 0.938 });
    const one = medianInterval([7]);
    assert.deepEqual([one.low, one.high], [7, 7]);
  });

  it('levels: one level for a spread, two for values in two clusters', () => {
    assert.equal(levelsOf([200, 205, 210, 198, 202, 207]).length, 1);
    const two = levelsOf([160, 162, 165, 215, 218, 220, 221]);
    assert.deepEqual(two, [{ value: 162, count: 3 }, { value: 219, count: 4 }]);
    // a lone outlier is not a level of its own
    assert.equal(levelsOf([100, 101, 102, 103, 150]).length, 1);
  });

  it('floorOutcome: below only when the whole interval is under the floor', () => {
    assert.equal(floorOutcome(0.8, 0.9, 0.7), 'pass');
    assert.equal(floorOutcome(0.8, 0.9, 0.8), 'pass');
    assert.equal(floorOutcome(0.8, 0.9, 0.85), 'inconclusive');
    assert.equal(floorOutcome(0.8, 0.9, 0.9), 'inconclusive');
    assert.equal(floorOutcome(0.8, 0.9, 0.95), 'below');
  });
});

describe('throughput probe', () => {
  it('measures the seed and the syscall baseline in interleaved pairs and names the best mode', async () => {
    const r = await runProbe({});
    assert.equal(r.status, 'pass', r.summary);
    assert.equal(r.reason, null);
    const f = r.facts as unknown as Required<ThroughputFacts>;
    assert.ok(typeof f.seedPps === 'number' && f.seedPps > 0);
    assert.ok(typeof f.syscallPps === 'number' && f.syscallPps > 0);
    assert.equal(f.pairs, 4, '200 ms in 50 ms slices');
    assert.equal(f.slices.length, f.pairs);
    for (const s of f.slices) {
      assert.ok(s.seedPps! > 0 && s.syscallPps! > 0);
      assert.ok(Math.abs(s.ratio! - s.seedPps! / s.syscallPps!) < 0.002, 'each pair has its own ratio');
    }
    // the ratio is the median of the pairs' ratios and lies inside its interval
    assert.equal(f.ratio, Math.round(median(f.slices.map((s) => s.ratio!)) * 1000) / 1000);
    assert.ok(f.ratioLow! <= f.ratio! && f.ratio! <= f.ratioHigh!, `${f.ratioLow} <= ${f.ratio} <= ${f.ratioHigh}`);
    assert.ok(f.seedPpsLow! <= f.seedPps! && f.seedPps! <= f.seedPpsHigh!);
    assert.ok(f.intervalConfidence! > 0 && f.intervalConfidence! < 1);
    assert.ok(f.seedLevels.length === 1 || f.seedLevels.length === 2);
    assert.equal(f.seedLevels.reduce((n, l) => n + l.slices, 0), f.pairs);
    assert.match(r.summary, /ratio \d\.\d\d, \d+% interval \d\.\d\d–\d\.\d\d over 4 interleaved pairs/);
    // the seed and syscall mode facts add up their slices
    const modes = f.modes;
    for (const m of ['seed', 'syscall', 'seed-batch', 'mmsg', 'multishot', 'gso']) assert.ok(modes[m], `facts for ${m}`);
    assert.equal(modes.seed?.corrupt, 0);
    assert.ok(modes.seed!.received >= f.slices.length, 'every slice received');
    assert.equal(f.minRatioOutcome, null);
    assert.equal(f.minPpsOutcome, null);
    assert.ok(typeof f.bestMode === 'string');
  });

  it('--min-ratio 1000 makes it fail with BELOW_MIN_RATIO, naming the interval', async () => {
    const r = await runProbe({ minRatio: 1000 });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'BELOW_MIN_RATIO');
    assert.equal((r.facts as unknown as ThroughputFacts).minRatioOutcome, 'below');
    assert.match(r.summary, /interval .* is below --min-ratio 1000/);
    assert.ok(r.remediation);
  });

  it('--min-pps above any loopback rate makes it fail with BELOW_MIN_PPS', async () => {
    const r = await runProbe({ minPps: 1e12 });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'BELOW_MIN_PPS');
  });

  it('judgeFloors: below the interval fails, inside it warns THROUGHPUT_INCONCLUSIVE, above it passes', () => {
    const base = { seedPps: 200000, seedPpsLow: 180000, seedPpsHigh: 220000, ratio: 0.9, ratioLow: 0.85, ratioHigh: 0.95, intervalConfidence: 0.961 };
    const facts = (over: Partial<ThroughputFacts>): ThroughputFacts => ({ ...base, ...over }) as unknown as ThroughputFacts;
    const below = judgeFloors(facts({ minPps: 250000, minPpsOutcome: 'below' }), 'LINE');
    assert.deepEqual([below.status, below.reason], ['fail', 'BELOW_MIN_PPS']);
    assert.match(below.summary, /^seed 200k pkt\/s \(96% interval 180k–220k\) is below --min-pps 250000; LINE$/);
    const ratio = judgeFloors(facts({ minRatio: 0.97, minRatioOutcome: 'below' }), 'LINE');
    assert.deepEqual([ratio.status, ratio.reason], ['fail', 'BELOW_MIN_RATIO']);
    const inside = judgeFloors(facts({ minPps: 210000, minPpsOutcome: 'inconclusive', minRatio: 0.9, minRatioOutcome: 'inconclusive' }), 'LINE');
    assert.deepEqual([inside.status, inside.reason], ['warn', 'THROUGHPUT_INCONCLUSIVE']);
    assert.match(inside.summary, /^inconclusive: seed .* straddles --min-pps 210000; seed\/syscall ratio 0\.90 \(96% interval 0\.85–0\.95\) straddles --min-ratio 0\.9; LINE$/);
    const met = judgeFloors(facts({ minPps: 100000, minPpsOutcome: 'pass' }), 'LINE');
    assert.deepEqual([met.status, met.reason, met.summary], ['pass', null, 'LINE']);
  });

  it('a live floor at the host\'s own figure: the outcome in the facts is the interval\'s, and the status follows it', async () => {
    const first = (await runProbe({})).facts as unknown as ThroughputFacts;
    const floor = first.seedPps!;
    const probe = await runProbe({ minPps: floor });
    const f = probe.facts as unknown as Required<ThroughputFacts>;
    assert.equal(f.minPpsOutcome, floorOutcome(f.seedPpsLow!, f.seedPpsHigh!, floor));
    const expected = { pass: ['pass', null], below: ['fail', 'BELOW_MIN_PPS'], inconclusive: ['warn', 'THROUGHPUT_INCONCLUSIVE'] }[f.minPpsOutcome];
    assert.deepEqual([probe.status, probe.reason], expected, probe.summary);
    if (probe.status === 'warn') assert.ok(probe.remediation?.includes('--strict'));
  });

  it('is left out with --no-bench; its time bound is --timeout, like every kernel probe', () => {
    assert.equal(throughputProbe.enabled?.({ ...DEFAULT_CHECK_OPTIONS, bench: false }), false);
    assert.equal(throughputProbe.enabled?.(DEFAULT_CHECK_OPTIONS), true);
    assert.equal(throughputProbe.kernel, true);
    // no bound of its own (it was a fixed 3000 ms, which --timeout did not change)
    assert.equal(throughputProbe.timeoutMs, undefined);
    assert.deepEqual(throughputBudgets(DEFAULT_CHECK_OPTIONS.timeoutMs), { pairsBudgetMs: 1900, surveyBudgetMs: 2500 });
    assert.deepEqual(throughputBudgets(1000), { pairsBudgetMs: 380, surveyBudgetMs: 500 });
    assert.deepEqual(throughputBudgets(600_000), { pairsBudgetMs: 1900, surveyBudgetMs: 2500 });
  });

  it('a smaller --timeout shortens the measurement to fit (at least 4 pairs), and says which bound it had', async () => {
    const r = await runProbe({ timeoutMs: 1000 });
    const f = r.facts as unknown as Required<ThroughputFacts>;
    assert.equal(r.status, 'pass', r.summary);
    assert.deepEqual([f.timeBoundMs, f.pairsBudgetMs, f.surveyBudgetMs], [1000, 380, 500]);
    assert.ok(f.pairs >= 4, `pairs ${f.pairs}`);
    for (const [mode, m] of Object.entries(f.modes)) {
      if (m.skipped?.startsWith('not run: the seed/syscall pairs')) assert.match(m.skipped, /500 ms of --timeout 1000 ms/, mode);
    }
  });

  it('through the CLI: check --timeout bounds the throughput probe (the child is armed with it and the facts carry it)', () => {
    const run = runCli(['check', '--json', '--timeout', '1500'], { timeoutMs: 60_000 });
    const report = JSON.parse(run.stdout) as Report;
    const probe = report.probes.find((p) => p.id === 'throughput')!;
    const f = probe.facts as unknown as ThroughputFacts & { timeoutMs?: number };
    // either it finished inside 1500 ms with budgets taken from it, or the runner killed it at 1500 ms
    if (probe.reason === 'PROBE_TIMEOUT') assert.equal(f.timeoutMs, 1500);
    else assert.deepEqual([probe.status, f.timeBoundMs, f.pairsBudgetMs, f.surveyBudgetMs], ['pass', 1500, 570, 750], probe.summary);
  });
});

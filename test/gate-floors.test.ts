// Throughput floors at the gate: below the measured interval is unmet, inside it is inconclusive
// (degraded; unmet only with --strict), and a report from before the intervals gates on its figure.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { applyGate, evaluateGate, EMPTY_POLICY } from '../src/gate/evaluate.js';
import { readReportFile } from '../src/reader.js';
import type { Report } from '../src/types.js';
import { runCli } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';

function compatibleReport(): Report {
  const read = readReportFile(join(ROOT, 'fixtures', 'reports', '6.18-compatible.json'));
  if (!read.ok) throw new Error(read.message);
  return read.report;
}

/** The fixture with an interleaved measurement: ratio 0.88 (0.84-0.92), seed 220k (200k-230k). */
function withIntervals(): Report {
  const report = compatibleReport();
  const t = report.probes.find((p) => p.id === 'throughput')!;
  Object.assign(t.facts, { seedPps: 220000, seedPpsLow: 200000, seedPpsHigh: 230000, syscallPps: 250000, ratio: 0.88, ratioLow: 0.84, ratioHigh: 0.92 });
  return report;
}

const gate = (report: Report, over: Partial<typeof EMPTY_POLICY>) => {
  const outcome = evaluateGate(report, { ...EMPTY_POLICY, ...over });
  return { outcome, gated: applyGate(report, outcome) };
};

describe('throughput floors against the measured interval', () => {
  it('a floor under the whole interval is met; the verdict stays', () => {
    const { outcome, gated } = gate(withIntervals(), { minRatio: 0.8, minPps: 150000 });
    assert.deepEqual(outcome.unmet, []);
    assert.deepEqual(outcome.inconclusive, []);
    assert.equal(gated.verdict, 'compatible');
    assert.equal(gated.exitCode, 0);
  });

  it('a floor above the whole interval is unmet, naming the interval', () => {
    const { outcome, gated } = gate(withIntervals(), { minRatio: 0.95 });
    assert.equal(outcome.passed, false);
    assert.equal(outcome.unmet[0]?.requirement, 'min-ratio 0.95');
    assert.match(outcome.unmet[0]!.have, /ratio 0\.88 \(seed 220,000 pkt\/s, syscall 250,000 pkt\/s, interval 0\.84 to 0\.92\)/);
    assert.equal(gated.exitCode, 2);
  });

  it('a floor inside the interval is inconclusive: degraded (exit 1), and unmet only with --strict', () => {
    const lenient = gate(withIntervals(), { minRatio: 0.9, minPps: 210000 });
    assert.equal(lenient.outcome.passed, true);
    assert.deepEqual(lenient.outcome.inconclusive?.map((u) => u.requirement), ['min-pps 210000', 'min-ratio 0.9']);
    assert.match(lenient.outcome.inconclusive![0]!.have, /interval 200,000 pkt\/s to 230,000 pkt\/s\): inconclusive$/);
    assert.equal(lenient.gated.verdict, 'degraded');
    assert.equal(lenient.gated.exitCode, 1);

    const strict = gate(withIntervals(), { minRatio: 0.9, strict: true });
    assert.equal(strict.outcome.passed, false);
    assert.deepEqual(strict.outcome.unmet.map((u) => u.requirement), ['min-ratio 0.9']);
    assert.equal(strict.gated.exitCode, 2);
  });

  it('a report from before the intervals gates on its single figure (no inconclusive)', () => {
    const old = compatibleReport(); // ratio 0.882, no ratioLow/ratioHigh
    assert.deepEqual(gate(old, { minRatio: 0.88 }).outcome.unmet, []);
    const below = gate(old, { minRatio: 0.89 });
    assert.deepEqual(below.outcome.unmet.map((u) => u.requirement), ['min-ratio 0.89']);
    assert.deepEqual(below.outcome.inconclusive, []);
  });

  describe('uring-probe gate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uring-probe-floors-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(withIntervals()));

    it('says inconclusive and exits 1; --strict exits 2; the JSON carries gate.inconclusive', () => {
      const human = runCli(['gate', '--min-ratio', '0.9', file]);
      assert.equal(human.status, 1, human.stderr);
      assert.match(human.stdout, /inconclusive +min-ratio 0\.9: have seed\/syscall ratio 0\.88 .*: inconclusive \(unmet only with --strict\)/);
      assert.match(human.stdout, /GATE PASSED: verdict degraded, exit 1/);

      const strict = runCli(['gate', '--min-ratio', '0.9', '--strict', file]);
      assert.equal(strict.status, 2, strict.stderr);
      assert.match(strict.stdout, /unmet +min-ratio 0\.9/);

      const json = runCli(['gate', '--json', '--min-ratio', '0.9', file]);
      assert.equal(json.status, 1, json.stderr);
      const doc = JSON.parse(json.stdout) as Report;
      assert.equal(doc.gate?.inconclusive?.[0]?.requirement, 'min-ratio 0.9');
      assert.equal(doc.verdict, 'degraded');
    });
  });
});

// The bench table: a case that failed in one repeat but has figures from the others is named with
// its error (the command exits 1 for it), not only in --json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLAN, runBench } from '../../src/bench/runner.js';
import { renderBenchHuman } from '../../src/report/bench-human.js';

test('a case with figures and an error from a failed repeat is said under the table', async () => {
  const result = await runBench({ ...DEFAULT_PLAN, modes: ['syscall'], sizes: [64], durationMs: 50, repeat: 1, compareFlags: false, pingPong: false });
  const syscall = result.cases.find((c) => c.label === 'syscall')!;
  assert.ok(syscall.figures, 'the syscall mode measured');
  assert.equal(syscall.error, null);
  assert.doesNotMatch(renderBenchHuman(result, { color: false }), /a repeat failed/);
  syscall.error = 'recvmmsg: EAGAIN';
  assert.match(renderBenchHuman(result, { color: false }), /^syscall at 64 B: a repeat failed: recvmmsg: EAGAIN \(the figures are from the repeats that ran\)$/m);
});

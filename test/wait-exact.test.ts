// Issue 12, point 3: the ring-access layer's SubmitAndWait is exact where the kernel's bounded
// io_uring_enter is not. Through the real kernel, via the test-only waitExactScenario:
// - a NOP and a RECVMSG on a socket with no data, then a wait for both: the enter returns the
//   submit count with one CQE ready (with EXT_ARG: the kernel reports to_submit in place of the
//   wait's ETIME; with the poll() fallback of kernels < 5.11: poll wakes on the first CQE). That is
//   what a caller got before the layer. SubmitAndWait must say -ETIME with the one CQE ready.
// - a wait for 100 CQEs on a ring whose CQ holds 16, all 16 posted: SubmitAndWait clamps the
//   count to the CQ size and returns 16 (kernels that do not clamp would run to the deadline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../src/native.js';

const ETIME = -62;

interface WaitResult {
  stage: string;
  res: number;
  raw?: { res: number; ready: number };
  layer?: { res: number; ready: number };
}
type ScenarioAddon = { waitExactScenario?: (o: { mode: string; forcePoll: boolean; timeoutMs: number }) => WaitResult };

const addon = loadAddon() as unknown as ScenarioAddon;
const missing = typeof addon.waitExactScenario !== 'function' ? 'the addon has no waitExactScenario (rebuild it)' : false;

for (const forcePoll of [false, true]) {
  const how = forcePoll ? 'the poll() fallback' : 'the EXT_ARG wait';
  test(`SubmitAndWait(2) with one CQE that never comes: -ETIME, not the submit count (${how})`, { skip: missing }, (t) => {
    const r = addon.waitExactScenario!({ mode: 'waitnr', forcePoll, timeoutMs: 150 });
    if (r.stage === 'ring') return t.skip(`io_uring is not usable here (${r.res})`);
    assert.equal(r.stage, 'done', JSON.stringify(r));
    t.diagnostic(`raw bounded enter: res ${r.raw!.res} with ${r.raw!.ready} CQE ready; layer: res ${r.layer!.res}`);
    assert.equal(r.layer!.ready, 1, `the NOP's CQE is there: ${JSON.stringify(r)}`);
    assert.equal(r.layer!.res, ETIME, `the wait for 2 ran out: ${JSON.stringify(r)}`);
  });
}

test('SubmitAndWait clamps the wait count to the CQ size', { skip: missing }, (t) => {
  const r = addon.waitExactScenario!({ mode: 'clamp', forcePoll: false, timeoutMs: 2000 });
  if (r.stage === 'ring') return t.skip(`io_uring is not usable here (${r.res})`);
  assert.equal(r.stage, 'done', JSON.stringify(r));
  t.diagnostic(`raw bounded enter: res ${r.raw!.res} with ${r.raw!.ready} ready; layer: res ${r.layer!.res}`);
  assert.equal(r.layer!.ready, 16, JSON.stringify(r));
  assert.equal(r.layer!.res, 16, `every CQE the ring holds is there, so the wait is met: ${JSON.stringify(r)}`);
});

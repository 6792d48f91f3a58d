// Issue 12, point 5: receives given up while still in flight are cancelled with ASYNC_CANCEL, and
// their buffers may be freed only after the kernel posted each cancelled request's CQE. Through the
// real kernel: receives pending on a UDP socket with no data (plain, and IOSQE_ASYNC so they are
// issued from io-wq), the RecvRing closed (or a SendRing Recvmsg timed out, then closed), then a
// datagram sent to that socket. The child must exit cleanly and the cancel report must show every
// cancelled request awaited before the memory went (or, past the bound, the memory leaked).
// With URING_PROBE_ADDON=/path the scenario runs with that addon (e.g. the ASan build, with
// libasan in LD_PRELOAD as scripts/test-sanitize.sh sets it up).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';

const ADDON = process.env.URING_PROBE_ADDON || join(ROOT, 'build', 'Release', 'uring_probe.node');
const ETIME = -62;

interface CancelReport {
  targets: number;
  cancelsSubmitted: number;
  cancelsFailed: number;
  cancelCqes: number;
  awaited: number;
  outstanding: number;
  freed: boolean;
  leaked: boolean;
  elapsedMs: number;
}
interface Scenario {
  res: number;
  stage: string;
  queued?: number;
  inFlightBeforeClose?: number;
  recvmsgRes?: number;
  abort?: CancelReport;
  close?: CancelReport;
  sendAfterClose?: number;
  totals?: { cancelsSubmitted: number; awaited: number; outstanding: number; leaks: number };
}

const CHILD = `
const addon = require(process.argv[1]);
const r = addon.cancelAwaitScenario(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(r));
`;

function run(options: Record<string, unknown>): { status: number | null; signal: string | null; out: Scenario; stderr: string } {
  const child = spawnSync(process.execPath, ['-e', CHILD, ADDON, JSON.stringify(options)], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  let out: Scenario = { res: -1, stage: 'no-output' };
  try {
    out = JSON.parse(child.stdout) as Scenario;
  } catch {
    /* reported through status below */
  }
  return { status: child.status, signal: child.signal, out, stderr: child.stderr };
}

function skipReason(): string | false {
  if (!existsSync(ADDON)) return `${ADDON} is not built`;
  const addon = createRequire(import.meta.url)(ADDON) as { cancelAwaitScenario?: unknown };
  if (typeof addon.cancelAwaitScenario !== 'function') return 'the addon has no cancelAwaitScenario (rebuild it)';
  const probe = run({ poolSize: 1, settleMs: 0 });
  if (probe.out.stage === 'recv-ring' || probe.out.stage === 'send-ring') {
    return `io_uring is not usable here (${probe.out.stage}: ${probe.out.res})`;
  }
  return false;
}

const skip = skipReason();

function assertAwaited(c: CancelReport | undefined, targets: number, what: string): void {
  assert.ok(c, `${what}: no cancel report`);
  assert.equal(c.targets, targets, `${what}: requests in flight`);
  assert.equal(c.cancelsSubmitted, targets, `${what}: one ASYNC_CANCEL per request`);
  assert.equal(c.awaited, targets, `${what}: every cancelled request's CQE awaited (${JSON.stringify(c)})`);
  assert.equal(c.outstanding, 0, `${what}: nothing left in flight`);
  assert.equal(c.freed, true, `${what}: buffers freed after the CQEs`);
  assert.equal(c.leaked, false, `${what}: nothing leaked`);
}

describe('cancels are awaited before buffers are freed', { skip }, () => {
  for (const forceAsync of [false, true]) {
    test(`RecvRing.Close with ${forceAsync ? 'IOSQE_ASYNC (io-wq) ' : ''}receives pending`, () => {
      const r = run({ poolSize: 4, forceAsync, settleMs: 50 });
      assert.equal(r.signal, null, `child died: ${r.stderr}`);
      assert.equal(r.status, 0, `child failed: ${r.stderr}`);
      assert.equal(r.out.stage, 'done', JSON.stringify(r.out));
      assert.equal(r.out.queued, 4);
      assert.equal(r.out.inFlightBeforeClose, 4);
      assertAwaited(r.out.close, 4, 'close');
      assert.ok((r.out.sendAfterClose ?? -1) > 0, 'the datagram after the close was sent');
      assert.equal(r.out.totals?.leaks, 0);
    });
  }

  test('SendRing: a timed-out Recvmsg is cancelled and awaited (abortPending), then Close', () => {
    const r = run({ sendRing: true, timeoutMs: 100, settleMs: 20 });
    assert.equal(r.signal, null, `child died: ${r.stderr}`);
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    assert.equal(r.out.stage, 'done', JSON.stringify(r.out));
    assert.equal(r.out.recvmsgRes, ETIME);
    assertAwaited(r.out.abort, 1, 'abortPending');
    // Nothing is left for Close to cancel: the aborted receive's CQE already came.
    assert.equal(r.out.close?.targets, 0, JSON.stringify(r.out.close));
    assert.equal(r.out.close?.leaked, false);
    assert.ok((r.out.sendAfterClose ?? -1) > 0);
  });
});

// Issue 12, point 5, for the multishot RECVMSG probe (native/probes/opcodes.cc, MultishotRecvmsg): the
// probe's multishot request stays armed after the datagrams are in, so the probe cancels it with
// IORING_OP_ASYNC_CANCEL before unmapping the provided buffers. The seed-era probe submitted the
// cancel and unmapped right away; where the receive sits in io-wq (or its -ECANCELED completion is
// still queued as task work) the kernel could then write into unmapped memory. Now the probe waits,
// bounded by 1 s, for the request's final CQE (no IORING_CQE_F_MORE) and reports it; past the
// bound it leaks the buffers on purpose (cancel.leaked). Through the real kernel, no mocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon, type MultishotResult } from '../src/native.js';
import { requireMultishotRecvmsg } from './helpers/require.js';

const ECANCELED = -125;

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
type Awaited = MultishotResult & { terminated?: boolean; finalRes?: number; cancel?: CancelReport };

const addon = loadAddon();

test('multishotRecvmsg cancels its armed request and reaps the request\'s final -ECANCELED CQE before the buffers go (nothing leaked)', async (t) => {
  if (!(await requireMultishotRecvmsg(t))) return;
  // A few runs: each one arms, cancels and awaits on a ring of its own.
  for (let i = 0; i < 8; i++) {
    const r = (await addon.multishotRecvmsg({ timeoutMs: 2000 })) as Awaited;
    const what = `run ${i}: ${JSON.stringify(r)}`;
    assert.equal(r.res, 0, what);
    assert.equal(r.stage, 'done', what);
    assert.ok('terminated' in r && 'cancel' in r, `the probe reports how its request ended (${what})`);
    assert.equal(r.terminated, true, `the request's final CQE (without IORING_CQE_F_MORE) was reaped: ${what}`);
    assert.equal(r.finalRes, ECANCELED, `the request ended through the cancel: ${what}`);
    const c = r.cancel!;
    assert.equal(c.targets, 1, what);
    assert.equal(c.cancelsSubmitted, 1, `one ASYNC_CANCEL taken by the kernel: ${what}`);
    assert.equal(c.cancelsFailed, 0, what);
    assert.equal(c.cancelCqes, 1, `the cancel's own CQE reaped too: ${what}`);
    assert.equal(c.awaited, 1, what);
    assert.equal(c.outstanding, 0, what);
    assert.equal(c.leaked, false, `the buffers were not leaked: ${what}`);
    assert.equal(c.freed, true, `the buffers were unmapped after the final CQE: ${what}`);
  }
});

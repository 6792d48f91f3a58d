// SQPOLL rings must wake the kernel's SQ thread (issue 12, point 4). After sq_thread_idle ms
// (1000 by default) without work the thread sleeps and sets IORING_SQ_NEED_WAKEUP; a submitter
// that never passes IORING_ENTER_SQ_WAKEUP leaves its SQEs in the ring and every operation times
// out. (On 6.18 a fresh SQPOLL ring's thread already sleeps before its first SQE: its idle timer
// only starts with work.) Real kernel, real rings: the send and receive rings over UDP loopback,
// used again after an idle pause longer than sq_thread_idle; and the bench engine with SQPOLL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitOf, SETUP_FLAGS } from '../src/kernel-abi.js';
import { loadAddon } from '../src/native.js';
import { requireSetupFlag } from './helpers/require.js';

const SQPOLL = bitOf(SETUP_FLAGS, 'SQPOLL')!;
const PAYLOAD = 64;

interface Step {
  op: 'fill' | 'send' | 'recv' | 'batch' | 'idle';
  res: number;
  seq: number;
}
interface Scenario {
  res: number;
  stage: string;
  sendRingFlags?: number;
  recvRingFlags?: number;
  steps: Step[];
  sentOk: number[];
  received: number[];
  unknownCompletions: number;
}
interface ScenarioAddon {
  ringFaultScenario?: (options: Record<string, number>) => Scenario;
}
interface BenchAddon {
  bench: { run(options: Record<string, unknown>): Promise<Record<string, unknown>> } | null;
}

test('send and receive rings with SQPOLL work before and after an idle pause longer than sq_thread_idle', async (t) => {
  if (!(await requireSetupFlag(t, 'SQPOLL'))) return;
  const addon = loadAddon() as unknown as ScenarioAddon;
  if (typeof addon.ringFaultScenario !== 'function') return t.skip('the addon has no ringFaultScenario (rebuild it)');
  const t0 = Date.now();
  // Synchronous on this thread: 2 x (send, receive), 1.5 s idle, 3 x (send, receive); each wait is
  // bounded by timeoutMs.
  const r = addon.ringFaultScenario({ ringFlags: SQPOLL, singles: 2, idleMs: 1500, after: 3, timeoutMs: 1000 });
  const ms = Date.now() - t0;
  const dump = JSON.stringify(r);
  assert.equal(r.res, 0, `setup failed at ${r.stage}: ${dump}`);
  assert.equal((r.sendRingFlags! & SQPOLL) >>> 0, SQPOLL, `the send ring is not SQPOLL: ${dump}`);
  assert.equal((r.recvRingFlags! & SQPOLL) >>> 0, SQPOLL, `the receive ring is not SQPOLL: ${dump}`);
  const idleAt = r.steps.findIndex((s) => s.op === 'idle');
  assert.ok(idleAt > 0, `no idle step: ${dump}`);
  for (const [i, s] of r.steps.entries()) {
    const when = i < idleAt ? 'before the idle pause' : 'after the idle pause';
    if (s.op === 'send') assert.equal(s.res, PAYLOAD, `send #${s.seq} ${when} (-11 EAGAIN / -62 ETIME: SQE never taken, SQ thread asleep): ${dump}`);
    if (s.op === 'recv') assert.equal(s.res, 1, `receive ${when}: ${s.res} (-62 ETIME: nothing arrived): ${dump}`);
  }
  assert.deepEqual(r.sentOk, [0, 1, 2, 3, 4], dump);
  assert.deepEqual(r.received, [0, 1, 2, 3, 4], dump);
  assert.equal(r.unknownCompletions, 0, dump);
  t.diagnostic(`scenario took ${ms} ms (idle pause 1500 ms)`);
});

test('bench engine: seed mode with ringFlags SQPOLL delivers after the receiver stalled past sq_thread_idle', async (t) => {
  if (!(await requireSetupFlag(t, 'SQPOLL'))) return;
  const { bench } = loadAddon() as unknown as BenchAddon;
  if (!bench) return t.skip('the addon was built without the bench engine');
  // The receiver sets up its SQPOLL ring, then sleeps 1.2 s (past sq_thread_idle) before it queues
  // its first receives; the sender's SQPOLL ring sends for 200 ms meanwhile, into the socket buffer.
  const r = await bench.run({ mode: 'seed', durationMs: 200, ringFlags: SQPOLL, stallMs: 1200, depth: 64, pin: false });
  const dump = JSON.stringify(r);
  assert.equal(r.res, 0, dump);
  assert.equal(((r.sendRingFlags as number) & SQPOLL) >>> 0, SQPOLL, `send ring without SQPOLL: ${dump}`);
  assert.equal(((r.recvRingFlags as number) & SQPOLL) >>> 0, SQPOLL, `receive ring without SQPOLL: ${dump}`);
  // Before the fix no SQE was ever taken: every Sendmsg ran out its wait (-EAGAIN, sent 0) and no
  // receive completed. (sendErrors is not asserted 0: under CPU contention a Sendmsg can still
  // report -EAGAIN when its CQE is seen before the SQ thread commits the SQ head; see the report.)
  assert.ok((r.sent as number) > 0, `nothing sent (sendErrno ${r.sendErrno}): ${dump}`);
  assert.ok((r.received as number) > 0, `nothing received: ${dump}`);
  assert.equal(r.corrupt, 0, dump);
});

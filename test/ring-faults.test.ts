// The send and receive rings after the kernel refuses one io_uring_enter (strace injects the errno
// into the real syscall) and with batches larger than the ring: later calls must recover, and no
// datagram may be stranded, sent late or twice.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { missingCommand, skipReason } from './helpers/require.js';

// URING_PROBE_ADDON=/path: the scenarios run with that addon (the sanitizer build, an older commit).
const ADDON = process.env.URING_PROBE_ADDON || join(ROOT, 'build', 'Release', 'uring_probe.node');
const ETIME = -62;
const EAGAIN = -11;

interface Step {
  op: 'fill' | 'send' | 'recv' | 'batch';
  res: number;
  seq: number;
  ok?: number;
  count?: number;
}
interface Scenario {
  res: number;
  stage: string;
  sendEntries?: number;
  steps: Step[];
  sentOk: number[];
  received: number[];
  ms: number;
}
interface ScenarioOptions {
  sendEntries?: number;
  poolSize?: number;
  singles?: number;
  batch?: number;
  batches?: number;
  after?: number;
  timeoutMs?: number;
}

// Runs in a child: the test-only addon entry point, synchronously on the main thread, so the
// N-th io_uring_enter of the process is a known step.
const CHILD = `
const addon = require(process.argv[1]);
const t0 = Date.now();
const r = addon.ringFaultScenario(JSON.parse(process.argv[2]));
r.ms = Date.now() - t0;
process.stdout.write(JSON.stringify(r));
`;

function addonMissing(): string | null {
  if (!existsSync(ADDON)) return `${ADDON} is not built (npm run build)`;
  const require = createRequire(import.meta.url);
  const addon = require(ADDON) as { ringFaultScenario?: unknown };
  if (typeof addon.ringFaultScenario !== 'function') return 'the addon has no ringFaultScenario (rebuild it)';
  const probe = runScenario({ singles: 1, after: 0 });
  if (probe.res !== 0) return `io_uring is not usable here (${probe.stage}: ${probe.res})`;
  return null;
}

function straceMissing(): string | null {
  const missing = missingCommand('strace', 'injects errors into io_uring_enter');
  if (missing) return missing;
  const run = spawnSync('strace', ['-qq', '-o', '/dev/null', '-e', 'trace=io_uring_enter', 'true'], { encoding: 'utf8' });
  return run.status === 0 ? null : `strace cannot trace here: ${run.stderr.trim()}`;
}

/** The scenario in a child; with `failEnter` = N, strace makes the N-th io_uring_enter fail with EAGAIN. */
function runScenario(options: ScenarioOptions, failEnter?: number): Scenario {
  const node = [process.execPath, '-e', CHILD, ADDON, JSON.stringify(options)];
  const command =
    failEnter === undefined
      ? node
      : ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=io_uring_enter', '-e',
          `inject=io_uring_enter:error=EAGAIN:when=${failEnter}`, ...node];
  const run = spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
    // libuv's own io_uring (fs ops) would take io_uring_enter calls of its own
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  assert.equal(run.status, 0, `${command.join(' ')} → ${run.status} ${run.signal}\n${run.stderr}`);
  return JSON.parse(run.stdout) as Scenario;
}

/** Every datagram whose send succeeded arrived exactly once, and no other did. */
function assertDelivery(r: Scenario, what: string): void {
  const dupes = r.received.filter((seq, i) => r.received.indexOf(seq) !== i);
  assert.deepEqual(dupes, [], `${what}: datagrams received twice`);
  const sent = new Set(r.sentOk);
  const stray = r.received.filter((seq) => !sent.has(seq));
  assert.deepEqual(stray, [], `${what}: datagrams whose send failed went out anyway (stranded SQEs submitted later)`);
  const got = new Set(r.received);
  const lost = r.sentOk.filter((seq) => !got.has(seq));
  assert.deepEqual(lost, [], `${what}: datagrams sent but never received`);
}

/**
 * Node 22+'s libuv sets up io_uring rings of its own (even with UV_USE_IO_URING=0) and calls
 * io_uring_enter from its threads at start-up: strace's `when=N` then counts those too, and an
 * EAGAIN injected into libuv's call aborts Node ("libuv: io_uring_enter(getevents)"). The N-th call
 * is the scenario's only where this Node makes none.
 */
function nodeMakesItsOwnEnters(): string | null {
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=io_uring_enter', process.execPath, '-e', '0'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  const calls = (run.stderr.match(/io_uring_enter\(/g) ?? []).length;
  return calls > 0
    ? `node ${process.version}'s libuv makes ${calls} io_uring_enter call(s) of its own at start-up, so strace's N-th call is not the ring's (runs on Node 20)`
    : null;
}

const skip = skipReason(straceMissing(), addonMissing(), straceMissing() === null ? nodeMakesItsOwnEnters() : null);

describe('io_uring_enter refused once (strace error injection)', { skip }, () => {
  // Enter 1: FillRecvQueue; then each Sendmsg and each ReceivePackets is one enter.
  for (const n of [1, 2, 3, 4, 5]) {
    test(`the ${n}. io_uring_enter fails with EAGAIN: that step fails, every later one works`, () => {
      const r = runScenario({ sendEntries: 8, poolSize: 4, singles: 3, after: 3, timeoutMs: 500 }, n);
      assert.equal(r.res, 0, JSON.stringify(r));
      const failed = r.steps.findIndex((s) => s.res === EAGAIN);
      assert.ok(failed >= 0, `the injected EAGAIN reached a step: ${JSON.stringify(r.steps)}`);
      for (const [i, s] of r.steps.entries()) {
        if (i === failed) continue;
        // the receive right after a failed send has nothing to receive: -ETIME is its answer
        if (s.op === 'recv' && i === failed + 1 && r.steps[failed]!.op === 'send') {
          assert.equal(s.res, ETIME, `step ${i}: ${JSON.stringify(r.steps)}`);
          continue;
        }
        if (s.op === 'send') assert.equal(s.res, 64, `step ${i} after the fault: ${JSON.stringify(r.steps)}`);
        if (s.op === 'recv') assert.ok(s.res >= 1, `step ${i} receives after the fault: ${JSON.stringify(r.steps)}`);
        if (s.op === 'fill') assert.equal(s.res, 4);
      }
      assert.equal(r.sentOk.length, r.steps[failed]!.op === 'send' ? 5 : 6);
      assertDelivery(r, `enter ${n} failed`);
      // one timed-out receive at most: no wait of its bound twice, no timeout per later call
      assert.ok(r.ms < 3000, `took ${r.ms} ms`);
    });
  }

  for (const n of [2, 3, 4]) {
    test(`a 100-entry batch on an 8-entry ring whose ${n}. io_uring_enter fails: clean failure, the next batch and sends work`, () => {
      const r = runScenario({ sendEntries: 8, poolSize: 64, singles: 0, batch: 100, batches: 2, after: 2, timeoutMs: 500 }, n);
      assert.equal(r.res, 0, JSON.stringify(r));
      const [first, second, ...rest] = r.steps.slice(1);
      assert.equal(first!.op, 'batch');
      assert.equal(first!.res, EAGAIN, JSON.stringify(r.steps));
      assert.ok(first!.ok! < 100);
      assert.deepEqual({ op: second!.op, res: second!.res, ok: second!.ok }, { op: 'batch', res: 0, ok: 100 });
      for (const s of rest) if (s.op === 'send') assert.equal(s.res, 64, JSON.stringify(r.steps));
      assertDelivery(r, `batch, enter ${n} failed`);
    });
  }
});

describe('batches larger than the ring', { skip: skipReason(addonMissing()) }, () => {
  test('8-entry ring, two batches of 100: all sent once, and the slot table stays usable', () => {
    const r = runScenario({ sendEntries: 8, poolSize: 64, singles: 1, batch: 100, batches: 2, after: 2, timeoutMs: 1000 });
    assert.equal(r.res, 0, JSON.stringify(r));
    assert.equal(r.sendEntries, 8);
    const batches = r.steps.filter((s) => s.op === 'batch');
    assert.deepEqual(batches.map((s) => [s.res, s.ok]), [[0, 100], [0, 100]]);
    for (const s of r.steps) if (s.op === 'send') assert.equal(s.res, 64, JSON.stringify(r.steps));
    assert.equal(r.sentOk.length, 203);
    assertDelivery(r, 'batch of 100 on 8 entries');
  });

  test('a batch of 4096 (the loopback maximum) on an 8-entry ring', () => {
    const r = runScenario({ sendEntries: 8, poolSize: 256, singles: 0, batch: 4096, batches: 1, after: 1, timeoutMs: 2000 });
    assert.equal(r.res, 0, JSON.stringify(r));
    const batch = r.steps.find((s) => s.op === 'batch')!;
    assert.deepEqual([batch.res, batch.ok], [0, 4096]);
    assert.equal(r.steps.at(-2)!.res, 64, 'the Sendmsg after it works');
    // the socket buffer may drop datagrams of so large a burst; none may arrive twice or unsent
    const dupes = r.received.filter((seq, i) => r.received.indexOf(seq) !== i);
    assert.deepEqual(dupes, []);
  });
});

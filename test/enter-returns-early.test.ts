// io_uring_enter returns a count, not -ETIME, when its GETEVENTS wait runs out: without SQPOLL
// when the same call submitted something, under SQPOLL whenever to_submit > 0 (the kernel returns
// to_submit whatever its wait did). A caller that takes any result >= 0 as "a completion may be
// there" and enters again with no deadline of its own spins for good: SendRing's popCqe did (an
// SQPOLL ring whose SQ thread had not taken a cancel hung SendRing::Close -> awaitSlots -> popCqe
// at 100% CPU for 12 minutes), and ReceivePackets(wait) returned 0 (as if it had reaped) instead of
// -ETIME. Every wait now goes through the ring-access layer's SubmitAndWait, which waits again with
// what is left of the operation's one deadline and returns -ETIME at it.
//
// The real kernel takes the first io_uring_enter (a RECVMSG on a UDP socket with no data: it never
// completes); strace then makes every later io_uring_enter of the process return 1 at once without
// entering the kernel (syscall injection, retval=1), which is what the kernel answers to an SQPOLL
// ring's submitting enter, and what an enter that submitted one SQE answers when its wait ran out.
// The operation must still end with -ETIME at its bound, and the child must exit: before the fix it
// spun until the test's child timeout killed it. (No wall-clock assertion: the child timeout only
// tells a hang from an answer.)
//
// With URING_PROBE_ADDON=/path the scenarios run with that addon (e.g. one built from an older commit).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { missingCommand, skipReason } from './helpers/require.js';

const ADDON = process.env.URING_PROBE_ADDON || join(ROOT, 'build', 'Release', 'uring_probe.node');
const ETIME = -62;
const EAGAIN = -11;
/** Far above any bound of the scenarios (100-500 ms waits, two 1 s cancel waits): only a hang reaches it. */
const CHILD_TIMEOUT_MS = 30_000;

interface CancelReport {
  targets: number;
  cancelsSubmitted: number;
  cancelsFailed: number;
  awaited: number;
  outstanding: number;
  freed: boolean;
  leaked: boolean;
}
interface CancelScenario {
  res: number;
  stage: string;
  recvmsgRes?: number;
  abort?: CancelReport;
  close?: CancelReport;
}
interface Step {
  op: string;
  res: number;
  seq: number;
}
interface FaultScenario {
  res: number;
  stage: string;
  steps: Step[];
  sentOk: number[];
  received: number[];
}

const CHILD = `
const addon = require(process.argv[1]);
const r = addon[process.argv[2]](JSON.parse(process.argv[3]));
process.stdout.write(JSON.stringify(r));
`;

function addonMissing(): string | null {
  if (!existsSync(ADDON)) return `${ADDON} is not built (npm run build)`;
  const require = createRequire(import.meta.url);
  const addon = require(ADDON) as Record<string, unknown>;
  for (const fn of ['cancelAwaitScenario', 'ringFaultScenario']) {
    if (typeof addon[fn] !== 'function') return `the addon has no ${fn} (rebuild it)`;
  }
  return null;
}

function straceMissing(): string | null {
  const missing = missingCommand('strace', 'injects return values into io_uring_enter');
  if (missing) return missing;
  const run = spawnSync('strace', ['-qq', '-o', '/dev/null', '-e', 'trace=io_uring_enter', 'true'], { encoding: 'utf8' });
  return run.status === 0 ? null : `strace cannot trace here: ${run.stderr.trim()}`;
}

/** As in ring-faults.test.ts: strace's N-th call must be the scenario's, so Node itself may make none. */
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

/** `fn` of the addon in a child under strace: io_uring_enter calls from the `from`-th on return 1 without entering the kernel. */
function runEarly<T>(fn: string, options: Record<string, unknown>, from: number): { value: T; dump: string } {
  const command = ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=io_uring_enter', '-e',
    `inject=io_uring_enter:retval=1:when=${from}+`, process.execPath, '-e', CHILD, ADDON, fn, JSON.stringify(options)];
  const run = spawnSync(command[0]!, command.slice(1), {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, UV_USE_IO_URING: '0' },
  });
  const hung = run.signal === 'SIGKILL' || (run.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  assert.ok(!hung, `${fn} never returned: killed after ${CHILD_TIMEOUT_MS} ms (a wait spinning on enters that return a count)`);
  assert.equal(run.status, 0, `${command.join(' ')} -> ${run.status} ${run.signal}\n${run.stderr}`);
  return { value: JSON.parse(run.stdout) as T, dump: run.stdout };
}

const strace = straceMissing();
const skip = skipReason(strace, addonMissing(), strace === null ? nodeMakesItsOwnEnters() : null);

describe('io_uring_enter returns a count where its wait ran out (strace retval injection)', { skip }, () => {
  test('SendRing::Recvmsg with nothing to receive ends with -ETIME, its cancel and Close stay bounded', () => {
    // Enter 1 (real): submit the RECVMSG, wait 100 ms -> the kernel returns 1 (submitted; wait ran
    // out). Every later enter (the waits for its CQE, the cancel's submit and wait, Close's) returns 1.
    const { value: r, dump } = runEarly<CancelScenario>('cancelAwaitScenario', { sendRing: true, timeoutMs: 100 }, 2);
    assert.equal(r.res, 0, dump);
    assert.equal(r.recvmsgRes, ETIME, `Recvmsg: ${dump}`);
    // The cancel never reached the kernel: its wait ran out at its bound, and the receive's memory
    // was kept (leaked on purpose), never freed under a request that may still write into it.
    assert.equal(r.abort!.targets, 1, dump);
    assert.equal(r.abort!.cancelsSubmitted, 0, dump);
    assert.equal(r.abort!.outstanding, 1, dump);
    assert.equal(r.abort!.leaked, true, dump);
    assert.equal(r.abort!.freed, false, dump);
    assert.equal(r.close!.outstanding, 1, dump);
    assert.equal(r.close!.leaked, true, dump);
  });

  test('ReceivePackets(wait) with nothing arriving returns -ETIME, not 0', () => {
    // Enter 1 (real): FillRecvQueue queues the pool. Then Sendmsg (its SQE never reaches the
    // kernel: taken back, -EAGAIN) and ReceivePackets(wait), whose enters all return 1.
    const { value: r, dump } = runEarly<FaultScenario>(
      'ringFaultScenario',
      { sendEntries: 8, poolSize: 4, singles: 1, after: 0, batches: 0, timeoutMs: 200 },
      2,
    );
    assert.equal(r.res, 0, dump);
    const ops = r.steps.map((s) => s.op);
    assert.deepEqual(ops, ['fill', 'send', 'recv'], dump);
    assert.equal(r.steps[0]!.res, 4, `fill: ${dump}`);
    assert.equal(r.steps[1]!.res, EAGAIN, `the send whose SQE the kernel never took: ${dump}`);
    assert.equal(r.steps[2]!.res, ETIME, `ReceivePackets(wait) with nothing arriving: ${dump}`);
    assert.deepEqual(r.sentOk, [], dump);
    assert.deepEqual(r.received, [], dump);
  });
});

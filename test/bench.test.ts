// Tests of the throughput engine and `uring-probe bench`: packets move, corruption and drops are counted (never speed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BENCH_MODES, benchEngine, type EngineRun } from '../src/bench/engine.js';
import { casesOf, DEFAULT_PLAN, DEFER_FLAGS, parseRingFlags, stat } from '../src/bench/runner.js';
import { benchPlanFrom } from '../src/commands/bench.js';
import { UsageError } from '../src/usage-error.js';
import { runCli } from './helpers/launcher.js';
import { missingSetupFlag, requireBenchMode, requireSetupFlag } from './helpers/require.js';

const EINVAL = -22;

function assertMoved(r: EngineRun, size: number): void {
  assert.equal(r.res, 0, `${r.mode} ${size} B failed at ${r.stage} (${r.res})`);
  assert.equal(r.skipped, null);
  assert.ok(r.received > 0, `${r.mode}: nothing received`);
  assert.ok(r.sent >= r.received, `${r.mode}: received ${r.received} > sent ${r.sent}`);
  assert.equal(r.corrupt, 0, `${r.mode}: corrupt datagrams`);
  assert.equal(r.bytesReceived, r.received * size, `${r.mode}: bytes do not add up to received x size`);
  assert.ok(r.senderCpuUs > 0 && r.receiverCpuUs > 0, `${r.mode}: thread CPU time not measured`);
}

describe('throughput engine: every mode really moves packets (a mode the kernel lacks is reported skipped, with its reason)', () => {
  for (const mode of BENCH_MODES) {
    for (const size of [64, 1400]) {
      it(`${mode} carries ${size}-byte datagrams intact from sender to receiver`, async (t) => {
        const r = await benchEngine().run({ mode, size, durationMs: 150 });
        if (!(await requireBenchMode(t, r))) return;
        assertMoved(r, size);
        if (mode === 'gso') assert.ok(r.gsoSegments > 1, 'GSO sends several datagrams per call');
        if (mode === 'seed' || mode === 'seed-batch' || mode === 'multishot') {
          assert.ok(r.sendRingFlags !== 0 && r.recvRingFlags !== 0, 'ring flags of the accepted setups are reported');
        }
      });
    }
  }
});

describe('throughput engine: corruption is detected', () => {
  for (const mode of ['syscall', 'seed', 'multishot', 'gso'] as const) {
    it(`${mode}: garbled datagrams from a third socket are counted as corrupt, not received`, async (t) => {
      const r = await benchEngine().run({ mode, size: 64, durationMs: 100, inject: 9 });
      if (!(await requireBenchMode(t, r))) return;
      assert.equal(r.res, 0);
      // injected before the sender starts, into an empty 4 MiB receive buffer: every one arrives
      assert.equal(r.corrupt, 9);
      assert.ok(r.received > 0 && r.received <= r.sent);
      assert.equal(r.bytesReceived, r.received * 64);
    });
  }
});

describe('throughput engine: drops are detected', () => {
  for (const mode of ['syscall', 'seed'] as const) {
    it(`${mode}: a stalled receiver with a tiny SO_RCVBUF loses datagrams, and the kernel counter moves`, async () => {
      const r = await benchEngine().run({ mode, size: 1400, durationMs: 200, rcvbuf: 2048, stallMs: 300 });
      assert.equal(r.res, 0);
      assert.equal(r.corrupt, 0);
      assert.ok(r.sent - r.received > 0, `sent ${r.sent}, received ${r.received}: no drop seen`);
      assert.ok(r.rcvbufErrors !== null && r.rcvbufErrors > 0, `Udp RcvbufErrors delta ${String(r.rcvbufErrors)}`);
    });
  }
});

describe('throughput engine: ring flags and latency', () => {
  it('seed with SINGLE_ISSUER|DEFER_TASKRUN creates both rings with those flags and still moves packets', async (t) => {
    if (!(await requireSetupFlag(t, 'DEFER_TASKRUN'))) return;
    const r = await benchEngine().run({ mode: 'seed', size: 64, durationMs: 100, ringFlags: DEFER_FLAGS });
    assertMoved(r, 64);
    assert.equal(r.sendRingFlags & DEFER_FLAGS, DEFER_FLAGS);
    assert.equal(r.recvRingFlags & DEFER_FLAGS, DEFER_FLAGS);
  });

  it('a setup flag the kernel does not know ends the run with EINVAL at ring setup, nothing sent', async () => {
    const r = await benchEngine().run({ mode: 'seed', size: 64, durationMs: 50, ringFlags: 0x80000000 });
    assert.equal(r.res, EINVAL);
    assert.match(r.stage, /ring/);
    assert.equal(r.sent, 0);
  });

  for (const mode of ['seed', 'syscall'] as const) {
    it(`ping-pong over ${mode} completes rounds with intact echoes and ordered percentiles`, async () => {
      const r = await benchEngine().pingPong({ mode, size: 64, durationMs: 100 });
      assert.equal(r.res, 0, `failed at ${r.stage}`);
      assert.ok(r.rounds > 0);
      assert.equal(r.corrupt, 0);
      assert.ok(r.minUs <= r.p50Us && r.p50Us <= r.p99Us && r.p99Us <= r.maxUs);
    });
  }

  it('multishot and seed run with SETUP_NO_SQARRAY in ringFlags (no SQ index array to fill); where the kernel refuses the flag, the run ends with EINVAL at ring setup', async (t) => {
    const NO_SQARRAY = 1 << 16;
    const refused = await missingSetupFlag('NO_SQARRAY');
    for (const mode of ['multishot', 'seed'] as const) {
      const r = await benchEngine().run({ mode, size: 64, durationMs: 100, ringFlags: NO_SQARRAY });
      if (refused !== null) {
        // a kernel without NO_SQARRAY (6.6): the engine says so at ring setup, nothing is sent
        assert.equal(r.res, EINVAL, `${mode}: ${r.stage} ${r.res}`);
        assert.match(r.stage, /ring/);
        assert.equal(r.sent, 0);
        continue;
      }
      if (!(await requireBenchMode(t, r))) return;
      assertMoved(r, 64);
      assert.equal(r.recvRingFlags & NO_SQARRAY, NO_SQARRAY, `${mode}: the receive ring has NO_SQARRAY`);
    }
    if (refused !== null) t.skip(`${refused} (checked: each run ends with EINVAL at ring setup)`);
  });

  it('an option getter that throws rejects with its own error instead of running', async () => {
    const opts = Object.defineProperty({ mode: 'seed' as const, durationMs: 10 }, 'size', {
      enumerable: true,
      get(): number {
        throw new RangeError('getter size');
      },
    }) as { mode: 'seed'; durationMs: number; size: number };
    await assert.rejects(benchEngine().run(opts), { name: 'RangeError', message: 'getter size' });
    const pingOpts = {
      mode: 'seed' as const,
      size: 64,
      durationMs: 10,
      get maxRounds(): number {
        throw new RangeError('getter maxRounds');
      },
    };
    await assert.rejects(benchEngine().pingPong(pingOpts), { name: 'RangeError', message: 'getter maxRounds' });
  });

  it('rejects bad options with a TypeError instead of running', async () => {
    await assert.rejects(benchEngine().run({ mode: 'nope' as never, size: 64, durationMs: 10 }), TypeError);
    await assert.rejects(benchEngine().run({ mode: 'seed', size: 3, durationMs: 10 }), TypeError);
  });
});

describe('bench planning', () => {
  it('stat gives median, min and max', () => {
    assert.deepEqual(stat([3, 1, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(stat([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4 });
  });

  it('parses ring flags by name or number and refuses unknown names', () => {
    assert.equal(parseRingFlags('SINGLE_ISSUER,DEFER_TASKRUN'), DEFER_FLAGS);
    assert.equal(parseRingFlags('IORING_SETUP_SINGLE_ISSUER|defer_taskrun'), DEFER_FLAGS);
    assert.equal(parseRingFlags('0x3000'), 0x3000);
    assert.equal(parseRingFlags('FAST'), null);
    // flags that change the SQE/CQE layout or the mapping would make the engine measure garbage
    assert.equal(parseRingFlags('CQE32'), null);
    assert.equal(parseRingFlags('0x800'), null, 'CQE32 by number');
    assert.equal(parseRingFlags('0x400'), null, 'SQE128 by number');
    assert.equal(parseRingFlags('0x4000'), null, 'NO_MMAP by number');
  });

  it('adds a seed case with the other flag choice for comparison', () => {
    const labels = casesOf({ ...DEFAULT_PLAN, modes: ['seed', 'syscall'] }).map((c) => c.label);
    assert.deepEqual(labels, ['seed', 'seed+SINGLE_ISSUER|DEFER_TASKRUN', 'syscall']);
  });

  it('turns bad command-line values into usage errors', () => {
    assert.throws(() => benchPlanFrom({ modes: 'seed,warp' }), UsageError);
    assert.throws(() => benchPlanFrom({ size: ['64,3'] }), UsageError);
    assert.throws(() => benchPlanFrom({ 'ring-flags': 'FAST' }), UsageError);
    assert.deepEqual(benchPlanFrom({ size: ['64,1400', '512'] }).sizes, [64, 1400, 512]);
  });
});

describe('uring-probe bench (CLI)', () => {
  it('--json prints one document with a case per mode and size, and figures for those that ran', async (t) => {
    // the seed case is run again with SINGLE_ISSUER|DEFER_TASKRUN (6.1)
    if (!(await requireSetupFlag(t, 'DEFER_TASKRUN'))) return;
    const p = runCli(['bench', '--modes', 'seed,syscall', '--size', '64', '--duration', '100', '--repeat', '2', '--no-ping-pong', '--json']);
    assert.equal(p.status, 0, p.stderr);
    assert.equal(p.stderr, '', 'no progress bar on a pipe');
    const doc = JSON.parse(p.stdout) as { cases: Array<{ label: string; figures: { rxPps: { median: number } } | null; runs: unknown[] }> };
    assert.deepEqual(doc.cases.map((c) => c.label), ['seed', 'seed+SINGLE_ISSUER|DEFER_TASKRUN', 'syscall']);
    for (const c of doc.cases) {
      assert.equal(c.runs.length, 2);
      assert.ok(c.figures && c.figures.rxPps.median > 0);
    }
  });

  it('an unknown mode is a usage error: one line, exit 64', () => {
    const p = runCli(['bench', '--modes', 'warp'], { timeoutMs: 10_000 });
    assert.equal(p.status, 64);
    assert.equal(p.stderr.trim().split('\n').length, 1);
    assert.match(p.stderr, /unknown mode 'warp'/);
  });

  it('an empty --modes or --size, or a layout-changing --ring-flags, is a usage error, not a silent default', () => {
    for (const args of [['--modes', ','], ['--size', ','], ['--ring-flags', 'CQE32']]) {
      const p = runCli(['bench', ...args], { timeoutMs: 10_000 });
      assert.equal(p.status, 64, args.join(' '));
      assert.equal(p.stderr.trim().split('\n').length, 1);
    }
  });
});

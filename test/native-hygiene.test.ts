// Resource hygiene of the native addon: every operation it exposes, called a few hundred times in
// one process, must give back what it takes. A child node process (so the counts are of a process
// that does nothing else) runs a warm-up round of every operation, counts its open descriptors
// (/proc/self/fd), memory mappings (/proc/self/maps lines) and threads (/proc/self/task), runs
// more rounds, and counts again; the counts may not grow beyond a small slack. The slack is for
// what is not ours: V8's heap grows and shrinks by mappings of its own (the child runs gc() before
// each count), and libuv's pool is already started by the warm-up. A leak of ours scales with the
// calls (a ring is 3 mappings and an fd per call) and shows far beyond it.
//
// The addon loaded is the one the CLI would load (src/native.ts: URING_PROBE_ADDON, node-gyp-build),
// so `npm run test:sanitize`-style runs can point this at another build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const NATIVE_MODULE = fileURLToPath(new URL('../src/native.js', import.meta.url));

/** Rounds after the warm-up round (each calls every available operation once or twice). */
const ROUNDS = 12;
const SLACK = { fds: 2, maps: 10, threads: 1 };
/** Under AddressSanitizer (npm run test:sanitize) its allocator maps regions of its own as it goes. */
const ASAN_MAPS_SLACK = 40;

// The child: plain ESM, run with --expose-gc. Prints one JSON line.
const CHILD = String.raw`
import { readdirSync, readFileSync, openSync, writeFileSync, closeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { loadAddon } = await import(process.env.HYGIENE_NATIVE_MODULE);
const addon = loadAddon();
const abi = addon.abi();
const F = abi.setupFlags;
const ROUNDS = Number(process.env.HYGIENE_ROUNDS);

function counts() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return {
    fds: readdirSync('/proc/self/fd').length,
    maps: readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean).length,
    threads: readdirSync('/proc/self/task').length,
  };
}

// name -> async () => void; an op that throws 'SKIP: reason' in the warm-up is left out after it.
const calls = {};
const skipped = {};
const ops = [];
function op(name, fn) { ops.push({ name, fn }); calls[name] = 0; }
class Skip extends Error {}
const skip = (why) => { throw new Skip(why); };
const check = (cond, what) => { if (!cond) throw new Error(what); };

op('abi', async () => { check(addon.abi().sqeSize === 64, 'abi'); });
op('ringLadder send', async () => { const r = await addon.ringLadder({ kind: 'send' }); check(r.res === 0, 'send ladder res ' + r.res); });
op('ringLadder recv (holding the send ring)', async () => {
  const r = await addon.ringLadder({ kind: 'recv', holdSendRing: true });
  check(r.res === 0, 'recv ladder res ' + r.res);
});
op('mappingCompare', async () => { const r = await addon.mappingCompare({ entries: 8 }); check(r.res === 0, 'mappingCompare res ' + r.res); });
op('paramsLayout', async () => { const r = await addon.paramsLayout({ room: 120 }); check(r.res === 0, 'paramsLayout res ' + r.res); });
op('probeOpcodes', async () => {
  const r = await addon.probeOpcodes();
  if (r.res === -22) skip('IORING_REGISTER_PROBE: EINVAL (kernel < 5.6)');
  check(r.res === 0, 'probeOpcodes res ' + r.res);
});
op('multishotRecvmsg', async () => {
  const r = await addon.multishotRecvmsg({ timeoutMs: 1000 });
  if (r.res !== 0) skip('multishot RECVMSG: ' + r.stage + ' ' + r.res);
});
op('trySetupFlags CLAMP', async () => { const r = await addon.trySetupFlags({ flags: F.CLAMP }); check(r.res === 0, 'CLAMP res ' + r.res); });
op('trySetupFlags NO_MMAP (user memory)', async () => {
  if (F.NO_MMAP === undefined) skip('the addon has no NO_MMAP');
  const r = await addon.trySetupFlags({ flags: F.NO_MMAP | F.CLAMP, userMemory: true });
  if (r.res !== 0) skip('IORING_SETUP_NO_MMAP: ' + r.res + ' (6.5+)');
});
op('singleIssuerCrossThread', async () => {
  const r = await addon.singleIssuerCrossThread();
  if (r.setupRes !== 0) skip('IORING_SETUP_SINGLE_ISSUER: ' + r.setupRes + ' (6.0+)');
});
for (const family of [4, 6]) {
  op('loopback IPv' + family, async () => {
    const r = await addon.loopback({ family, sizes: [64, 1400], batch: 8, timeoutMs: 2000 });
    if (family === 6 && (r.stage === 'socket' || r.stage === 'bind') && r.res !== 0) skip('no IPv6 loopback: ' + r.stage + ' ' + r.res);
    check(r.res === 0 && r.received === r.expected, 'loopback IPv' + family + ': ' + r.stage + ' ' + r.res + ' ' + r.received + '/' + r.expected);
  });
}
op('compileSeccomp', async () => {
  const r = addon.compileSeccomp({
    defaultAction: { kind: 'allow' },
    rules: [{ action: { kind: 'errno', data: 1 }, syscalls: ['io_uring_setup', 'no_such_syscall'] }],
  });
  if (r.res === -2) skip('libseccomp.so.2 not found: ' + r.error);
  check(r.res === 0 && r.bpf && r.bpf.length > 0, 'compileSeccomp: ' + r.res + ' ' + r.error);
});
// The context thread is started once per process (the warm-up, with this process's own
// capabilities: nothing changes); later calls answer EALREADY, and the ops above then run on it.
let contextStarted = false;
const capEff = BigInt('0x' + /CapEff:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]).toString();
op('setContext', async () => {
  const r = addon.setContext({ caps: capEff });
  if (!contextStarted) { check(r.res === 0, 'setContext: ' + r.stage + ' ' + r.res); contextStarted = true; }
  else check(r.res === -114, 'setContext again: ' + r.stage + ' ' + r.res);
  check(addon.setContext({}).res === 0, 'setContext({})');
});
const limits = readFileSync('/proc/self/limits', 'utf8');
const memlock = /Max locked memory\s+(\S+)\s+(\S+)/.exec(limits);
const asString = (v) => (v === 'unlimited' ? 'infinity' : v);
op('setMemlock (unchanged)', async () => { check(addon.setMemlock(asString(memlock[1]), asString(memlock[2])) === 0, 'setMemlock'); });
op('memlockProbe', async () => {
  const r = await addon.memlockProbe({ scanLimitMiB: 4 });
  check(r.res === 0, 'memlockProbe: ' + r.stage + ' ' + r.res);
});
op('ringLedgerStats', async () => { check(typeof addon.ringLedgerStats().retries === 'number', 'ringLedgerStats'); });
if (typeof addon.ringFaultScenario === 'function') {
  op('ringFaultScenario', async () => {
    const r = addon.ringFaultScenario({ singles: 2, batch: 4, after: 2 });
    check(r.res === 0, 'ringFaultScenario: ' + r.stage + ' ' + r.res);
  });
}
if (addon.bench && typeof addon.bench.run === 'function') {
  for (const mode of addon.bench.modes) {
    op('bench.run ' + mode, async () => {
      const r = await addon.bench.run({ mode, size: 64, durationMs: 15 });
      if (r.skipped) skip(r.skipped);
      check(r.res === 0, 'bench ' + mode + ': ' + r.stage + ' ' + r.res);
    });
  }
  for (const mode of ['seed', 'syscall']) {
    op('bench.pingPong ' + mode, async () => {
      const r = await addon.bench.pingPong({ mode, durationMs: 15 });
      check(r.res === 0, 'pingPong ' + mode + ': ' + r.stage + ' ' + r.res);
    });
  }
}

async function round(warmUp) {
  for (const { name, fn } of ops) {
    if (skipped[name]) continue;
    try {
      await fn();
      calls[name]++;
    } catch (e) {
      if (e instanceof Skip && warmUp) { skipped[name] = e.message; continue; }
      throw new Error(name + ': ' + (e && e.message));
    }
  }
}

// The breadcrumb page is attached once per process by design (the probe child's start-up): once here.
const crumbPath = join(tmpdir(), 'uring-probe-hygiene-crumb-' + process.pid);
writeFileSync(crumbPath, Buffer.alloc(4096));
const crumbFd = openSync(crumbPath, 'r+');
const crumbRes = addon.setBreadcrumbFd(crumbFd);
closeSync(crumbFd);
unlinkSync(crumbPath);
if (crumbRes !== 0) throw new Error('setBreadcrumbFd: ' + crumbRes);

const started = Date.now();
await round(true);
await round(false); // libuv's pool, V8's code space: settled after two rounds
const warm = counts();
const trace = [warm];
for (let i = 0; i < ROUNDS; i++) {
  await round(false);
  if (i === Math.floor(ROUNDS / 2) - 1) trace.push(counts());
}
const end = counts();
trace.push(end);
const total = Object.values(calls).reduce((a, b) => a + b, 0) + 1;
const asan = /libasan/.test(readFileSync('/proc/self/maps', 'utf8'));
process.stdout.write(JSON.stringify({ warm, end, trace, calls, skipped, total, asan, elapsedMs: Date.now() - started }) + '\n');
`;

test('every native operation, a few hundred calls in one process: no fd, mapping or thread grows', async (t) => {
  const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HYGIENE_NATIVE_MODULE: NATIVE_MODULE, HYGIENE_ROUNDS: String(ROUNDS) },
  });
  assert.equal(child.signal, null, `the child died of ${String(child.signal)}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim()) as {
    warm: Record<'fds' | 'maps' | 'threads', number>;
    end: Record<'fds' | 'maps' | 'threads', number>;
    trace: Array<Record<'fds' | 'maps' | 'threads', number>>;
    calls: Record<string, number>;
    skipped: Record<string, string>;
    total: number;
    asan: boolean;
    elapsedMs: number;
  };
  const slack = { ...SLACK, maps: out.asan ? ASAN_MAPS_SLACK : SLACK.maps };
  if (out.asan) t.diagnostic(`AddressSanitizer is loaded: mapping slack ${ASAN_MAPS_SLACK} (its allocator maps regions as it grows)`);
  t.diagnostic(`${out.total} native calls in ${out.elapsedMs} ms (${ROUNDS + 2} rounds, the first two a warm-up)`);
  for (const key of ['fds', 'maps', 'threads'] as const) {
    t.diagnostic(`${key}: ${out.trace.map((c) => c[key]).join(' -> ')} (warm-up -> half-way -> end; slack ${slack[key]})`);
  }
  for (const [name, n] of Object.entries(out.calls)) {
    await t.test(name, (st) => {
      const why = out.skipped[name];
      if (why) {
        st.skip(`this kernel/user lacks it: ${why}`);
        return;
      }
      assert.equal(n, ROUNDS + 2, `${name} ran every round`);
    });
  }
  assert.ok(out.total >= 200, `a few hundred calls (${out.total})`);
  for (const key of ['fds', 'maps', 'threads'] as const) {
    assert.ok(
      out.end[key] - out.warm[key] <= slack[key],
      `${key} grew from ${out.warm[key]} to ${out.end[key]} over ${out.total} calls (slack ${slack[key]}): ${out.trace.map((c) => c[key]).join(' -> ')}`,
    );
  }
});

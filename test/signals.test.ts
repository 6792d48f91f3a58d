// Interrupting the real CLI with real signals: `check` (SIGINT -> 130, SIGTERM -> 143, SIGHUP -> 129)
// takes its probe child down with it, writes nothing half on stdout and leaves no --output
// temporary behind; a probe child whose parent is SIGKILLed dies by itself; `bench` on a terminal
// gets its cursor back after Ctrl-C.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CLI_PATH, makeTempDir, removeDir } from './helpers/paths.js';
import { hasCommand } from './helpers/require.js';

/**
 * After the probe child appears: far enough into the kernel probes to be in the throughput probe
 * on a machine like ours (the probes before it take a few hundred ms, it runs 1.5 s and more).
 * Earlier or later still tests the same thing, only a shorter stretch of it.
 */
const INTO_THROUGHPUT_MS = 700;
/** How long after the CLI exits its probe child may still show in /proc as running. */
const CHILD_GONE_SLACK_MS = 500;
/** How long an orphaned probe child may run on after its parent's SIGKILL. */
const ORPHAN_BOUND_MS = 1000;

const INTERRUPTED = (signal: string): RegExp => new RegExp(`^uring-probe: interrupted \\(${signal}\\); no report was written$`, 'm');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A process started with piped output, and a promise of how it ended (killed with SIGKILL past `boundMs`). */
function start(command: string, args: string[], boundMs = 60_000): { proc: ChildProcess; ended: Promise<Ended> } {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const ended = new Promise<Ended>((resolve) => {
    const bound = setTimeout(() => proc.kill('SIGKILL'), boundMs);
    proc.on('close', (code, signal) => {
      clearTimeout(bound);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { proc, ended };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `probe` every 20 ms until it returns a value other than null/false, at most `ms`. */
async function waitFor<T>(probe: () => T | null | false, ms: number): Promise<T | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== null && v !== false) return v;
    if (Date.now() >= deadline) return null;
    await sleep(20);
  }
}

/** The children of `pid` (every thread's), from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      for (const w of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/)) if (w) out.push(Number(w));
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** `pid` and every process below it. */
function descendantsOf(pid: number): number[] {
  const all: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const c of childrenOf(p)) {
      all.push(c);
      queue.push(c);
    }
  }
  return all;
}

/** No longer running: no /proc entry, or a zombie waiting for init to reap it. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** The probe child of a `check` run (node .../probe-child.js), once it runs; null if none within 15 s. */
function probeChildOf(pid: number): Promise<number | null> {
  return waitFor(() => childrenOf(pid).find((c) => cmdlineOf(c).includes('probe-child')) ?? null, 15_000);
}

/** stdout is empty, or one whole JSON document. */
function assertEmptyOrComplete(stdout: string): void {
  if (stdout.trim() === '') return;
  assert.doesNotThrow(() => JSON.parse(stdout), `stdout is neither empty nor a whole JSON document: ${stdout.slice(-200)}`);
}

/**
 * Start `check --json` (throughput probe on: the longest run), wait until its probe child has run a
 * moment, send `signal` to the CLI alone (not its process group: the child must be stopped by the
 * CLI), and return how it ended and the child's pid.
 */
async function interruptCheck(
  t: TestContext,
  signal: NodeJS.Signals,
  extra: string[] = [],
): Promise<{ ended: Ended; child: number; sentAt: number; endedAt: number } | null> {
  const { proc, ended } = start(process.execPath, [CLI_PATH, 'check', '--json', ...extra]);
  const child = await probeChildOf(proc.pid!);
  if (child === null) {
    proc.kill('SIGKILL');
    const e = await ended;
    t.skip(`check started no probe child within 15 s (exit ${String(e.code)}): ${e.stderr.trim().slice(0, 200)}`);
    return null;
  }
  await sleep(INTO_THROUGHPUT_MS);
  if (isGone(child) || proc.exitCode !== null) {
    proc.kill('SIGKILL');
    await ended;
    t.skip('check finished its kernel probes before the signal could be sent');
    return null;
  }
  const sentAt = Date.now();
  proc.kill(signal);
  const e = await ended;
  return { ended: e, child, sentAt, endedAt: Date.now() };
}

describe('check interrupted by a signal', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${signal}: exit ${code}, one line on stderr, no half JSON, the probe child stopped`, async (t) => {
      const run = await interruptCheck(t, signal);
      if (!run) return;
      const { ended, child, sentAt, endedAt } = run;
      assert.equal(ended.signal, null, `ended by ${String(ended.signal)} instead of exiting`);
      assert.equal(ended.code, code, `exit code; stderr: ${ended.stderr}`);
      assert.match(ended.stderr, INTERRUPTED(signal));
      assert.doesNotMatch(ended.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
      assert.equal(ended.stderr.trim().split('\n').length, 1, `one line on stderr: ${ended.stderr}`);
      assertEmptyOrComplete(ended.stdout);
      // The CLI waits (boundedly) for its child before it exits: the child is gone when the CLI is
      // (the slack is only for /proc). Before the fix it ran on to the end of its probe, up to ~2 s.
      const gone = await waitFor(() => isGone(child), CHILD_GONE_SLACK_MS);
      assert.ok(gone, `probe child ${child} still runs ${Date.now() - endedAt} ms after the CLI exited: ${cmdlineOf(child)}`);
      assert.ok(Date.now() - sentAt < 5000, 'exited within 5 s of the signal');
    });
  }

  it('--output DIR/r.json: no r.json, no .r.json.*.tmp left behind', async (t) => {
    const dir = makeTempDir('uring-probe-signals-');
    try {
      const run = await interruptCheck(t, 'SIGINT', ['--output', join(dir, 'r.json')]);
      if (!run) return;
      assert.equal(run.ended.code, 130, run.ended.stderr);
      assert.match(run.ended.stderr, INTERRUPTED('SIGINT'));
      assert.equal(run.ended.stdout, '', 'nothing on stdout with --output');
      const left = readdirSync(dir);
      assert.deepEqual(left.filter((n) => n.endsWith('.tmp')), [], `temporaries left: ${left.join(', ')}`);
      // interrupted before the report was made: no report at all (never a half one)
      assert.ok(!existsSync(join(dir, 'r.json')), 'no r.json');
      assert.ok(await waitFor(() => isGone(run.child), CHILD_GONE_SLACK_MS), 'probe child gone with the CLI');
    } finally {
      removeDir(dir);
    }
  });
});

/**
 * Python (the test's reader of stdout): a 4 KiB pipe (F_SETPIPE_SZ), filled by `check --json
 * --no-bench` and left unread, so the report is half in the pipe and half queued in the CLI when
 * the signal comes; then reads on and prints what it got as JSON.
 */
const SLOW_READER = `
import os, fcntl, subprocess, time, json, signal, termios, array, sys
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)
p = subprocess.Popen(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
os.close(w)
def queued():
    b = array.array('i', [0]); fcntl.ioctl(r, termios.FIONREAD, b); return b[0]
t0 = time.time()
while queued() < 4096 and p.poll() is None and time.time() - t0 < 60: time.sleep(0.01)
time.sleep(0.2)
full = p.poll() is None and queued() >= 4096
if full: p.send_signal(signal.SIGINT)
time.sleep(0.3)
data = b''
while True:
    c = os.read(r, 65536)
    if not c: break
    data += c
rc = p.wait(60)
print(json.dumps({'full': full, 'code': rc, 'stdout': data.decode(), 'stderr': p.stderr.read().decode()}))
`;

describe('a report already on its way to stdout', () => {
  it('is finished, not cut, when the signal comes while it drains into a slow pipe', async (t) => {
    if (!hasCommand('python3')) {
      t.skip('python3 is not installed: no way to shrink a pipe (F_SETPIPE_SZ) from node');
      return;
    }
    const { ended } = start('python3', ['-c', SLOW_READER, process.execPath, CLI_PATH, 'check', '--json', '--no-bench'], 120_000);
    const e = await ended;
    assert.equal(e.code, 0, `python3: ${e.stderr}`);
    const got = JSON.parse(e.stdout) as { full: boolean; code: number; stdout: string; stderr: string };
    if (!got.full) {
      t.skip(`the report did not fill a 4 KiB pipe (exit ${got.code}, ${got.stdout.length} bytes)`);
      return;
    }
    assert.equal(got.code, 130, got.stderr);
    assert.doesNotThrow(() => JSON.parse(got.stdout), `a half JSON document on stdout (${got.stdout.length} bytes)`);
    assert.match(got.stderr, /^uring-probe: interrupted \(SIGINT\); the output already on its way to stdout was finished first$/m);
    assert.equal(got.stderr.trim().split('\n').length, 1, got.stderr);
  });
});

describe('probe child without its parent', () => {
  it('dies by itself when the CLI is killed with SIGKILL (its stdin pipe closes)', async (t) => {
    const { proc, ended } = start(process.execPath, [CLI_PATH, 'check', '--json']);
    const child = await probeChildOf(proc.pid!);
    if (child === null) {
      proc.kill('SIGKILL');
      await ended;
      t.skip('check started no probe child within 15 s');
      return;
    }
    await sleep(INTO_THROUGHPUT_MS);
    if (isGone(child)) {
      proc.kill('SIGKILL');
      await ended;
      t.skip('the probe child finished before the CLI could be killed');
      return;
    }
    proc.kill('SIGKILL');
    await ended;
    const diedAt = Date.now();
    // Before the fix it ran on until its probe's next message met the closed pipe (up to ~2 s in
    // the throughput probe); now the closing of its stdin ends it at once.
    const gone = await waitFor(() => isGone(child), ORPHAN_BOUND_MS);
    assert.ok(gone, `probe child ${child} outlived its SIGKILLed parent by ${Date.now() - diedAt} ms: ${cmdlineOf(child)}`);
  });
});

describe('bench on a terminal', () => {
  it('Ctrl-C (SIGINT) gives the cursor back: \\x1b[?25h after the last \\x1b[?25l', async (t) => {
    if (!hasCommand('script')) {
      t.skip('util-linux `script` is not installed: no pseudo-terminal to run bench on');
      return;
    }
    const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} bench --modes seed --size 64 --duration 1000 --repeat 20 --no-ping-pong --no-compare-flags`;
    const { proc, ended } = start('script', ['-qec', cmd, '/dev/null'], 60_000);
    let out = '';
    proc.stdout!.on('data', (c: string) => (out += c));
    const hidden = await waitFor(() => out.includes('\x1b[?25l'), 20_000);
    const cli = descendantsOf(proc.pid!).find((p) => cmdlineOf(p).includes('uring-probe.js'));
    if (!hidden || cli === undefined) {
      proc.kill('SIGKILL');
      const e = await ended;
      t.skip(`no progress bar on the pseudo-terminal (script: exit ${String(e.code)}; ${e.stdout.slice(0, 200).replace(/\x1b/g, '\\e')})`);
      return;
    }
    const sentAt = Date.now();
    process.kill(cli, 'SIGINT');
    const e = await ended;
    assert.ok(Date.now() - sentAt < 5000, 'exited within 5 s of the signal');
    const lastHide = e.stdout.lastIndexOf('\x1b[?25l');
    const lastShow = e.stdout.lastIndexOf('\x1b[?25h');
    assert.ok(lastShow > lastHide, `cursor left hidden: ...${e.stdout.slice(-200).replace(/\x1b/g, '\\e')}`);
    assert.match(e.stdout, /uring-probe: interrupted \(SIGINT\); no report was written/);
    assert.doesNotMatch(e.stdout, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    // script -e passes the command's exit status on
    assert.equal(e.code, 130, e.stdout.slice(-300));
  });
});

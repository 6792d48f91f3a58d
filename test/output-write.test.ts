// --output of every command that prints a document (check, gate, fleet, diff, bench): `-o -` is stdout;
// a file is replaced atomically (keeping its mode and owner), a symlink is followed and stays, a
// character device or FIFO is written straight (a FIFO never hangs), a directory, socket or block device
// is refused before any work (exit 64); a write that fails after the work names the verdict it loses
// (exit 3). Device nodes are copies made with mknod in a temp dir, never the host's /dev.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync, chownSync, closeSync, constants as fsConstants, lstatSync, mkdirSync, openSync, readdirSync,
  readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { removePendingTemporaries, writeFileAtomic, writeOutput } from '../src/report/atomic-write.js';
import { stdinDashGiven } from '../src/commands/output.js';
import { runCli, type CliRun } from './helpers/launcher.js';
import { CLI_PATH, fixturePath, REPORTS, ROOT, withTempDir } from './helpers/paths.js';
import { idOf, requireCommand, requireRoot } from './helpers/require.js';

const ANSI = /\u001b\[/;
const STACK = /\n\s+at /;
const QUICK_BENCH = ['bench', '--modes', 'syscall', '--size', '64', '--duration', '50', '--repeat', '1', '--no-compare-flags', '--no-ping-pong'];

const VERDICT_EXIT: Record<string, number> = { compatible: 0, degraded: 1, incompatible: 2, unknown: 3 };

/**
 * One run of each document-printing command, with the words its lost-output line must carry. The
 * fixture-based ones (gate, fleet, diff) print the same every time; check and bench measure this
 * host, whose answers may change between two runs under load, so only their shape is compared.
 */
const COMMANDS: Array<{ name: string; args: string[]; reached: RegExp; stable: boolean; json: boolean }> = [
  { name: 'check', args: ['check', '--json', '--no-bench'], reached: /the check's verdict was (\w+) \(exit (\d)\) but its report is lost$/, stable: false, json: true },
  {
    name: 'check --format prometheus',
    args: ['check', '--format', 'prometheus', '--no-bench'],
    reached: /the check's verdict was (\w+) \(exit (\d)\) but its report is lost$/,
    stable: false,
    json: false,
  },
  {
    name: 'gate',
    args: ['gate', join(REPORTS, '5.10-no-coop-taskrun.json'), '--require', 'COOP_TASKRUN'],
    reached: /the gate failed, verdict (incompatible) \(exit (2)\) but its gated report is lost$/,
    stable: true,
    json: false,
  },
  {
    name: 'fleet',
    args: ['fleet', join(REPORTS, '6.18-compatible.json'), join(REPORTS, '5.10-no-coop-taskrun.json')],
    reached: /the roll-up of 2 hosts \((\d+) failing, 0 inputs skipped\) exits (\d) but its output is lost$/,
    stable: true,
    json: false,
  },
  {
    name: 'diff',
    args: ['diff', join(REPORTS, '5.10-no-coop-taskrun.json'), join(REPORTS, '6.1-upgraded-from-5.10.json')],
    reached: /the diff found (a|no) regression \(exit (\d)\) but its output is lost$/,
    stable: true,
    json: false,
  },
  { name: 'explain', args: ['explain', '--json'], reached: /the (explanation) was made \(exit (\d)\) but it was not written$/, stable: true, json: true },
  {
    name: 'seccomp-profile',
    args: ['seccomp-profile', '--from', fixturePath('seccomp', 'errno-enosys-io_uring.json')],
    reached: /the (profile) was made \(exit (\d)\) but it was not written$/,
    stable: true,
    json: false,
  },
  { name: 'bench', args: [...QUICK_BENCH, '--format', 'json'], reached: /the bench (.*) \(exit (\d)\) but its results are lost$/, stable: false, json: true },
];

/** The exit code of a command's run: a plain run's for the stable ones, one of the verdicts' for check and bench. */
function assertExit(name: string, stable: boolean, status: number | null, baseline: number | null, stderr: string): void {
  if (stable) assert.equal(status, baseline, `${name}: ${stderr}`);
  else assert.ok(status !== null && [0, 1, 2, 3].includes(status), `${name}: exit ${status}: ${stderr}`);
}

/** The one stderr line of a run (no stack trace, nothing else). */
const SECCOMP_PROFILE_CHANGE = /^uring-probe: (removed|took|added|created) .*syscalls/;

function oneLine(run: CliRun): string {
  assert.doesNotMatch(run.stderr, STACK, 'no stack trace');
  // seccomp-profile lists what it changed in the profile on stderr (before a failed stdout write is known)
  const lines = run.stderr.split('\n').filter((l) => l !== '' && !SECCOMP_PROFILE_CHANGE.test(l));
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${run.stderr}`);
  return lines[0]!;
}

/** The message of the JSON error document that a usage error prints in JSON mode (stderr stays empty). */
function usageOfDocument(run: CliRun): string {
  assert.equal(run.stderr, '');
  const doc = JSON.parse(run.stdout) as { error: { code: string; message: string }; exitCode: number };
  assert.equal(doc.error.code, 'USAGE');
  assert.equal(doc.exitCode, 64);
  return `uring-probe: ${doc.error.message}`;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A copy of a device node (`c 1 3` = null, `c 1 7` = full, `b 7 0` = loop0) in `dir`; root only. */
function mknod(dir: string, name: string, type: 'c' | 'b', major: number, minor: number): string {
  const path = join(dir, name);
  const made = spawnSync('mknod', [path, type, String(major), String(minor)], { encoding: 'utf8' });
  assert.equal(made.status, 0, `mknod ${path}: ${made.stderr}`);
  return path;
}

function mkfifo(path: string): string {
  const made = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  assert.equal(made.status, 0, `mkfifo ${path}: ${made.stderr}`);
  return path;
}

/** The node's kind and device number, to see that a write left it what it was. */
function nodeOf(path: string): string {
  const st = lstatSync(path);
  const kind = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
  return kind === 'char' || kind === 'block' ? `${kind} ${Math.floor(st.rdev / 256)}:${st.rdev % 256}` : kind;
}

/** The CLI with its stdout on the file descriptor `fd` (stderr captured). */
function runWithStdout(args: string[], fd: number): CliRun {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: ROOT,
    stdio: ['ignore', fd, 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw r.error;
  return { command: [process.execPath, CLI_PATH, ...args], status: r.status, signal: r.signal, stdout: '', stderr: r.stderr };
}

function rootWithMknod(t: TestContext): boolean {
  return requireRoot(t, 'mknod of a device node copy') && requireCommand(t, 'mknod');
}

describe('--output to a character device', () => {
  it('a copy of /dev/null (c 1 3), directly and through a symlink: written straight, the node and the symlink stay, exit = the command\'s own', (t) => {
    if (!rootWithMknod(t)) return;
    withTempDir('uring-probe-out-null-', (dir) => {
      const dev = mknod(dir, 'null', 'c', 1, 3);
      symlinkSync('null', join(dir, 'link'));
      for (const { name, args, stable } of COMMANDS) {
        const baseline = runCli(args);
        for (const target of [dev, join(dir, 'link')]) {
          const r = runCli([...args, '-o', target]);
          assertExit(`${name} -o ${target}`, stable, r.status, baseline.status, r.stderr);
          assert.equal(r.stdout, '');
          assert.equal(nodeOf(dev), 'char 1:3', `${name} replaced the device node`);
          assert.equal(nodeOf(join(dir, 'link')), 'symlink');
          assert.equal(readlinkSync(join(dir, 'link')), 'null');
          assert.deepEqual(readdirSync(dir).sort(), ['link', 'null'], 'no temporary file left');
        }
      }
    });
  });

  it('a copy of /dev/full (c 1 7): exit 3, one line naming the path, ENOSPC and the verdict reached (every command, prometheus too)', (t) => {
    if (!rootWithMknod(t)) return;
    withTempDir('uring-probe-out-full-', (dir) => {
      const dev = mknod(dir, 'full', 'c', 1, 7);
      for (const { name, args, reached, stable } of COMMANDS) {
        const baseline = runCli(args);
        const r = runCli([...args, '-o', dev]);
        assert.equal(r.status, 3, `${name}: ${r.stderr}`);
        assert.equal(r.stdout, '', 'no half document anywhere');
        const line = oneLine(r);
        assert.match(line, new RegExp(`^uring-probe: cannot write --output ${escapeRe(dev)}: no space left \\(ENOSPC\\); `));
        const m = reached.exec(line);
        assert.ok(m, `${name}: ${line} does not match ${reached}`);
        // the exit code the command would have had (prometheus: the verdict's own, though it exits 0 when written)
        if (stable) assert.equal(Number(m[2]), baseline.status, line);
        if (name.startsWith('check')) assert.equal(Number(m[2]), VERDICT_EXIT[m[1]!], line);
        if (name === 'bench') assert.equal(Number(m[2]), m[1] === 'ran every mode intact' ? 0 : 1, line);
        assert.equal(nodeOf(dev), 'char 1:7');
      }
    });
  });

  it('stdout on a copy of /dev/full: one line "cannot write to stdout (ENOSPC)", exit 3 (every command)', (t) => {
    if (!rootWithMknod(t)) return;
    withTempDir('uring-probe-stdout-full-', (dir) => {
      const dev = mknod(dir, 'full', 'c', 1, 7);
      const fd = openSync(dev, 'w');
      try {
        for (const { name, args } of COMMANDS) {
          for (const extra of [[], ['-o', '-']]) {
            const r = runWithStdout([...args, ...extra], fd);
            assert.equal(r.status, 3, `${name} ${extra.join(' ')}: ${r.stderr}`);
            // the line names the result the command reached (its own exit code), which the 3 replaces
            assert.match(oneLine(r), /^uring-probe: cannot write to stdout \(ENOSPC\); the command's result was exit \d+ but its output is incomplete/);
          }
        }
      } finally {
        closeSync(fd);
      }
      assert.equal(nodeOf(dev), 'char 1:7');
    });
  });
});

describe('--output to a FIFO', () => {
  it('with a reader: the whole document arrives through the FIFO, which stays a FIFO', async (t) => {
    if (!requireCommand(t, 'mkfifo')) return;
    await withTempDir('uring-probe-out-fifo-', async (dir) => {
      const fifo = mkfifo(join(dir, 'fifo'));
      const got = join(dir, 'got.json');
      // The reader opens the FIFO without blocking, says so, and reads until the writer has come and gone.
      const reader = spawn(process.execPath, ['-e', `
        const fs = require('fs');
        const [fifo, out] = process.argv.slice(1);
        const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        process.stdout.write('ready\\n');
        const chunks = [], buf = Buffer.alloc(65536), end = Date.now() + 30000;
        let total = 0;
        for (;;) {
          let n = -1;
          try { n = fs.readSync(fd, buf, 0, buf.length, null); } catch (e) { if (e.code !== 'EAGAIN') throw e; }
          if (n > 0) { chunks.push(Buffer.from(buf.subarray(0, n))); total += n; continue; }
          if ((n === 0 && total > 0) || Date.now() > end) break;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        }
        fs.writeFileSync(out, Buffer.concat(chunks));
      `, fifo, got], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(reader, 'exit');
      await once(reader.stdout, 'data');
      const r = runCli(['gate', join(REPORTS, '6.18-compatible.json'), '--require', 'COOP_TASKRUN', '--json', '-o', fifo]);
      await exited;
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const doc = JSON.parse(readFileSync(got, 'utf8')) as { gate: { passed: boolean } };
      assert.equal(doc.gate.passed, true);
      assert.equal(nodeOf(fifo), 'fifo');
    });
  });

  it('without a reader: no hang, exit 3 and one line (ENXIO) naming the verdict; the FIFO stays', (t) => {
    if (!requireCommand(t, 'mkfifo')) return;
    withTempDir('uring-probe-out-fifo-', (dir) => {
      const fifo = mkfifo(join(dir, 'fifo'));
      const started = Date.now();
      const r = runCli(['check', '--json', '--no-bench', '-o', fifo], { timeoutMs: 30_000 });
      assert.equal(r.signal, null, 'not killed by the time bound');
      assert.equal(r.status, 3, r.stderr);
      assert.match(oneLine(r), new RegExp(`^uring-probe: cannot write --output ${escapeRe(fifo)}: nothing is reading the FIFO \\(ENXIO\\); the check's verdict was \\w+ \\(exit \\d\\) but its report is lost$`));
      assert.ok(Date.now() - started < 20_000);
      assert.equal(nodeOf(fifo), 'fifo');
      assert.deepEqual(readdirSync(dir), ['fifo']);
    });
  });

  it('writeOutput: a reader that never reads makes the write give up (EAGAIN) after the bound, not hang', (t) => {
    if (!requireCommand(t, 'mkfifo')) return;
    withTempDir('uring-probe-out-fifo-', (dir) => {
      const fifo = mkfifo(join(dir, 'fifo'));
      assert.throws(() => writeOutput(fifo, 'x'), { code: 'ENXIO' });
      const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      try {
        const started = Date.now();
        assert.throws(() => writeOutput(fifo, Buffer.alloc(1 << 20, 0x61), { fifoTimeoutMs: 300 }), { code: 'EAGAIN' });
        const took = Date.now() - started;
        assert.ok(took >= 300 && took < 5_000, `gave up after ${took} ms`);
      } finally {
        closeSync(reader);
      }
      assert.equal(nodeOf(fifo), 'fifo');
    });
  });
});

describe('--output to a regular file or a symlink', () => {
  it('an existing file is replaced atomically and keeps its mode (and its owner, as root)', (t) => {
    withTempDir('uring-probe-out-file-', (dir) => {
      const file = join(dir, 'gated.json');
      writeFileSync(file, 'old\n');
      chmodSync(file, 0o640);
      const owner = process.getuid?.() === 0 ? { uid: idOf('-u', 'nobody'), gid: idOf('-g', 'nobody') } : null;
      if (owner) chownSync(file, owner.uid, owner.gid);
      const r = runCli(['gate', join(REPORTS, '6.18-compatible.json'), '--require', 'COOP_TASKRUN', '--json', '-o', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { gate: { passed: boolean } }).gate.passed, true);
      const st = statSync(file);
      assert.equal(st.mode & 0o7777, 0o640);
      if (owner) assert.deepEqual({ uid: st.uid, gid: st.gid }, owner);
      else t.diagnostic('owner kept only as root; not root here');
      assert.deepEqual(readdirSync(dir), ['gated.json']);
    });
  });

  it('a chain of symlinks is followed to its file, a dangling one creates its target; the symlinks stay', () => {
    withTempDir('uring-probe-out-link-', (dir) => {
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'r.txt'), 'old\n');
      symlinkSync('real/r.txt', join(dir, 'second'));
      symlinkSync('second', join(dir, 'first'));
      symlinkSync('real/new.txt', join(dir, 'dangling'));
      const args = ['diff', join(REPORTS, '5.10-no-coop-taskrun.json'), join(REPORTS, '6.1-upgraded-from-5.10.json')];
      const baseline = runCli(args);
      for (const [link, target] of [['first', 'r.txt'], ['dangling', 'new.txt']] as const) {
        const r = runCli([...args, '-o', join(dir, link)]);
        assert.equal(r.status, baseline.status, r.stderr);
        assert.equal(readFileSync(join(dir, 'real', target), 'utf8'), baseline.stdout);
      }
      assert.deepEqual([nodeOf(join(dir, 'first')), nodeOf(join(dir, 'second')), nodeOf(join(dir, 'dangling'))], ['symlink', 'symlink', 'symlink']);
      assert.equal(readlinkSync(join(dir, 'first')), 'second');
      assert.deepEqual(readdirSync(join(dir, 'real')).sort(), ['new.txt', 'r.txt'], 'no temporary file left');
    });
  });

  it('every command writes -o FILE (nothing on stdout) and -o - to stdout, with the exit code of a plain run', () => {
    withTempDir('uring-probe-out-every-', (dir) => {
      for (const { name, args, stable } of COMMANDS) {
        const baseline = runCli(args);
        const file = join(dir, `${name.replace(/\W+/g, '-')}.out`);
        const toFile = runCli([...args, '--output', file]);
        assertExit(name, stable, toFile.status, baseline.status, toFile.stderr);
        assert.equal(toFile.stdout, '');
        // stdin carries a line that is no report: reading it as `-` would skip an input (fleet: +4)
        const toStdout = runCli([...args, '-o', '-'], { input: 'not a report\n' });
        assertExit(`${name} -o -`, stable, toStdout.status, baseline.status, toStdout.stderr);
        if (stable) assert.equal(toStdout.stderr, baseline.stderr);
        for (const text of [readFileSync(file, 'utf8'), toStdout.stdout]) {
          if (stable) assert.equal(text, baseline.stdout, name);
          else if (name.includes('prometheus')) assert.match(text, /^# HELP /m);
          else assert.doesNotThrow(() => JSON.parse(text), name);
        }
      }
    });
  });
});

describe('--output that is refused before any work (exit 64)', () => {
  it('a directory, a symlink to one, a socket, a block device, a symlink loop: one line naming what it is, for every command', async (t) => {
    await withTempDir('uring-probe-out-refused-', async (dir) => {
      mkdirSync(join(dir, 'dir'));
      symlinkSync('dir', join(dir, 'to-dir'));
      symlinkSync('loop-b', join(dir, 'loop-a'));
      symlinkSync('loop-a', join(dir, 'loop-b'));
      const server = createServer();
      server.listen(join(dir, 'sock'));
      await once(server, 'listening');
      try {
        const cases: Array<[string, RegExp]> = [
          ['dir', /it is a directory, which --output never writes \(EISDIR\)/],
          ['to-dir', /it is a directory, which --output never writes \(EISDIR\)/],
          ['sock', /it is a socket, which --output never writes/],
          ['loop-a', /too many symbolic links \(ELOOP\)/],
        ];
        if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v mknod']).status === 0) {
          mknod(dir, 'blk', 'b', 7, 0);
          cases.push(['blk', /it is a block device, which --output never writes/]);
        } else t.diagnostic('block device case left out: needs root and mknod');
        // the default bench runs for tens of seconds: the time bound shows it never started
        const commands = [...COMMANDS, { name: 'bench (default plan)', args: ['bench'], json: false }];
        for (const [name, what] of cases) {
          for (const c of commands) {
            const r = runCli([...c.args, '-o', join(dir, name)], { timeoutMs: 15_000 });
            assert.equal(r.status, 64, `${c.name} -o ${name}: ${r.stderr}`);
            // JSON mode: bin's error document on stdout instead of the line (and nothing else)
            const line = c.json ? usageOfDocument(r) : (assert.equal(r.stdout, ''), oneLine(r));
            assert.match(line, new RegExp(`^uring-probe: cannot write --output ${escapeRe(join(dir, name))}: `));
            assert.match(line, what);
            if (!c.json) assert.match(line, /\(see --help\)$/);
          }
        }
        assert.deepEqual(readdirSync(join(dir, 'dir')), []);
        assert.equal(nodeOf(join(dir, 'to-dir')), 'symlink');
      } finally {
        server.close();
      }
    });
  });

  it('check refuses the output before it resolves the service context (and so before any probe)', () => {
    withTempDir('uring-probe-out-order-', (dir) => {
      const r = runCli(['check', '--no-bench', '--user', 'no-such-user-uring-probe', '-o', dir]);
      assert.equal(r.status, 64);
      assert.match(oneLine(r), /cannot write --output .*it is a directory/);
    });
  });
});

describe('bench --format and colour', () => {
  it('bench takes --format human|json, --json is its short form, and the two cannot contradict', () => {
    const json = runCli([...QUICK_BENCH, '--format', 'json']);
    assert.equal((JSON.parse(json.stdout) as { kind: string }).kind, 'bench');
    const short = runCli([...QUICK_BENCH, '--json']);
    assert.equal((JSON.parse(short.stdout) as { kind: string }).kind, 'bench');
    const human = runCli([...QUICK_BENCH, '--format', 'human']);
    assert.doesNotMatch(human.stdout.trimStart(), /^\{/);
    assert.match(human.stdout, /syscall/);
    const both = runCli([...QUICK_BENCH, '--json', '--format', 'human']);
    assert.equal(both.status, 64);
    assert.match(usageOfDocument(both), /--json contradicts --format human/);
  });

  it('on a terminal, the human output is coloured on stdout and plain in an --output file (diff)', (t) => {
    if (!requireCommand(t, 'script')) return;
    withTempDir('uring-probe-out-tty-', (dir) => {
      const file = join(dir, 'diff.txt');
      const diff = `${process.execPath} ${CLI_PATH} diff ${join(REPORTS, '5.10-no-coop-taskrun.json')} ${join(REPORTS, '6.1-upgraded-from-5.10.json')}`;
      const env = { ...process.env, TERM: 'xterm' } as NodeJS.ProcessEnv;
      delete env.NO_COLOR;
      delete env.FORCE_COLOR;
      const onTty = spawnSync('script', ['-qec', diff, '/dev/null'], { encoding: 'utf8', env, cwd: ROOT });
      assert.match(onTty.stdout, ANSI, 'coloured on a terminal (else this test shows nothing)');
      const toFile = spawnSync('script', ['-qec', `${diff} -o ${file}`, '/dev/null'], { encoding: 'utf8', env, cwd: ROOT });
      assert.equal(toFile.status, 0, toFile.stdout);
      assert.doesNotMatch(readFileSync(file, 'utf8'), ANSI);
    });
  });
});

describe('helpers of --output', () => {
  it('stdinDashGiven: a lone - is stdin, the - of -o - / --output - is stdout', () => {
    assert.equal(stdinDashGiven(['fleet', '-']), true);
    assert.equal(stdinDashGiven(['fleet', 'dir', '-o', '-']), false);
    assert.equal(stdinDashGiven(['fleet', '--output', '-', '-']), true);
    assert.equal(stdinDashGiven(['fleet', '--', '-']), true);
  });

  it('removePendingTemporaries() unlinks the temporary file of a write in progress, which then fails and leaves nothing', () => {
    withTempDir('uring-probe-pending-', (dir) => {
      const seen: string[][] = [];
      // The writer reads the data's length once its temporary file is open: stand in for a signal there.
      class Interrupting extends Uint8Array {
        override get length(): number {
          if (seen.length === 0) {
            seen.push(readdirSync(dir));
            removePendingTemporaries();
            seen.push(readdirSync(dir));
          }
          return super.length;
        }
      }
      assert.throws(() => writeFileAtomic(join(dir, 'r.json'), new Interrupting(Buffer.from('{}\n'))), { code: 'ENOENT' });
      assert.equal(seen[0]!.length, 1);
      assert.match(seen[0]![0]!, /^\.r\.json\.\d+\.[0-9a-f]+\.tmp$/);
      assert.deepEqual(seen[1], []);
      assert.deepEqual(readdirSync(dir), []);
      removePendingTemporaries(); // nothing pending: a no-op
      writeFileAtomic(join(dir, 'r.json'), 'ok\n');
      removePendingTemporaries();
      assert.equal(readFileSync(join(dir, 'r.json'), 'utf8'), 'ok\n');
    });
  });
});

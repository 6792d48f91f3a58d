// Fleet NDJSON: files of any size are streamed line by line (memory bounded), a line past the cap
// is one skipped input `FILE:LINE` and the roll-up goes on; stdin gives the same roll-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statfsSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { boundedLines, type BoundedLine } from '../src/bounded-read.js';
import { MAX_NDJSON_LINE_BYTES } from '../src/fleet/inputs.js';
import type { FleetDocument } from '../src/fleet/render.js';
import { schemaValidator } from '../src/reader.js';
import { runCli } from './helpers/launcher.js';
import { CLI_PATH, REPORTS, withTempDir } from './helpers/paths.js';

const MiB = 1024 * 1024;
const FIXTURES = ['6.18-compatible.json', '6.1-docker-seccomp.json', '5.10-no-coop-taskrun.json', '6.8-seccomp-kill-sigsys.json'];

async function collect(chunks: Array<Buffer | string>, cap: number): Promise<BoundedLine[]> {
  const out: BoundedLine[] = [];
  for await (const l of boundedLines(chunks, cap)) out.push(l);
  return out;
}

test('boundedLines: lines across chunks, CRLF, no final newline; a line past the cap is reported with its length, not held', async () => {
  // cap 5: "abcde" fits exactly, "abcdef" does not; pieces split across chunks either way
  const lines = await collect(['ab', 'cde\nxy', 'z\r\n\nabc', 'def\n', '123456789', '0\nlast'], 5);
  assert.deepEqual(lines, [
    { line: 1, text: 'abcde' },
    { line: 2, text: 'xyz' }, // a CR before the newline is dropped (it counts against the cap)
    { line: 3, text: '' },
    { line: 4, text: null, bytes: 6 },
    { line: 5, text: null, bytes: 10 },
    { line: 6, text: 'last' },
  ]);
  assert.deepEqual(await collect(['abcdefgh'], 5), [{ line: 1, text: null, bytes: 8 }], 'an over-long last line without a newline');
  assert.deepEqual(await collect([], 5), []);
  assert.deepEqual(await collect(['a\n'], 5), [{ line: 1, text: 'a' }], 'a final newline ends the last line; no empty line after it');
  // UTF-8 split between chunks is decoded whole
  const euro = Buffer.from('€\n');
  assert.deepEqual(await collect([euro.subarray(0, 1), euro.subarray(1)], 5), [{ line: 1, text: '€' }]);
});

test('an NDJSON FIFO or device is refused with its kind (and does not block); the other inputs count', () => {
  withTempDir('uring-probe-ndjson-', (dir) => {
    const fifo = join(dir, 'pipe.ndjson');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    const zero = join(dir, 'zero.ndjson');
    symlinkSync('/dev/zero', zero);
    const run = runCli(['fleet', fifo, zero, join(REPORTS, FIXTURES[0]!), '--format', 'json'], { timeoutMs: 30_000 });
    assert.equal(run.status, 4, run.stderr);
    const doc = JSON.parse(run.stdout) as FleetDocument;
    assert.equal(doc.inputs.hosts, 1);
    const why = Object.fromEntries(doc.skipped.map((s) => [s.source, `${s.problem}: ${s.message}`]));
    assert.match(why[fifo] ?? '', /^unreadable: .*a FIFO, not a regular file/);
    assert.match(why[zero] ?? '', /^unreadable: .*a character device, not a regular file/);
  });
});

interface Measured {
  status: number | null;
  stdout: string;
  stderr: string;
  peakKiB: number;
  seconds: number;
  how: string;
}

/** Runs the CLI with `args` (stdin from `stdinFile`), with its peak RSS: /usr/bin/time when there, else VmHWM polled. */
function runMeasured(args: string[], stdinFile: string | null, dir: string): Promise<Measured> {
  const timeOut = join(dir, 'time.out');
  const useTime = existsSync('/usr/bin/time');
  const command = useTime ? '/usr/bin/time' : process.execPath;
  const argv = useTime ? ['-f', '%M', '-o', timeOut, process.execPath, CLI_PATH, ...args] : [CLI_PATH, ...args];
  const stdinFd = stdinFile === null ? 'ignore' : openSync(stdinFile, 'r');
  const started = process.hrtime.bigint();
  const child = spawn(command, argv, { stdio: [stdinFd, 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  if (typeof stdinFd === 'number') closeSync(stdinFd);
  let polled = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) polled = Math.max(polled, Number(m[1]));
    } catch {
      // exited
    }
  }, 50);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(poll);
      clearTimeout(killer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const peakKiB = useTime ? Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop()) : polled;
      resolve({
        status,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        peakKiB,
        seconds,
        how: useTime ? '/usr/bin/time -f %M' : 'VmHWM polled every 50 ms',
      });
    });
  });
}

test('an NDJSON file over 512 MiB is streamed: every report rolls up, an over-long line is skipped by number, memory stays bounded; stdin gives the same', async (t) => {
  await withTempDir('uring-probe-ndjson-', async (dir) => {
    const tmpFree = statfsSync(dir).bavail * statfsSync(dir).bsize;
    if (tmpFree < 2048 * MiB) {
      t.skip(`only ${Math.round(tmpFree / MiB)} MiB free in ${dir} (need 2 GiB)`);
      return;
    }
    const file = join(dir, 'fleet.ndjson');
    const bases = FIXTURES.map((f) => JSON.parse(readFileSync(join(REPORTS, f), 'utf8')) as { host: { hostname: string; machineIdHash: string | null } });
    const REPORTS_N = 600;
    const LONG_AT = 300; // the over-long line comes after this many reports
    const padding = Buffer.alloc(MiB, ' '); // a blank line of 1 MiB after each report: the file passes 512 MiB quickly
    padding[padding.length - 1] = 0x0a;
    const started = Date.now();
    const fd = openSync(file, 'w');
    let line = 0;
    let longLine = 0;
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = (): void => {
        if (pendingBytes > 0) writeSync(fd, Buffer.concat(pending, pendingBytes));
        pending = [];
        pendingBytes = 0;
      };
      const put = (b: Buffer): void => {
        pending.push(b);
        pendingBytes += b.length;
        if (pendingBytes >= 16 * MiB) flush();
      };
      for (let i = 0; i < REPORTS_N; i += 1) {
        if (i === LONG_AT) {
          flush();
          // one line just past the cap (one report file's cap), no newline inside it
          const long = Buffer.alloc(MAX_NDJSON_LINE_BYTES + MiB, 'x');
          long[long.length - 1] = 0x0a;
          writeSync(fd, long);
          line += 1;
          longLine = line;
        }
        const base = bases[i % bases.length]!;
        base.host.hostname = `host-${String(i).padStart(4, '0')}`;
        base.host.machineIdHash = i.toString(16).padStart(16, '0');
        put(Buffer.from(`${JSON.stringify(base)}\n`));
        put(padding);
        line += 2;
      }
      flush();
    } finally {
      closeSync(fd);
    }
    const size = statSync(file).size;
    assert.ok(size > 512 * MiB, `the file is ${size} bytes`);
    t.diagnostic(`wrote ${Math.round(size / MiB)} MiB (${REPORTS_N} reports, ${line} lines) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const validate = schemaValidator('fleetRollup');
    const check = (run: Measured, source: string, what: string): FleetDocument => {
      assert.equal(run.status, 6, `${what}: exit 6 (failing hosts + one skipped input): ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      const doc = JSON.parse(run.stdout) as FleetDocument;
      assert.ok(validate(doc), `fleetRollup schema: ${JSON.stringify(validate.errors)}`);
      assert.deepEqual(doc.inputs, { documents: REPORTS_N + 1, hosts: REPORTS_N, duplicates: 0, skipped: 1 }, what);
      assert.equal(doc.skipped.length, 1);
      assert.equal(doc.skipped[0]!.source, `${source}:${longLine}`);
      assert.equal(doc.skipped[0]!.problem, 'unreadable');
      assert.match(doc.skipped[0]!.message, new RegExp(`a line of ${MAX_NDJSON_LINE_BYTES + MiB - 1} bytes, over the ${MAX_NDJSON_LINE_BYTES / MiB} MiB cap`));
      // the reports before and after the long line count (every other fixture is a failing host)
      const failing = doc.failing.map((h) => Number(h.hostname.slice('host-'.length)));
      assert.equal(failing.length, REPORTS_N / 2);
      assert.ok(failing.some((i) => i < LONG_AT) && failing.some((i) => i >= LONG_AT) && failing.includes(REPORTS_N - 1), 'failing hosts from before and after the long line');
      t.diagnostic(`${what}: peak RSS ${Math.round(run.peakKiB / 1024)} MiB (${run.how}), ${run.seconds.toFixed(1)} s, for a ${Math.round(size / MiB)} MiB file`);
      assert.ok(run.peakKiB > 0, 'a peak was measured');
      assert.ok(run.peakKiB < 300 * 1024, `${what}: peak RSS ${Math.round(run.peakKiB / 1024)} MiB, not bounded (file: ${Math.round(size / MiB)} MiB)`);
      return doc;
    };

    const fromFile = check(await runMeasured(['fleet', file, '--format', 'json'], null, dir), file, `fleet ${file}`);
    const fromStdin = check(await runMeasured(['fleet', '-', '--format', 'json'], file, dir), 'stdin', 'fleet - < file');
    const strip = (d: FleetDocument): string => JSON.stringify({ ...d, generatedAt: null, skipped: null, failing: d.failing.map((h) => ({ ...h, source: h.source.replace(/^.*:/, '') })) });
    assert.equal(strip(fromStdin), strip(fromFile), 'stdin and the file give the same roll-up');
  });
});

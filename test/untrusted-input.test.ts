// Reports are untrusted input: control characters in hostnames and summaries never reach the
// terminal or a CSV cell raw, a CSV cell cannot start a formula, and a UTF-8 BOM is accepted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { csvSafeText, escapeControls, terminalSafe } from '../src/report/terminal-safe.js';
import type { Report } from '../src/types.js';
import { nobodyReadableCli, runCli } from './helpers/launcher.js';
import { CLI_PATH, reportFixture, withTempDir } from './helpers/paths.js';
import { asUser, requireRoot } from './helpers/require.js';

const EVIL_HOST = 'web\u001b]0;pwned\u0007-01\u0000\u001b[2J\u009b31m';
/** Any control character except the newline that ends lines. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function evilReport(): Report {
  const report = reportFixture('6.18-compatible.json');
  report.host.hostname = EVIL_HOST;
  const loopback = report.probes.find((p) => p.id === 'loopback')!;
  loopback.summary = `bad\u001b[8mhidden\u001b[0m`;
  loopback.status = 'fail';
  loopback.reason = 'DATA_MISMATCH';
  report.verdict = 'incompatible'; // listed among the failing hosts of `fleet`
  report.exitCode = 2;
  return report;
}

describe('untrusted text in reports', () => {
  it('escapeControls writes every C0/C1 control and DEL as an escape; terminalSafe reaches keys and nested strings', () => {
    assert.equal(escapeControls('a\u001bb\u0007c\u0000d\u007fe\u009bf\ng'), 'a\\x1bb\\x07c\\x00d\\x7fe\\x9bf\\ng');
    assert.deepEqual(terminalSafe({ 'k\u001b': ['x\u0007', 1, null, { y: 'z\u0000' }] }), { 'k\\x1b': ['x\\x07', 1, null, { y: 'z\\x00' }] });
    for (const [input, out] of [['=1+2', "'=1+2"], ['+cmd', "'+cmd"], ['-x', "'-x"], ['@SUM(A1)', "'@SUM(A1)"], ['host', 'host']]) {
      assert.equal(csvSafeText(input!), out);
    }
  });

  it('gate, diff and fleet (human and CSV) print no raw control character from a report', () => {
    withTempDir('uring-probe-untrusted-', (dir) => {
      const file = join(dir, 'evil.json');
      writeFileSync(file, JSON.stringify(evilReport()));
      const other = join(dir, 'other.json');
      const second = evilReport();
      second.startedAt = '2026-11-26T16:00:00.000Z';
      writeFileSync(other, JSON.stringify(second));
      const runs = {
        gate: runCli(['gate', file, '--require', 'COOP_TASKRUN']),
        diff: runCli(['diff', file, other]),
        fleet: runCli(['fleet', dir]),
        csv: runCli(['fleet', '--format', 'csv', dir]),
      };
      for (const [name, run] of Object.entries(runs)) {
        assert.ok(run.status !== null && run.status < 64, `${name}: ${run.stderr}`);
        const text = name === 'csv' ? run.stdout.replace(/\r\n/g, '\n') : run.stdout; // RFC 4180 ends rows with CRLF
        assert.doesNotMatch(text, RAW_CONTROL, `${name} printed a raw control character`);
        assert.doesNotMatch(run.stderr, RAW_CONTROL, `${name} printed a raw control character on stderr`);
      }
      assert.match(runs.gate.stdout, /web\\x1b\]0;pwned\\x07-01\\x00/);
      assert.match(runs.fleet.stdout, /web\\x1b/);
      assert.match(runs.csv.stdout, /web\\x1b/);
    });
  });

  it('JSON outputs (gate, diff, fleet --json) carry DEL and C1 controls as \\u escapes, not raw (JSON.stringify leaves them raw)', () => {
    withTempDir('uring-probe-untrusted-json-', (dir) => {
      const report = evilReport(); // a failing host, so that fleet lists it by name
      report.host.hostname = 'web\u009b2J\u007f-01';
      const file = join(dir, 'c1.json');
      writeFileSync(file, JSON.stringify(report));
      for (const args of [['gate', file, '--require', 'CLAMP', '--json'], ['diff', file, file, '--json'], ['fleet', file, '--json']]) {
        const run = runCli(args);
        assert.ok(run.status !== null && run.status < 64, `${args[0]}: ${run.stderr}`);
        assert.doesNotMatch(run.stdout, /[\u007f-\u009f]/, `${args[0]} --json printed a raw C1/DEL`);
        assert.match(run.stdout, /web\\u009b2J\\u007f-01/, args[0]);
        assert.ok(JSON.stringify(JSON.parse(run.stdout)).includes('web\u009b2J\u007f-01'), 'the same value once parsed');
      }
    });
  });

  it('a CSV cell from a report that starts like a formula is quoted with an apostrophe', () => {
    withTempDir('uring-probe-csv-formula-', (dir) => {
      const report = reportFixture('6.18-compatible.json');
      report.host.hostname = '=HYPERLINK("http://x","y")';
      writeFileSync(join(dir, 'r.json'), JSON.stringify(report));
      const run = runCli(['fleet', '--format', 'csv', dir]);
      const row = run.stdout.split('\r\n')[1]!;
      assert.ok(row.startsWith(`"'=HYPERLINK(""http://x"",""y"")"`), row);
    });
  });

  it('a report with a UTF-8 byte order mark is read (gate and fleet)', () => {
    withTempDir('uring-probe-bom-', (dir) => {
      const file = join(dir, 'bom.json');
      writeFileSync(file, `\ufeff${JSON.stringify(reportFixture('6.18-compatible.json'))}`);
      const gate = runCli(['gate', file, '--require', 'COOP_TASKRUN']);
      assert.equal(gate.status, 0, gate.stdout + gate.stderr);
      const fleet = runCli(['fleet', '--json', dir]);
      assert.equal(fleet.status, 0, fleet.stderr);
      assert.equal((JSON.parse(fleet.stdout) as { skipped: unknown[] }).skipped.length, 0);
    });
  });
});

describe('fleet and reports dated in the future', () => {
  it('a report dated in the year 9999 is skipped with its reason and does not hide the real one', () => {
    withTempDir('uring-probe-future-', (dir) => {
      const real = reportFixture('6.18-compatible.json');
      const loopback = real.probes.find((p) => p.id === 'loopback')!;
      loopback.status = 'fail';
      loopback.reason = 'DATA_MISMATCH';
      real.verdict = 'incompatible';
      real.exitCode = 2;
      writeFileSync(join(dir, 'real.json'), JSON.stringify(real));
      const forged = reportFixture('6.18-compatible.json'); // same machine, says compatible
      forged.startedAt = '9999-01-01T00:00:00.000Z';
      writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged));
      const run = runCli(['fleet', '--json', dir]);
      const doc = JSON.parse(run.stdout) as { skipped: Array<{ source: string; problem: string; message: string }>; byVerdict: Record<string, number> };
      assert.deepEqual(doc.skipped.map((s) => [s.source.endsWith('forged.json'), s.problem]), [[true, 'future-date']]);
      assert.match(doc.skipped[0]!.message, /dated 9999-01-01T00:00:00\.000Z, more than a day after this roll-up/);
      assert.equal(doc.byVerdict.incompatible, 1, JSON.stringify(doc.byVerdict));
      assert.equal(doc.byVerdict.compatible ?? 0, 0, 'the forged report did not count');
    });
  });
});

describe('a report\'s own verdict field is not trusted', () => {
  it('fleet counts a report that says compatible with a failed loopback as incompatible, as gate does', () => {
    withTempDir('uring-probe-verdict-', (dir) => {
      const report = reportFixture('6.18-compatible.json');
      const loopback = report.probes.find((p) => p.id === 'loopback')!;
      loopback.status = 'fail';
      loopback.reason = 'DATA_MISMATCH';
      assert.equal(report.verdict, 'compatible', 'the report still claims compatible');
      const file = join(dir, 'liar.json');
      writeFileSync(file, JSON.stringify(report));
      const fleet = runCli(['fleet', '--json', dir]);
      const doc = JSON.parse(fleet.stdout) as { byVerdict: Record<string, number> };
      assert.equal(doc.byVerdict.incompatible, 1, JSON.stringify(doc.byVerdict));
      assert.equal(fleet.status, 2, fleet.stderr);
      const gate = runCli(['gate', file, '--require', 'COOP_TASKRUN']);
      assert.equal(gate.status, 2, gate.stdout);
    });
  });
});

describe('inputs that are not regular files, or too large', () => {
  it('a FIFO and a symlink to /dev/zero in a fleet directory are skipped with their reason; the roll-up goes on', () => {
    withTempDir('uring-probe-special-', (dir) => {
      writeFileSync(join(dir, 'good.json'), JSON.stringify(reportFixture('6.18-compatible.json')));
      const mk = spawnSync('mkfifo', [join(dir, 'pipe.json')]);
      assert.equal(mk.status, 0, 'mkfifo');
      symlinkSync('/dev/zero', join(dir, 'zero.json'));
      const run = runCli(['fleet', '--json', dir], { timeoutMs: 30_000 });
      assert.equal(run.signal, null, 'fleet did not hang');
      const doc = JSON.parse(run.stdout) as { skipped: Array<{ source: string; message: string }>; byVerdict: Record<string, number> };
      const why = Object.fromEntries(doc.skipped.map((s) => [s.source.slice(dir.length + 1), s.message]));
      assert.match(why['pipe.json'] ?? '', /a FIFO, not a regular file/);
      assert.match(why['zero.json'] ?? '', /a character device, not a regular file/);
      assert.equal(doc.byVerdict.compatible, 1);
    });
  });

  it('gate refuses a FIFO and /dev/zero as the report (65), and stdin from /dev/zero stops at the cap', () => {
    withTempDir('uring-probe-fifo-', (dir) => {
      const fifo = join(dir, 'r.json');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const run = runCli(['gate', fifo, '--require', 'COOP_TASKRUN'], { timeoutMs: 30_000 });
      assert.equal(run.status, 65, run.stderr);
      assert.match(run.stderr, /a FIFO, not a regular file/);
      const zero = runCli(['gate', '/dev/zero', '--require', 'COOP_TASKRUN'], { timeoutMs: 30_000 });
      assert.equal(zero.status, 65, zero.stderr);
      assert.match(zero.stderr, /a character device, not a regular file/);
    });
    const stdin = spawnSync('sh', ['-c', `exec "${process.execPath}" "${CLI_PATH}" gate - --require COOP_TASKRUN < /dev/zero`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(stdin.status, 65, stdin.stderr);
    assert.match(stdin.stderr, /stdin is larger than 8 MiB/);
    assert.equal(stdin.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  it('fleet as a non-root user skips an unreadable subdirectory with its reason and rolls up the rest', (t) => {
    if (!requireRoot(t, 'switches to uid 65534 to be refused')) return;
    withTempDir('uring-probe-eacces-', (dir) => {
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'good.json'), JSON.stringify(reportFixture('6.18-compatible.json')));
      chmodSync(join(dir, 'good.json'), 0o644);
      mkdirSync(join(dir, 'private'), { mode: 0o700 });
      writeFileSync(join(dir, 'private', 'r.json'), '{}');
      const { cliPath, stagedRoot } = nobodyReadableCli(asUser());
      try {
        const run = runCli(['fleet', '--json', dir], { prefix: asUser(), cliPath });
        const doc = JSON.parse(run.stdout) as { skipped: Array<{ source: string; message: string }>; byVerdict: Record<string, number> };
        assert.deepEqual(doc.skipped.map((s) => s.source), [join(dir, 'private')], run.stderr);
        assert.match(doc.skipped[0]!.message, /cannot list this directory \(permission denied\)/);
        assert.equal(doc.byVerdict.compatible, 1);
      } finally {
        if (stagedRoot) rmSync(stagedRoot, { recursive: true, force: true });
      }
    });
  });
});

describe('deeply nested documents', () => {
  it('a 16 KB report nested 4,000 levels deep is refused with its depth (gate 65); in fleet it is one skipped input', () => {
    withTempDir('uring-probe-deep-', (dir) => {
      const report = reportFixture('6.18-compatible.json') as unknown as Record<string, unknown>;
      let deep: unknown = 1;
      for (let i = 0; i < 4000; i++) deep = { a: deep };
      (report.probes as Array<{ facts: Record<string, unknown> }>)[0]!.facts.deep = deep;
      const file = join(dir, 'deep.json');
      writeFileSync(file, JSON.stringify(report));
      writeFileSync(join(dir, 'good.json'), JSON.stringify(reportFixture('6.18-compatible.json')));
      const gate = runCli(['gate', file, '--require', 'COOP_TASKRUN']);
      assert.equal(gate.status, 65, gate.stderr);
      assert.match(gate.stderr, /nested 400\d levels deep/);
      assert.doesNotMatch(gate.stderr, /Maximum call stack/);
      const fleet = runCli(['fleet', '--json', dir]);
      const doc = JSON.parse(fleet.stdout) as { skipped: Array<{ source: string; problem: string }>; byVerdict: Record<string, number> };
      assert.deepEqual(doc.skipped.map((s) => s.problem), ['malformed-json']);
      assert.equal(doc.byVerdict.compatible, 1, 'the roll-up went on');
    });
  });
});

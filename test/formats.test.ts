// Output formats checked by real consumers: JUnit XML by fast-xml-parser, Prometheus text by a parser and promtool; atomic writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { readReportFile } from '../src/reader.js';
import { renderJunit } from '../src/report/junit.js';
import { renderPrometheus } from '../src/report/prometheus.js';
import { renderReport } from '../src/report/render.js';
import { writeFileAtomic } from '../src/report/atomic-write.js';
import { applyGate, gateOnNames } from '../src/gate/evaluate.js';
import type { Report } from '../src/types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'uring-probe.js');
const REPORTS = join(ROOT, 'fixtures', 'reports');

interface PromSample { labels?: Record<string, string>; value: string }
interface PromFamily { name: string; help: string; type: string; metrics: PromSample[] }
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];

function fixture(name: string): Report {
  const read = readReportFile(join(REPORTS, name));
  if (!read.ok) throw new Error(`${name}: ${read.message}`);
  return read.report;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** promtool from Debian's prometheus package; CI installs it (a missing promtool fails the test). */
function promtoolCheck(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ok(!r.error, `promtool is required (apt-get install prometheus): ${r.error?.message}`);
  assert.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testcase', 'property', 'testsuite'].includes(name) });

interface JunitCase { name: string; classname: string; time: string; failure?: { message: string; type: string; '#text'?: string }; skipped?: { message: string }; 'system-out'?: string }

function junitCases(text: string): { suites: Record<string, string>; suite: Record<string, unknown>; cases: JunitCase[] } {
  const doc = xml.parse(text, true) as { testsuites: Record<string, unknown> & { testsuite: Array<Record<string, unknown> & { testcase: JunitCase[] }> } };
  assert.ok(doc.testsuites, 'a <testsuites> root');
  assert.equal(doc.testsuites.testsuite.length, 1);
  const suite = doc.testsuites.testsuite[0]!;
  return { suites: doc.testsuites as unknown as Record<string, string>, suite, cases: suite.testcase };
}

test('junit: one testcase per probe; fail -> <failure type=REASON>, skip -> <skipped>, counts add up', () => {
  const report = fixture('6.1-docker-seccomp.json');
  const text = renderJunit(report);
  const { suites, suite, cases } = junitCases(text);
  assert.equal(cases.length, report.probes.length);
  for (const p of report.probes) {
    const c = cases.find((x) => x.name.startsWith(`${p.id}: `));
    assert.ok(c, `testcase for ${p.id}`);
    if (p.status === 'fail') {
      assert.equal(c.failure?.type, p.reason);
      assert.match(c.failure?.message ?? '', new RegExp(`^${p.reason}: `));
    } else if (p.status === 'skip') {
      assert.ok(c.skipped, `${p.id} skipped`);
      assert.match(c.skipped.message, new RegExp(`^${p.reason}: `));
    } else {
      assert.equal(c.failure, undefined);
    }
  }
  const fails = report.probes.filter((p) => p.status === 'fail').length;
  const skips = report.probes.filter((p) => p.status === 'skip').length;
  assert.equal(Number(suite['failures']), fails);
  assert.equal(Number(suite['skipped']), skips);
  assert.equal(Number(suite['tests']), cases.length);
  assert.equal(Number(suites['tests']), cases.length);
  assert.ok(fails >= 1 && skips >= 1, 'the fixture exercises both');
});

test('junit: a gated report adds a gate testcase that fails with each unmet requirement and what the host has', () => {
  const report = fixture('5.10-no-coop-taskrun.json');
  const gated = applyGate(report, gateOnNames(report, ['COOP_TASKRUN', 'op:SEND_ZC', 'SINGLE_MMAP']));
  const { suite, cases } = junitCases(renderJunit(gated));
  const gate = cases.find((c) => c.name.startsWith('gate: '));
  assert.ok(gate?.failure, 'gate testcase fails');
  assert.equal(gate.failure.type, 'GATE_UNMET');
  assert.match(gate.failure['#text'] ?? '', /COOP_TASKRUN: have COOP_TASKRUN refused with EINVAL/);
  assert.match(gate.failure['#text'] ?? '', /op:SEND_ZC: have SEND_ZC is not supported/);
  assert.doesNotMatch(gate.failure['#text'] ?? '', /SINGLE_MMAP/);
  assert.equal(Number(suite['failures']), 1);
  // warn probes pass, with the reason in their output
  const warn = cases.find((c) => c.name.startsWith('ring-setup: '));
  assert.match(warn?.['system-out'] ?? '', /^WARN FLAGS_FALLBACK: /);
});

test('junit: markup and control characters in facts cannot break the XML', () => {
  const report = structuredClone(fixture('6.1-docker-seccomp.json'));
  report.host.hostname = 'a<b>&"c\'';
  const at = report.probes.findIndex((p) => p.id === 'ring-setup');
  report.probes[at]!.summary = 'refused <EPERM> & "quoted" \u0001 bell\u0007';
  const { suite, cases } = junitCases(renderJunit(report));
  assert.equal(suite['hostname'], 'a<b>&"c\'');
  assert.match(cases[at]!.failure?.message ?? '', /refused <EPERM> & "quoted" \uFFFD bell\uFFFD/);
});

test('prometheus: a real parser reads every family; one-hot verdict and probe status; promtool accepts it', () => {
  for (const name of ['6.18-compatible.json', '5.10-no-coop-taskrun.json', '6.1-docker-seccomp.json']) {
    const report = fixture(name);
    const text = renderPrometheus(report);
    const families = parsePrometheus(text);
    const family = (n: string): PromFamily => {
      const f = families.find((x) => x.name === n);
      assert.ok(f, `${name}: family ${n}`);
      return f;
    };
    const verdict = family('uring_probe_verdict');
    assert.equal(verdict.type, 'GAUGE');
    assert.deepEqual(verdict.metrics.filter((m) => m.value === '1').map((m) => m.labels?.['verdict']), [report.verdict]);
    assert.equal(family('uring_probe_exit_code').metrics[0]!.value, String(report.exitCode));
    const status = family('uring_probe_probe_status');
    for (const p of report.probes) {
      const on = status.metrics.filter((m) => m.labels?.['probe'] === p.id && m.value === '1');
      assert.deepEqual(on.map((m) => m.labels?.['status']), [p.status], `${name} ${p.id}`);
    }
    promtoolCheck(text);
  }
});

test('prometheus: feature bits, setup flags, opcodes, ring entries and throughput of a degraded 5.10 host', () => {
  const families = parsePrometheus(renderPrometheus(fixture('5.10-no-coop-taskrun.json')));
  const value = (n: string, labels: Record<string, string> = {}): string | undefined =>
    families.find((f) => f.name === n)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
  assert.equal(value('uring_probe_feature', { feature: 'SINGLE_MMAP' }), '1');
  assert.equal(value('uring_probe_feature', { feature: 'EXT_ARG' }), '0');
  assert.equal(value('uring_probe_setup_flag', { flag: 'CLAMP' }), '1');
  assert.equal(value('uring_probe_setup_flag', { flag: 'COOP_TASKRUN' }), '0');
  assert.equal(value('uring_probe_opcode', { op: 'SENDMSG' }), '1');
  assert.equal(value('uring_probe_opcode', { op: 'SEND_ZC' }), '0');
  assert.equal(value('uring_probe_iowq_max_workers'), '0');
  assert.equal(value('uring_probe_multishot_recvmsg'), '0');
  assert.equal(value('uring_probe_ring_entries', { ring: 'send' }), '256');
  assert.equal(value('uring_probe_ring_setup_attempts', { ring: 'send' }), '2');
  assert.equal(value('uring_probe_throughput_packets_per_second', { mode: 'seed' }), '118000');
  assert.equal(value('uring_probe_throughput_ratio'), '0.69');
  assert.equal(value('uring_probe_probe_reason', { probe: 'worker-limit', reason: 'NO_WORKER_LIMIT' }), '1');
});

test('prometheus: label values with quotes, backslashes and newlines round-trip through the parser and promtool', () => {
  const report = structuredClone(fixture('6.18-compatible.json'));
  report.host.distribution = 'Weird "Linux" \\ edition\nsecond line';
  const text = renderPrometheus(report);
  const info = parsePrometheus(text).find((f) => f.name === 'uring_probe_info');
  assert.equal(info?.metrics[0]?.labels?.['distribution'], 'Weird "Linux" \\ edition\nsecond line');
  promtoolCheck(text);
});

test('renderReport dispatches every format and each ends with a newline', () => {
  const report = fixture('6.18-compatible.json');
  for (const format of ['human', 'json', 'junit', 'prometheus'] as const) {
    const text = renderReport(report, format, { color: false, verbose: false });
    assert.ok(text.endsWith('\n'), format);
    assert.ok(text.length > 100, format);
  }
  assert.deepEqual(JSON.parse(renderReport(report, 'json', { color: false, verbose: false })), report);
});

test('check --format prometheus: exit 0 whatever the verdict, text a parser and promtool accept', () => {
  const run = cli(['check', '--format', 'prometheus', '--no-bench']);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(parsePrometheus(run.stdout).some((f) => f.name === 'uring_probe_verdict'));
  promtoolCheck(run.stdout);
  // a failing gate still exits 0 in this mode (the timer never flaps); the gate is in the metrics
  const gated = cli(['check', '--format', 'prometheus', '--no-bench', '--require', 'op:NOT_AN_OP_BUT_LOOKS_LIKE_ONE']);
  assert.equal(gated.status, 64, 'an unknown requirement is a usage error even here');
  const unmet = cli(['check', '--format', 'prometheus', '--min-pps', '1000000000']);
  assert.equal(unmet.status, 0, unmet.stderr);
  const gate = parsePrometheus(unmet.stdout).find((f) => f.name === 'uring_probe_gate_passed');
  assert.equal(gate?.metrics[0]?.value, '0', 'a billion packets/s on loopback is unmet');
});

test('check --format junit: the XML parses and has a testcase per probe', () => {
  const run = cli(['check', '--format', 'junit', '--no-bench']);
  assert.ok(run.status !== null && [0, 1, 2, 3].includes(run.status), run.stderr);
  const json = cli(['check', '--json', '--no-bench']);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(junitCases(run.stdout).cases.length, report.probes.length);
});

// The node-exporter unit's own command line, run as its user: test/node-exporter.test.ts.

test('writeFileAtomic: a concurrent reader only ever sees a whole file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uring-atomic-'));
  const target = join(dir, 'report.json');
  const docs = ['a', 'b'].map((fill) => JSON.stringify({ fill, pad: fill.repeat(512 * 1024) }));
  writeFileAtomic(target, docs[0]!);
  // The reader runs in another process, re-reading the file as fast as it can while we rewrite it.
  const reader = spawn(process.execPath, ['-e', `
    const fs = require('fs'); let reads = 0, bad = 0; const end = Date.now() + 60000;
    process.stdin.on('data', () => { process.stdout.write(JSON.stringify({ reads, bad })); process.exit(0); });
    (function loop() { for (let i = 0; i < 20; i++) { try { JSON.parse(fs.readFileSync(${JSON.stringify(target)}, 'utf8')); } catch { bad++; } reads++; }
      if (Date.now() < end) setImmediate(loop); })();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  reader.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 150; i++) {
    writeFileAtomic(target, docs[i % 2]!);
    await new Promise((r) => setImmediate(r));
  }
  reader.stdin.write('stop\n');
  await new Promise((r) => reader.on('exit', r));
  const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
  assert.ok(reads > 0);
  assert.equal(bad, 0, `${bad} of ${reads} reads saw a partial file`);
  assert.deepEqual(readdirSync(dir), ['report.json'], 'no temporary files left');
  rmSync(dir, { recursive: true, force: true });
});

test('writeFileAtomic: a failed write leaves neither the target nor a temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uring-atomic-'));
  writeFileSync(join(dir, 'keep.json'), 'old');
  assert.throws(() => writeFileAtomic(join(dir, 'missing-dir', 'r.json'), 'x'), { code: 'ENOENT' });
  assert.throws(() => writeFileAtomic(dir, 'x'), (e: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(e.code ?? ''));
  assert.deepEqual(readdirSync(dir), ['keep.json']);
  assert.equal(readFileSync(join(dir, 'keep.json'), 'utf8'), 'old');
  rmSync(dir, { recursive: true, force: true });
});

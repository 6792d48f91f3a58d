// Fleet roll-up: verdicts, kernels, reasons, support matrix, percentiles, de-duplication, skipped inputs and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaValidator } from '../src/reader.js';
import { CSV_COLUMNS, type FleetDocument } from '../src/fleet/render.js';
import { runCli, type CliRun } from './helpers/launcher.js';
import { REPORTS, withTempDir } from './helpers/paths.js';
const GOOD = ['6.18-compatible.json', '6.1-docker-seccomp.json', '5.10-no-coop-taskrun.json', '6.1-upgraded-from-5.10.json', '6.8-seccomp-kill-sigsys.json'].map((f) => join(REPORTS, f));

const cli = (args: string[], input?: string): CliRun => runCli(args, { input });
function fleetJson(args: string[], input?: string): { status: number | null; doc: FleetDocument } {
  const run = cli(['fleet', ...args, '--format', 'json'], input);
  const doc = JSON.parse(run.stdout) as FleetDocument;
  const validate = schemaValidator('fleetRollup');
  assert.ok(validate(doc), `fleetRollup schema: ${JSON.stringify(validate.errors)}`);
  return { status: run.status, doc };
}

test('fleet rolls up hosts by verdict, kernel and reason; the newest report of a machine counts', () => {
  const { status, doc } = fleetJson(GOOD);
  assert.equal(status, 2, 'failing hosts, nothing skipped');
  assert.deepEqual(doc.inputs, { documents: 5, hosts: 4, duplicates: 1, skipped: 0 });
  // db-03 reported twice: degraded on 5.10 (older), compatible on 6.1 (newer) -> compatible counts
  assert.deepEqual(doc.byVerdict, { compatible: 2, degraded: 0, incompatible: 2, unknown: 0 });
  assert.deepEqual(doc.byKernel.map((k) => [k.kernelRelease, k.hosts]), [['6.1.0-18-amd64', 2], ['6.18.44-fc-v669', 1], ['6.8.0-1015-gcp', 1]]);
  assert.deepEqual(doc.byKernel[0]!.byVerdict, { compatible: 1, degraded: 0, incompatible: 1, unknown: 0 });
  const seccomp = doc.byReason.find((r) => r.reason === 'SECCOMP_BLOCKED');
  // memlock skips with the refusal's reason too: io_uring_setup was refused before any memory was charged
  assert.deepEqual(seccomp, { reason: 'SECCOMP_BLOCKED', hosts: 2, probes: ['memlock', 'ring-setup'] });
  assert.deepEqual(doc.failing.map((h) => [h.hostname, h.verdict]), [['k8s-node-3', 'incompatible'], ['web-07', 'incompatible']]);
  assert.match(doc.failing[1]!.reasons[0]!.summary, /EPERM/);
});

test('the support matrix counts hosts that have each flag, feature, op and capability among those measured', () => {
  const { doc } = fleetJson(GOOD);
  const row = (name: string) => doc.matrix.find((m) => m.name === name);
  // measured on the two hosts whose ring came up (vm on 6.18, db-03 on 6.1); the blocked hosts measured nothing
  assert.deepEqual(row('COOP_TASKRUN'), { kind: 'flag', name: 'COOP_TASKRUN', hosts: 2, measured: 2 });
  assert.deepEqual(row('NO_SQARRAY'), { kind: 'flag', name: 'NO_SQARRAY', hosts: 1, measured: 2 });
  assert.deepEqual(row('RECVSEND_BUNDLE'), { kind: 'feature', name: 'RECVSEND_BUNDLE', hosts: 1, measured: 2 });
  assert.deepEqual(row('op:SEND_ZC'), { kind: 'op', name: 'op:SEND_ZC', hosts: 2, measured: 2 });
  assert.deepEqual(row('op:BIND'), { kind: 'op', name: 'op:BIND', hosts: 1, measured: 2 });
  assert.deepEqual(row('multishot-recvmsg'), { kind: 'capability', name: 'multishot-recvmsg', hosts: 2, measured: 2 });
  // with the old 5.10 report instead of the 6.1 one, the matrix changes
  const old = fleetJson([GOOD[0]!, GOOD[2]!]).doc;
  assert.deepEqual(old.matrix.find((m) => m.name === 'COOP_TASKRUN'), { kind: 'flag', name: 'COOP_TASKRUN', hosts: 1, measured: 2 });
  assert.deepEqual(old.matrix.find((m) => m.name === 'IOWQ_MAX_WORKERS'), { kind: 'register', name: 'IOWQ_MAX_WORKERS', hosts: 1, measured: 2 });
});

test('throughput p5/p50/p95 are nearest-rank percentiles over the hosts that measured it', () => {
  const { doc } = fleetJson([GOOD[0]!, GOOD[2]!, GOOD[1]!]);
  // seed pps: 221884 (6.18, captured here), 118000 (5.10); the seccomp host has none
  assert.deepEqual(doc.throughput.seedPps, { hosts: 2, p5: 118000, p50: 118000, p95: 221884 });
  assert.deepEqual(doc.throughput.syscallPps, { hosts: 2, p5: 171000, p50: 171000, p95: 251575 });
  assert.equal(fleetJson([GOOD[1]!]).doc.throughput.seedPps, null);
});

test('malformed, truncated, foreign and unknown-version inputs are named, the rest is rolled up, exit code says so', () => {
  const { status, doc } = fleetJson([...GOOD, join(REPORTS, 'broken')]);
  assert.equal(status, 6, 'failing hosts (2) + skipped inputs (4)');
  assert.equal(doc.inputs.hosts, 4);
  const problems = Object.fromEntries(doc.skipped.map((s) => [s.source.replace(/.*\//, ''), s.problem]));
  assert.deepEqual(problems, {
    'bad-status.json': 'schema-invalid',
    'empty.json': 'empty',
    'error-document.json': 'error-document',
    'foreign-package.json': 'foreign',
    'not-json.json': 'malformed-json',
    'schema-v2.json': 'unsupported-version',
    'truncated.json': 'truncated',
  });
  const missing = fleetJson([GOOD[0]!, join(REPORTS, 'no-such-file.json')]);
  assert.equal(missing.status, 4);
  assert.match(missing.doc.skipped[0]!.message, /no such file/);
  const human = cli(['fleet', GOOD[0]!, join(REPORTS, 'broken', 'schema-v2.json')]);
  assert.equal(human.status, 4);
  assert.match(human.stdout, /schema-v2\.json: unsupported-version: report schema version 2 is not supported/);
});

test('exit 0 when every input is rolled up and no host fails; a policy makes hosts fail the gate', () => {
  const ok = fleetJson([GOOD[0]!, GOOD[3]!]);
  assert.equal(ok.status, 0);
  assert.deepEqual(ok.doc.failing, []);
  const gated = fleetJson([GOOD[0]!, GOOD[3]!, '--require', 'RECVSEND_BUNDLE']);
  assert.equal(gated.status, 2);
  assert.deepEqual(gated.doc.failing.map((h) => [h.hostname, h.unmet.map((u) => u.requirement)]), [['db-03', ['RECVSEND_BUNDLE']]]);
  assert.deepEqual(gated.doc.policy?.require, ['RECVSEND_BUNDLE']);
  const strict = fleetJson([GOOD[2]!, '--strict']);
  assert.equal(strict.status, 2, 'a degraded host fails under --strict');
  assert.equal(fleetJson([GOOD[2]!]).status, 0, 'degraded is not failing by default');
  assert.equal(cli(['fleet', GOOD[0]!, '--require', 'NOPE']).status, 64);
});

test('NDJSON on stdin (-) and .ndjson files: a bad line is named by its line number', () => {
  const lines = [GOOD[0]!, GOOD[2]!].map((f) => JSON.stringify(JSON.parse(readFileSync(f, 'utf8'))));
  const input = `${lines[0]}\n\n{"tool":{"name":"other"}}\n${lines[1]}\n${lines[1]!.slice(0, 500)}\n`;
  const { status, doc } = fleetJson(['-'], input);
  assert.equal(status, 4);
  assert.equal(doc.inputs.hosts, 2);
  assert.deepEqual(doc.skipped.map((s) => [s.source, s.problem]), [['stdin:3', 'foreign'], ['stdin:5', 'truncated']]);
});

test('csv: a header and one RFC 4180 row per host; skipped inputs named on stderr', () => {
  const run = cli(['fleet', ...GOOD, join(REPORTS, 'broken', 'truncated.json'), '--format', 'csv']);
  assert.equal(run.status, 6);
  const rows = run.stdout.trimEnd().split('\r\n');
  assert.equal(rows[0], CSV_COLUMNS.join(','));
  assert.equal(rows.length, 1 + 4);
  const web = rows.find((r) => r.startsWith('web-07,'))!.split(',');
  assert.equal(web[CSV_COLUMNS.indexOf('verdict')], 'incompatible');
  assert.equal(web[CSV_COLUMNS.indexOf('failing')], 'true');
  assert.match(web[CSV_COLUMNS.indexOf('reasons')]!, /ring-setup:SECCOMP_BLOCKED/);
  assert.match(run.stderr, /skipped .*truncated\.json: truncated/);
  const quoted = cli(['fleet', GOOD[2]!, '--format', 'csv']).stdout;
  assert.match(quoted, /,"?Debian GNU\/Linux 11 \(bullseye\)"?,/);
});

test('human output: sections and the exit code explained', () => {
  const run = cli(['fleet', ...GOOD]);
  assert.equal(run.status, 2);
  for (const heading of ['Hosts by verdict', 'Hosts by kernel release', 'Hosts by reason code', 'Support matrix', 'Loopback throughput', 'Failing hosts (2)']) {
    assert.ok(run.stdout.includes(heading), heading);
  }
  assert.match(run.stdout, /exit code 2 \(failing hosts\)/);
  assert.doesNotMatch(run.stdout, /\u001b\[/, 'no colour on a pipe');
});

test('an NDJSON input with no report (empty stdin, an empty .ndjson file) is a skipped input, not a clean fleet of 0 hosts', () => {
  const stdin = fleetJson(['-', '--require', 'loopback'], '\n\n');
  assert.equal(stdin.status, 4);
  assert.equal(stdin.doc.inputs.hosts, 0);
  assert.deepEqual(stdin.doc.skipped.map((s) => [s.source, s.problem]), [['stdin', 'empty']]);
  withTempDir('uring-probe-fleet-', (dir) => {
    const file = join(dir, 'reports.ndjson');
    writeFileSync(file, '');
    const run = fleetJson([file, GOOD[0]!]);
    assert.equal(run.status, 4);
    assert.equal(run.doc.inputs.hosts, 1);
    assert.deepEqual(run.doc.skipped.map((s) => [s.source, s.problem]), [[file, 'empty']]);
  });
});

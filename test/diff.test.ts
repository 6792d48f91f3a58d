// `uring-probe diff`: what changed between two reports of one host, and whether it is a regression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffReports } from '../src/diff/diff.js';
import { schemaValidator } from '../src/reader.js';
import { runCli as cli } from './helpers/launcher.js';
import { REPORTS, reportFixture as fixture } from './helpers/paths.js';

const BEFORE = join(REPORTS, '5.10-no-coop-taskrun.json');
const AFTER = join(REPORTS, '6.1-upgraded-from-5.10.json');

test('after a kernel upgrade: verdict, gained flags/features/ops, ladder and throughput change in percent', () => {
  const d = diffReports(fixture(BEFORE), fixture(AFTER));
  assert.equal(d.host.sameMachine, true);
  assert.equal(d.verdictChanged, true);
  assert.equal(d.verdictWorse, false);
  assert.equal(d.regression, false);
  const gained = d.capabilities.filter((c) => c.gained).map((c) => c.name);
  for (const name of ['COOP_TASKRUN', 'EXT_ARG', 'op:SEND_ZC', 'IOWQ_MAX_WORKERS', 'multishot-recvmsg']) assert.ok(gained.includes(name), name);
  assert.deepEqual(d.capabilities.filter((c) => !c.gained), []);
  assert.deepEqual(d.ladder.map((l) => [l.ring, l.from, l.to]), [
    ['send', '256 entries CLAMP (attempt 2)', '256 entries CLAMP|COOP_TASKRUN (attempt 1)'],
    ['recv', '64 entries CLAMP (attempt 2)', '64 entries CLAMP|COOP_TASKRUN (attempt 1)'],
  ]);
  assert.deepEqual(d.probes.find((p) => p.probe === 'ring-setup'), { probe: 'ring-setup', from: { status: 'warn', reason: 'FLAGS_FALLBACK' }, to: { status: 'pass', reason: null }, worse: false });
  assert.deepEqual(d.throughput.find((t) => t.figure === 'seedPps'), { figure: 'seedPps', from: 118000, to: 131000, changePercent: 11 });
  assert.deepEqual(d.throughput.find((t) => t.figure === 'syscallPps'), { figure: 'syscallPps', from: 171000, to: 176000, changePercent: 2.9 });
});

test('the other way round it is a regression: worse verdict, lost capabilities, worse ladder and probes', () => {
  const d = diffReports(fixture(AFTER), fixture(BEFORE));
  assert.equal(d.verdictWorse, true);
  assert.equal(d.regression, true);
  assert.match(d.regressions[0]!, /^verdict compatible -> degraded$/);
  assert.ok(d.regressions.some((r) => /^lost \d+: .*COOP_TASKRUN/.test(r)));
  assert.ok(d.regressions.some((r) => r === 'worker-limit pass -> warn (NO_WORKER_LIMIT)'));
  assert.ok(d.ladder.every((l) => l.worse));
});

test('a report compared with itself shows no change', () => {
  const r = fixture(AFTER);
  const d = diffReports(r, r);
  assert.deepEqual([d.capabilities, d.probes, d.ladder, d.regressions], [[], [], [], []]);
  assert.ok(d.throughput.every((t) => t.changePercent === 0));
});

test('uring-probe diff: exit 0 without regression, 2 with, JSON valid against the schema', () => {
  const up = cli(['diff', BEFORE, AFTER]);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /verdict: degraded -> compatible/);
  assert.match(up.stdout, /gained: .*COOP_TASKRUN/);
  assert.match(up.stdout, /seed pps 118,000 -> 131,000 \(\+11\.0%\)/);
  assert.match(up.stdout, /No regression\./);
  const down = cli(['diff', AFTER, BEFORE, '--json']);
  assert.equal(down.status, 2);
  const doc = JSON.parse(down.stdout) as { regression: boolean; exitCode: number };
  assert.ok(schemaValidator('diff')(doc), JSON.stringify(schemaValidator('diff').errors));
  assert.equal(doc.regression, true);
  assert.equal(doc.exitCode, 2);
});

test('uring-probe diff refuses reports of different machines (64) unless --any-host, and unreadable ones (65)', () => {
  const other = join(REPORTS, '6.1-docker-seccomp.json');
  const refused = cli(['diff', AFTER, other]);
  assert.equal(refused.status, 64);
  assert.match(refused.stderr, /different machines .*--any-host/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  const anyway = cli(['diff', AFTER, other, '--any-host']);
  assert.equal(anyway.status, 2, 'a seccomp-blocked host is a regression');
  const broken = cli(['diff', AFTER, join(REPORTS, 'broken', 'foreign-package.json')]);
  assert.equal(broken.status, 65);
  assert.match(broken.stderr, /foreign-package\.json: not a uring-probe report/);
});

test('uring-probe diff reads one report from stdin (-); - twice or an empty name is a usage error naming the problem', () => {
  const stdin = (args: string[], file: string) =>
    cli(['diff', ...args], { input: readFileSync(file, 'utf8') });
  const regression = stdin([AFTER, '-'], BEFORE);
  assert.equal(regression.status, 2, regression.stderr);
  assert.match(regression.stdout, /verdict: compatible -> degraded/);
  assert.equal(stdin(['-', AFTER], BEFORE).status, 0);
  const twice = stdin(['-', '-'], BEFORE);
  assert.equal(twice.status, 64);
  assert.match(twice.stderr, /^uring-probe: - \(stdin\) given for both reports; .*\(see --help\)\n$/);
  const empty = cli(['diff', '', AFTER]);
  assert.equal(empty.status, 64);
  assert.match(empty.stderr, /^uring-probe: diff needs two report files; /);
});

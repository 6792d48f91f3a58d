// Gating: requirement names, what an unmet requirement reports the host has instead, policy files, and `uring-probe gate`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyGate, evaluateGate, gateOnNames } from '../src/gate/evaluate.js';
import { parseRequirement, parseRequirements } from '../src/gate/names.js';
import { policyFromArgv } from '../src/gate/options.js';
import { parsePolicy } from '../src/gate/policy.js';
import { schemaValidator } from '../src/reader.js';
import type { Report } from '../src/types.js';
import { UsageError } from '../src/usage-error.js';
import { runCli as cli } from './helpers/launcher.js';
import { REPORTS, reportFixture as fixture, ROOT, withTempDir } from './helpers/paths.js';

test('requirement names: flags, features, ops, register ops, capabilities and probe ids, in several spellings', () => {
  const cases: Array<[string, string, string]> = [
    ['COOP_TASKRUN', 'flag', 'COOP_TASKRUN'],
    ['coop_taskrun', 'flag', 'COOP_TASKRUN'],
    ['IORING_SETUP_DEFER_TASKRUN', 'flag', 'DEFER_TASKRUN'],
    ['flag:SINGLE_ISSUER', 'flag', 'SINGLE_ISSUER'],
    ['EXT_ARG', 'feature', 'EXT_ARG'],
    ['feat:native-workers', 'feature', 'NATIVE_WORKERS'],
    ['op:SEND_ZC', 'op', 'op:SEND_ZC'],
    ['IORING_OP_RECVMSG', 'op', 'op:RECVMSG'],
    ['IOWQ_MAX_WORKERS', 'register', 'IOWQ_MAX_WORKERS'],
    ['reg:PROBE', 'register', 'reg:PROBE'],
    ['multishot-recvmsg', 'capability', 'multishot-recvmsg'],
    ['loopback', 'probe', 'loopback'],
    ['probe:worker-limit', 'probe', 'worker-limit'],
  ];
  for (const [raw, kind, canonical] of cases) {
    const r = parseRequirement(raw);
    assert.equal(r.kind, kind, raw);
    assert.equal(r.canonical, canonical, raw);
  }
  assert.deepEqual(parseRequirements(['COOP_TASKRUN,op:SEND_ZC', 'COOP_TASKRUN']).map((r) => r.canonical), ['COOP_TASKRUN', 'op:SEND_ZC']);
});

test('an unknown requirement name is a usage error with a suggestion, never a silent pass', () => {
  assert.throws(() => parseRequirement('COOP_TASKRUNN'), (e: unknown) => e instanceof UsageError && /unknown requirement 'COOP_TASKRUNN'/.test(e.message) && /did you mean COOP_TASKRUN/.test(e.hint));
  assert.throws(() => parseRequirement('SEND_ZC'), (e: unknown) => e instanceof UsageError && /write it as op:SEND_ZC/.test(e.hint));
  assert.throws(() => parseRequirement('op:SEND_ZCC'), UsageError);
  assert.throws(() => parseRequirement('reg:ENABLE_RINGS'), (e: unknown) => e instanceof UsageError && /does not measure/.test(e.message));
  assert.throws(() => parseRequirement(''), UsageError);
});

test('a healthy 6.18 host meets flags, features, ops, IOWQ_MAX_WORKERS, multishot and probe requirements', () => {
  const report = fixture('6.18-compatible.json');
  const outcome = gateOnNames(report, ['COOP_TASKRUN', 'DEFER_TASKRUN', 'EXT_ARG', 'op:SEND_ZC', 'op:RECV_ZC', 'IOWQ_MAX_WORKERS', 'reg:PROBE', 'multishot-recvmsg', 'loopback', 'throughput'], { strict: true, minPps: 1, minRatio: 0.01 });
  assert.deepEqual(outcome.unmet, []);
  assert.equal(outcome.passed, true);
  const gated = applyGate(report, outcome);
  assert.equal(gated.verdict, 'compatible');
  assert.equal(gated.exitCode, 0);
  assert.deepEqual(schemaValidator('report')(gated) ? [] : schemaValidator('report').errors, []);
});

test('a 5.10 host: every unmet requirement is listed with what the host has instead', () => {
  const report = fixture('5.10-no-coop-taskrun.json');
  const outcome = gateOnNames(report, ['COOP_TASKRUN', 'CLAMP', 'EXT_ARG', 'op:SEND_ZC', 'op:SENDMSG', 'IOWQ_MAX_WORKERS', 'multishot-recvmsg', 'worker-limit'], { minRatio: 0.8 });
  const have = Object.fromEntries(outcome.unmet.map((u) => [u.requirement, u.have]));
  assert.deepEqual(Object.keys(have).sort(), ['COOP_TASKRUN', 'EXT_ARG', 'IOWQ_MAX_WORKERS', 'min-ratio 0.8', 'multishot-recvmsg', 'op:SEND_ZC', 'worker-limit'].sort());
  assert.match(have['COOP_TASKRUN']!, /refused with EINVAL by kernel 5\.10\.0-28-amd64; it came in Linux 5\.19; the seed's rings run with CLAMP$/);
  assert.match(have['EXT_ARG']!, /does not report FEAT_EXT_ARG; it came in Linux 5\.11; its features: SINGLE_MMAP /);
  assert.match(have['op:SEND_ZC']!, /SEND_ZC is not supported by kernel 5\.10/);
  assert.match(have['IOWQ_MAX_WORKERS']!, /refused with EINVAL .* io-wq workers stay unbounded/);
  assert.match(have['multishot-recvmsg']!, /did not work .* failed at stage register-pbuf-ring EINVAL/);
  assert.match(have['worker-limit']!, /^worker-limit warn \(NO_WORKER_LIMIT\)/);
  assert.match(have['min-ratio 0.8']!, /seed\/syscall ratio 0\.69 \(seed 118,000 pkt\/s, syscall 171,000 pkt\/s\)/);
  const gated = applyGate(report, outcome);
  assert.equal(gated.verdict, 'incompatible');
  assert.equal(gated.exitCode, 2);
});

test('--strict fails a degraded report; without it degraded passes with exit 1', () => {
  const report = fixture('5.10-no-coop-taskrun.json');
  const strict = evaluateGate(report, { requirements: [], strict: true, minPps: null, minRatio: null });
  assert.deepEqual(strict.unmet, [{ requirement: 'strict', have: 'verdict degraded: ring-setup FLAGS_FALLBACK, worker-limit NO_WORKER_LIMIT' }]);
  assert.equal(applyGate(report, strict).exitCode, 2);
  const lenient = applyGate(report, evaluateGate(report, { requirements: [], strict: false, minPps: null, minRatio: null }));
  assert.equal(lenient.verdict, 'degraded');
  assert.equal(lenient.exitCode, 1);
});

test('requirements the report cannot answer are unmet, saying why (no throughput probe, skipped probes)', () => {
  const noBench = fixture('6.8-seccomp-kill-sigsys.json');
  const outcome = gateOnNames(noBench, ['COOP_TASKRUN', 'op:SENDMSG', 'throughput'], { minPps: 100000 });
  const have = Object.fromEntries(outcome.unmet.map((u) => [u.requirement, u.have]));
  assert.match(have['COOP_TASKRUN']!, /not measured: the setup-flags probe was skipped \(DEPENDENCY_FAILED/);
  assert.match(have['op:SENDMSG']!, /not measured: the opcodes probe was skipped/);
  assert.match(have['throughput']!, /not in this report \(the check ran with --no-bench\)/);
  assert.match(have['min-pps 100000']!, /no throughput figure: the throughput probe is not in this report/);
});

test('re-gating a gated report judges it again from its probes', () => {
  const report = fixture('6.18-compatible.json');
  const failed = applyGate(report, gateOnNames(report, ['loopback'], { minPps: 1e12 }));
  assert.equal(failed.verdict, 'incompatible');
  const passed = applyGate(failed, gateOnNames(failed, ['CLAMP']));
  assert.equal(passed.verdict, 'compatible');
  assert.equal(passed.exitCode, 0);
});

test('policy files: validated, unknown fields and names refused naming the file, merged with the command line', () => {
  const p = parsePolicy('{"policyVersion":1,"require":["COOP_TASKRUN","op:SEND_ZC"],"minPps":1000,"strict":true}', 'p.json');
  assert.deepEqual(p.requirements.map((r) => r.canonical), ['COOP_TASKRUN', 'op:SEND_ZC']);
  assert.equal(p.minPps, 1000);
  assert.equal(p.strict, true);
  assert.throws(() => parsePolicy('{"requires":["X"]}', 'p.json'), (e: unknown) => e instanceof UsageError && /policy p\.json is not a valid policy: \/ has unknown field 'requires'/.test(e.message));
  assert.throws(() => parsePolicy('{"require":["NOPE"]}', 'p.json'), (e: unknown) => e instanceof UsageError && /policy p\.json: unknown requirement 'NOPE'/.test(e.message));
  assert.throws(() => parsePolicy('{"policyVersion":2}', 'p.json'), UsageError);
  assert.throws(() => parsePolicy('{not json', 'p.json'), (e: unknown) => e instanceof UsageError && /not valid JSON/.test(e.message));
  withTempDir('uring-policy-', (dir) => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ require: ['COOP_TASKRUN'], minRatio: 0.5 }));
    const merged = policyFromArgv({ policy: file, require: ['EXT_ARG'], 'min-ratio': 0.7 })!;
    assert.deepEqual(merged.requirements.map((r) => r.canonical), ['COOP_TASKRUN', 'EXT_ARG']);
    assert.equal(merged.minRatio, 0.7);
    assert.equal(policyFromArgv({}), null);
    assert.throws(() => policyFromArgv({ 'min-pps': -1 }), UsageError);
  });
});

test('uring-probe gate: exit 0 when met, 2 with the unmet list, 64 for an unknown name, 65 for an unreadable report', () => {
  const ok = cli(['gate', join(REPORTS, '6.18-compatible.json'), '--require', 'COOP_TASKRUN,op:SEND_ZC']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /GATE PASSED/);
  const unmet = cli(['gate', join(REPORTS, '5.10-no-coop-taskrun.json'), '--policy', join(ROOT, 'examples', 'ansible', 'uring-policy.example.json')]);
  assert.equal(unmet.status, 2);
  assert.match(unmet.stdout, /unmet +COOP_TASKRUN: have COOP_TASKRUN refused with EINVAL/);
  assert.match(unmet.stdout, /unmet +IOWQ_MAX_WORKERS: have/);
  const unknown = cli(['gate', join(REPORTS, '6.18-compatible.json'), '--require', 'COOP_TASKRUNN']);
  assert.equal(unknown.status, 64);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.doesNotMatch(unknown.stderr, /at .*\.js:\d+/, 'no stack trace');
  const broken = cli(['gate', join(REPORTS, 'broken', 'truncated.json'), '--require', 'CLAMP']);
  assert.equal(broken.status, 65);
  assert.match(broken.stderr, /^uring-probe: .*truncated\.json: truncated JSON/);
  const v2 = cli(['gate', join(REPORTS, 'broken', 'schema-v2.json'), '--require', 'CLAMP', '--json']);
  assert.equal(v2.status, 65);
  const doc = JSON.parse(v2.stdout) as { error: { code: string; message: string } };
  assert.equal(doc.error.code, 'REPORT_UNSUPPORTED_VERSION');
  assert.ok(schemaValidator()(doc));
  const nothing = cli(['gate', join(REPORTS, '6.18-compatible.json')]);
  assert.equal(nothing.status, 64);
});

test('uring-probe gate --json prints the gated report, valid against the schema; --format junit fails the gate testcase', () => {
  const run = cli(['gate', join(REPORTS, '6.1-upgraded-from-5.10.json'), '--json', '--require', 'RECVSEND_BUNDLE', '--strict']);
  assert.equal(run.status, 2);
  const gated = JSON.parse(run.stdout) as Report;
  assert.ok(schemaValidator('report')(gated), JSON.stringify(schemaValidator('report').errors));
  assert.equal(gated.gate?.passed, false);
  assert.deepEqual(gated.gate?.unmet.map((u) => u.requirement), ['RECVSEND_BUNDLE']);
  const junit = cli(['gate', join(REPORTS, '6.1-upgraded-from-5.10.json'), '--format', 'junit', '--require', 'RECVSEND_BUNDLE']);
  assert.equal(junit.status, 2);
  assert.match(junit.stdout, /<failure message="1 requirement unmet: RECVSEND_BUNDLE" type="GATE_UNMET">/);
  // reading from stdin
  const stdin = cli(['gate', '-', '--require', 'CLAMP'], { input: readFileSync(join(REPORTS, '6.18-compatible.json')) });
  assert.equal(stdin.status, 0, stdin.stderr);
});

test('check --require/--strict gate the live run: unmet requirement -> exit 2 with the list in JSON', () => {
  const run = cli(['check', '--json', '--require', 'COOP_TASKRUN', '--min-pps', '1000000000']);
  assert.equal(run.status, 2, run.stderr);
  const report = JSON.parse(run.stdout) as Report;
  assert.ok(schemaValidator('report')(report));
  assert.deepEqual(report.gate?.unmet.map((u) => u.requirement), ['min-pps 1000000000']);
  assert.equal(report.probes.find((p) => p.id === 'throughput')?.reason, 'BELOW_MIN_PPS');
  const contradictory = cli(['check', '--json', '--no-bench', '--min-pps', '1']);
  assert.equal(contradictory.status, 64, 'a throughput floor without the throughput probe is a usage error');
  const bad = cli(['check', '--json', '--no-bench', '--require', 'NOT_A_FLAG']);
  assert.equal(bad.status, 64);
});

test('uring-probe gate refuses to pass on nothing: `--require ,` or a policy file without a requirement is a usage error (64)', () => {
  const report = join(REPORTS, '6.18-compatible.json');
  const comma = cli(['gate', report, '--require', ',']);
  assert.equal(comma.status, 64, comma.stdout);
  assert.match(comma.stderr, /^uring-probe: --require needs at least one name; /);
  assert.equal(cli(['gate', report, '--require', ',loopback']).status, 0, 'a name next to an empty one still counts');
  withTempDir('uring-probe-gate-', (dir) => {
    const empty = join(dir, 'policy.json');
    writeFileSync(empty, JSON.stringify({ policyVersion: 1, description: 'nothing yet', require: [] }));
    const run = cli(['gate', report, '--policy', empty]);
    assert.equal(run.status, 64, run.stdout);
    assert.match(run.stderr, /^uring-probe: gate needs something to check; /);
    assert.equal(cli(['check', '--json', '--no-bench', '--require', ',']).status, 64);
  });
});

test('every probe of the registry can be required by name (PROBE_IDS follows the registry)', async () => {
  const { PROBES } = await import('../src/probes/index.js');
  const { PROBE_IDS } = await import('../src/gate/names.js');
  assert.deepEqual([...PROBE_IDS].sort(), PROBES.map((p) => p.id).sort());
});

test('names of Object.prototype members are unknown requirements, not met ones (command line and policy file)', () => {
  const keys = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'cap:constructor', 'probe:__proto__', 'reg:__proto__'];
  for (const key of keys) assert.throws(() => parseRequirement(key), UsageError, key);
  const report = join(REPORTS, '6.18-compatible.json');
  for (const key of ['constructor', '__proto__']) {
    const run = cli(['gate', report, '--require', key]);
    assert.equal(run.status, 64, `--require ${key}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`unknown requirement '${key}'`));
    assert.doesNotMatch(run.stdout, /GATE PASSED/);
  }
  withTempDir('uring-probe-proto-', (dir) => {
    const policy = join(dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ require: ['constructor'] }));
    const run = cli(['gate', report, '--policy', policy]);
    assert.equal(run.status, 64, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /GATE PASSED/);
  });
});

test('--require takes one value: the report path after it stays a positional (gate, fleet), a second name after it is a usage error', () => {
  const report = join(REPORTS, '6.18-compatible.json');
  // the case: the array option swallowed the report ("Not enough non-option arguments")
  const gate = cli(['gate', '--require', 'COOP_TASKRUN', report]);
  assert.equal(gate.status, 0, gate.stderr);
  assert.match(gate.stdout, /GATE PASSED/);
  const repeated = cli(['gate', '--require', 'COOP_TASKRUN', '--require', 'op:SEND_ZC', report, '--json']);
  assert.equal(repeated.status, 0, repeated.stderr);
  assert.deepEqual((JSON.parse(repeated.stdout) as Report).gate!.requirements, ['COOP_TASKRUN', 'op:SEND_ZC']);
  const fleet = cli(['fleet', '--require', 'COOP_TASKRUN', report, join(REPORTS, '5.10-no-coop-taskrun.json'), '--json']);
  assert.equal(fleet.status, 2, fleet.stderr); // the 5.10 host fails the gate; both reports were read as reports
  const doc = JSON.parse(fleet.stdout) as { totals?: { reports?: number }; skipped: unknown[] };
  assert.equal(doc.skipped.length, 0, fleet.stdout);
  // the old space-separated spelling is refused with both spellings that work, not read as a path
  const old = cli(['gate', '--require', 'COOP_TASKRUN', 'op:SEND_ZC', report]);
  assert.equal(old.status, 64, old.stdout);
  assert.equal(old.stderr.trim().split('\n').length, 1, old.stderr);
  assert.match(old.stderr, /'op:SEND_ZC' follows --require COOP_TASKRUN, but --require takes one name.*--require COOP_TASKRUN,op:SEND_ZC/);
  const check = cli(['check', '--no-bench', '--json', '--require', 'COOP_TASKRUN', 'EXT_ARG']);
  assert.equal(check.status, 64, check.stdout);
  assert.match((JSON.parse(check.stdout) as { error: { message: string } }).error.message, /'EXT_ARG' follows --require COOP_TASKRUN/);
});

test('gate --verbose also lists the met requirements and the report\'s probes that did not pass', () => {
  const plain = cli(['gate', join(REPORTS, '5.10-no-coop-taskrun.json'), '--require', 'CLAMP,COOP_TASKRUN']);
  const verbose = cli(['gate', join(REPORTS, '5.10-no-coop-taskrun.json'), '--require', 'CLAMP,COOP_TASKRUN', '--verbose']);
  assert.equal(verbose.status, plain.status);
  assert.doesNotMatch(plain.stdout, /^  met /m);
  assert.match(verbose.stdout, /^  met +CLAMP$/m);
  assert.match(verbose.stdout, /^  unmet +COOP_TASKRUN: /m);
  assert.doesNotMatch(verbose.stdout, /^  met +COOP_TASKRUN/m);
  const report = fixture('5.10-no-coop-taskrun.json');
  for (const p of report.probes.filter((x) => x.status !== 'pass')) {
    assert.match(verbose.stdout, new RegExp(`^  probe +${p.id} ${p.status.toUpperCase()}`, 'm'), p.id);
  }
});

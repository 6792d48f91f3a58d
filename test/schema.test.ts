// The report schema: real CLI output and every fixture validate (ajv, draft 2020-12); readers refuse what they cannot read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddon } from '../src/native.js';
import { FEATURES, OPCODES, SETUP_FLAGS } from '../src/gate/names.js';
import { parseReportText, readReportFile, schemaPath } from '../src/reader.js';
import { runCli as cli } from './helpers/launcher.js';
import { REPORTS, ROOT } from './helpers/paths.js';
import { schemaValidatorFor as validatorFor } from './helpers/reports.js';
import { missingLibseccomp, notRoot, skipReason } from './helpers/require.js';

test('the schema is valid draft 2020-12 and ships where the reader looks for it', () => {
  assert.equal(schemaPath(), join(ROOT, 'schema', 'report-v1.schema.json'));
  const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as Record<string, unknown>;
  assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  assert.doesNotThrow(() => validatorFor());
});

test('real `check --json --no-bench` output on this machine validates against the schema', () => {
  const run = cli(['check', '--json', '--no-bench']);
  assert.ok(run.status !== null && [0, 1, 2, 3].includes(run.status), `exit ${run.status}: ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as { schemaVersion: number; probes: unknown[] };
  assert.deepEqual(validatorFor()(doc), []);
  assert.deepEqual(validatorFor('report')(doc), []);
  assert.equal(doc.schemaVersion, 1);
  const read = parseReportText(run.stdout);
  assert.ok(read.ok, read.ok ? '' : read.message);
});

test('the error document of a usage error in JSON mode validates against the schema', () => {
  const run = cli(['check', '--json', '--timeout', 'abc']);
  assert.equal(run.status, 64);
  const doc = JSON.parse(run.stdout) as unknown;
  assert.deepEqual(validatorFor()(doc), []);
  assert.deepEqual(validatorFor('errorDocument')(doc), []);
  assert.equal(validatorFor('report')(doc).length > 0, true, 'an error document is not a report');
});

test('every fixture report and every real capture validates', () => {
  const validate = validatorFor('report');
  const files = [
    ...readdirSync(REPORTS).filter((f) => f.endsWith('.json')).map((f) => join(REPORTS, f)),
    ...readdirSync(join(REPORTS, 'captured')).map((f) => join(REPORTS, 'captured', f)),
  ];
  assert.ok(files.length >= 9);
  for (const file of files) {
    assert.deepEqual(validate(JSON.parse(readFileSync(file, 'utf8'))), [], file);
    const read = readReportFile(file);
    assert.ok(read.ok, `${file}: ${read.ok ? '' : read.message}`);
  }
});

test('the reader names what is wrong with each broken input', () => {
  const expected: Record<string, string> = {
    'truncated.json': 'truncated',
    'not-json.json': 'malformed-json',
    'foreign-package.json': 'foreign',
    'schema-v2.json': 'unsupported-version',
    'bad-status.json': 'schema-invalid',
    'error-document.json': 'error-document',
    'empty.json': 'empty',
  };
  for (const [file, problem] of Object.entries(expected)) {
    const read = readReportFile(join(REPORTS, 'broken', file));
    assert.equal(read.ok, false, file);
    if (!read.ok) {
      assert.equal(read.problem, problem, `${file}: ${read.message}`);
      assert.ok(!read.message.includes('\n'), 'one line');
    }
  }
  const bad = readReportFile(join(REPORTS, 'broken', 'bad-status.json'));
  assert.ok(!bad.ok && /\/probes\/1\/status must be one of pass, warn, fail, skip/.test(bad.message), !bad.ok ? bad.message : '');
});

test('an unknown major schema version is refused with a clear message, newer or older', () => {
  const report = JSON.parse(readFileSync(join(REPORTS, '6.18-compatible.json'), 'utf8')) as Record<string, unknown>;
  const newer = parseReportText(JSON.stringify({ ...report, schemaVersion: 2 }));
  assert.ok(!newer.ok);
  assert.equal(newer.ok ? '' : newer.problem, 'unsupported-version');
  assert.match(newer.ok ? '' : newer.message, /schema version 2 is not supported \(this uring-probe reads version 1\); upgrade uring-probe/);
  const older = parseReportText(JSON.stringify({ ...report, schemaVersion: 0 }));
  assert.match(older.ok ? '' : older.message, /schema version 0 is not supported.*re-run/);
  const dotted = parseReportText(JSON.stringify({ ...report, schemaVersion: '3.1' }));
  assert.match(dotted.ok ? '' : dotted.message, /schema version 3 is not supported/);
});

test('the requirement name tables agree with the addon\'s own ABI header (native/abi.h)', () => {
  const abi = loadAddon().abi();
  SETUP_FLAGS.forEach((f, bit) => {
    if (abi.setupFlags[f.name] !== undefined) assert.equal(abi.setupFlags[f.name], 1 << bit, `IORING_SETUP_${f.name}`);
  });
  FEATURES.forEach((f, bit) => {
    if (abi.features[f.name] !== undefined) assert.equal(abi.features[f.name], 1 << bit, `IORING_FEAT_${f.name}`);
  });
  OPCODES.forEach((name, op) => {
    if (abi.opcodes[name] !== undefined) assert.equal(abi.opcodes[name], op, `IORING_OP_${name}`);
  });
  for (const name of Object.keys(abi.setupFlags)) assert.ok(SETUP_FLAGS.some((f) => f.name === name), `flag ${name} missing from gate names`);
  for (const name of Object.keys(abi.features)) assert.ok(FEATURES.some((f) => f.name === name), `feature ${name} missing from gate names`);
  for (const name of Object.keys(abi.opcodes)) {
    if (name !== 'LAST') assert.ok(OPCODES.includes(name), `op ${name} missing from gate names`);
  }
});

test('a report made in a service context (--user, --memlock, --seccomp-profile) validates, context included', { skip: skipReason(notRoot('--user'), missingLibseccomp()) }, () => {
  const run = cli(['check', '--json', '--no-bench', '--user', 'nobody', '--memlock', '64K', '--seccomp-profile', join(ROOT, 'fixtures', 'seccomp', 'base-allow.json')]);
  assert.ok(run.status !== null && [0, 1, 2, 3].includes(run.status), `exit ${run.status}: ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as { context?: { asInvoked: boolean; seccomp: unknown } };
  assert.deepEqual(validatorFor()(doc), []);
  assert.equal(doc.context?.asInvoked, false);
  assert.notEqual(doc.context?.seccomp, null);
  // The context object is closed: a misspelt key must not validate.
  assert.notDeepEqual(validatorFor()({ ...doc, context: { ...doc.context, asInvokd: true } }), []);
});

test('reason codes are an open set: a code this version does not know validates and is kept by the readers', () => {
  const doc = JSON.parse(readFileSync(join(REPORTS, '6.18-compatible.json'), 'utf8')) as { probes: Array<{ id: string; status: string; reason: string | null }> };
  const probe = doc.probes.find((p) => p.id === 'worker-limit')!;
  probe.status = 'warn';
  probe.reason = 'A_CODE_FROM_A_NEWER_1X';
  assert.deepEqual(validatorFor()(doc), []);
  const read = parseReportText(JSON.stringify(doc));
  assert.ok(read.ok, read.ok ? '' : read.message);
  assert.equal(read.ok && read.report.probes.find((p) => p.id === 'worker-limit')!.reason, 'A_CODE_FROM_A_NEWER_1X');
  // a lower-case or empty "code" is still refused
  probe.reason = 'not a code';
  assert.notDeepEqual(validatorFor()(doc), []);
});

test('the schema names every reason code this version gives', async () => {
  const { REMEDIATION } = await import('../src/probes/reasons.js');
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report-v1.schema.json'), 'utf8')) as { $defs: { reasonCode: { examples: string[] } } };
  assert.deepEqual([...schema.$defs.reasonCode.examples].sort(), Object.keys(REMEDIATION).sort());
});

test('the schema\'s facts definitions are generated from the probes\' facts types, and every probe has them', async () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-facts-schema.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  const { FACTS_TYPES } = await import('../src/probes/facts.js');
  const { PROBES } = await import('../src/probes/index.js');
  assert.deepEqual(Object.keys(FACTS_TYPES).sort(), PROBES.map((p) => p.id).sort());
});

test('a probe\'s facts of the wrong shape do not validate (the types are enforced, not decoration)', () => {
  const doc = JSON.parse(readFileSync(join(REPORTS, '6.18-compatible.json'), 'utf8')) as { probes: Array<{ id: string; facts: Record<string, unknown> }> };
  const flags = doc.probes.find((p) => p.id === 'setup-flags')!;
  (flags.facts.flags as Record<string, Record<string, unknown>>).CLAMP!.accepted = 'ok';
  assert.notDeepEqual(validatorFor()(doc), []);
});

// The JUnit renderer (src/report/junit.ts), checked by a real consumer: fast-xml-parser reads what it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { applyGate, gateOnNames } from '../../src/gate/evaluate.js';
import { renderJunit } from '../../src/report/junit.js';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/launcher.js';
import { reportFixture as fixture } from '../helpers/paths.js';

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

test('check --format junit: the XML parses and has a testcase per probe', () => {
  const run = runCli(['check', '--format', 'junit', '--no-bench']);
  assert.ok(run.status !== null && [0, 1, 2, 3].includes(run.status), run.stderr);
  const json = runCli(['check', '--json', '--no-bench']);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(junitCases(run.stdout).cases.length, report.probes.length);
});

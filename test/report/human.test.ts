// The human renderer (src/report/human.ts): rows, reasons, remediation, colour, --verbose, the seed findings foot.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { probeResult } from '../../src/probes/result.js';
import { REMEDIATION } from '../../src/probes/reasons.js';
import { renderHuman } from '../../src/report/human.js';
import { SEED_FINDINGS } from '../../src/seed/findings.js';
import type { ProbeResult, Report } from '../../src/types.js';
import { REPORTS } from '../helpers/paths.js';
import { probeOf } from '../helpers/reports.js';

describe('renderHuman', () => {
  const setup: ProbeResult = {
    ...probeResult({ id: 'ring-setup', title: 'Ring setup' }, {
      status: 'warn',
      summary: 'send ring shrunk to 32 of 256 entries (ENOMEM)',
      reason: 'RING_SHRUNK',
      errno: 'ENOMEM',
      facts: { send: { requestedEntries: 256, finalEntries: 32, flags: ['CLAMP'] } },
    }),
    attempts: [
      { ring: 'send', stage: 'setup', entries: 256, flags: ['CLAMP', 'COOP_TASKRUN'], flagsRaw: 0x110, ok: false, errno: 'ENOMEM', next: 'halve' },
      { ring: 'send', stage: 'setup', entries: 128, flags: ['CLAMP', 'COOP_TASKRUN'], flagsRaw: 0x110, ok: true, errno: null, next: 'accept' },
    ],
  };
  const killed = probeResult({ id: 'loopback', title: 'Loopback' }, {
    status: 'fail',
    summary: 'the probe process died of SIGSYS',
    reason: 'PROBE_KILLED',
    facts: { signal: 'SIGSYS', exitCode: null },
  });
  const report: Report = {
    schemaVersion: 1,
    tool: { name: 'uring-probe', version: '0.1.0' },
    host: { hostname: 'edge-7', machineIdHash: null, kernelRelease: '5.10.0', kernelVersion: '#1', arch: 'x86_64', distribution: null },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 40,
    verdict: 'unknown',
    exitCode: 3,
    probes: [probeOf('environment', 'pass'), setup, killed],
  };

  it('without colour: a row per probe with its reason, remediation of warns and fails, the verdict and exit code', () => {
    const text = renderHuman(report, { color: false, verbose: false });
    assert.doesNotMatch(text, /\u001b\[/);
    assert.match(text, /edge-7/);
    assert.match(text, /│ WARN\s+│ ring-setup\s+│ send ring shrunk .*\[RING_SHRUNK\]/);
    assert.match(text, /│ FAIL\s+│ loopback\s+│ the probe process died of SIGSYS \[PROBE_KILLED\]/);
    assert.ok(text.includes(REMEDIATION.RING_SHRUNK.slice(0, 40)));
    assert.match(text, /Verdict: UNKNOWN.*\(exit 3\)/);
    assert.doesNotMatch(text, /setup ladder/);
  });
  it('with colour: ANSI codes appear', () => {
    assert.match(renderHuman(report, { color: true, verbose: false }), /\u001b\[/);
  });
  it('verbose: the ladder with what the seed did next, errno, and the facts', () => {
    const text = renderHuman(report, { color: false, verbose: true });
    assert.match(text, /setup ladder:/);
    assert.match(text, /│ send\s+│ setup\s+│ 256\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ENOMEM\s+│ halve/);
    assert.match(text, /│ send\s+│ setup\s+│ 128\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ accept/);
    assert.match(text, /reason: RING_SHRUNK, errno: ENOMEM/);
    assert.match(text, /send\.finalEntries: 32/);
    assert.match(text, /signal: SIGSYS/);
    assert.match(text, /exitCode: -/);
  });
});

describe('renderHuman: the seed findings foot', () => {
  it('the human renderer shows the report\'s own ids: none for an older report, unknown ones by id', () => {
    // a report as versions before seedFindings wrote it: a fixture without the field
    const base = JSON.parse(readFileSync(`${REPORTS}/6.18-compatible.json`, 'utf8')) as Report;
    delete base.seedFindings;
    const IDS = SEED_FINDINGS.map((f) => f.id);
    assert.doesNotMatch(renderHuman(base, { color: false, verbose: true }), /What the port found in the seed/);
    const text = renderHuman({ ...base, seedFindings: ['unbounded-waits', 'from-a-later-version'] }, { color: false, verbose: true });
    assert.match(text, /^ {2}unbounded-waits +Every wait is unbounded/m);
    assert.match(text, /^ {2}from-a-later-version +\(not in this version's table\)/m);
    assert.doesNotMatch(renderHuman({ ...base, seedFindings: IDS }, { color: false, verbose: false }), /What the port found/);
  });
});

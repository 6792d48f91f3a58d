// The JSON renderer (src/report/json.ts): field order, the projection of facts and seedFindings.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { projectReport, renderJson } from '../../src/report/json.js';
import type { Report } from '../../src/types.js';
import { REPORTS } from '../helpers/paths.js';
import { probeOf } from '../helpers/reports.js';

/** A report as versions before seedFindings wrote it: a fixture without the field. */
function olderReport(): Report {
  const doc = JSON.parse(readFileSync(`${REPORTS}/6.18-compatible.json`, 'utf8')) as Report;
  delete doc.seedFindings;
  return doc;
}

describe('renderJson', () => {
  it('is one newline-terminated document with the fields in the order of types.ts', () => {
    const report: Report = {
      schemaVersion: 1,
      tool: { name: 'uring-probe', version: '0.1.0' },
      host: { hostname: 'h', machineIdHash: null, kernelRelease: '6.1.0', kernelVersion: '#1', arch: 'x86_64', distribution: null },
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 12,
      verdict: 'degraded',
      exitCode: 1,
      probes: [{ ...probeOf('worker-limit', 'warn', 'NO_WORKER_LIMIT'), facts: { previous: null, extra: undefined as unknown as null } }],
    };
    const text = renderJson(report);
    assert.ok(text.endsWith('}\n'));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['schemaVersion', 'tool', 'host', 'startedAt', 'durationMs', 'verdict', 'exitCode', 'probes']);
    const probe = (parsed.probes as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual(Object.keys(probe), ['id', 'title', 'status', 'summary', 'reason', 'errno', 'facts', 'remediation', 'durationMs']);
    assert.deepEqual(probe.facts, { previous: null });
  });
});

describe('projectReport: seedFindings', () => {
  it('the JSON projection keeps the ids, and leaves the field out of a report without it', () => {
    const base = olderReport();
    assert.equal('seedFindings' in projectReport(base), false);
    const withIds = projectReport({ ...base, seedFindings: ['full-sq-waits-forever'] });
    assert.deepEqual(withIds.seedFindings, ['full-sq-waits-forever']);
    assert.equal(Object.keys(withIds).at(-1), 'seedFindings');
  });
});

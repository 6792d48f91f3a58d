// JUnit XML renderer: one testcase per probe (failure/skipped with the reason), plus one for the gate.
import type { ProbeResult, Report } from '../types.js';

/** Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR). */
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The probe's details for the CI log: summary, remediation, errno. */
function details(p: ProbeResult): string {
  const lines = [p.summary];
  if (p.errno) lines.push(`errno: ${p.errno}`);
  if (p.remediation) lines.push(`remediation: ${p.remediation}`);
  return lines.join('\n');
}

function probeCase(p: ProbeResult, classname: string): string {
  const open = `    <testcase${attrs({ name: `${p.id}: ${p.title}`, classname, time: seconds(p.durationMs) })}`;
  const reason = p.reason ?? 'NO_REASON';
  switch (p.status) {
    case 'pass':
      return `${open}/>`;
    case 'warn':
      // Degraded still works: a passing testcase whose output says why it is degraded.
      return `${open}>\n      <system-out>${escapeXml(`WARN ${reason}: ${details(p)}`)}</system-out>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped${attrs({ message: `${reason}: ${p.summary}` })}/>\n    </testcase>`;
    case 'fail':
      return `${open}>\n      <failure${attrs({ message: `${reason}: ${p.summary}`, type: reason })}>${escapeXml(details(p))}</failure>\n    </testcase>`;
  }
}

function gateCase(report: Report, classname: string): string | null {
  const g = report.gate;
  if (!g) return null;
  const asked = [
    ...g.requirements,
    ...(g.minPps !== null ? [`min-pps ${g.minPps}`] : []),
    ...(g.minRatio !== null ? [`min-ratio ${g.minRatio}`] : []),
    ...(g.strict ? ['strict'] : []),
  ];
  const open = `    <testcase${attrs({ name: `gate: ${asked.join(', ') || 'no requirements'}`, classname, time: '0.000' })}`;
  if (g.passed) return `${open}/>`;
  const body = g.unmet.map((u) => `${u.requirement}: have ${u.have}`).join('\n');
  const message = `${g.unmet.length} requirement${g.unmet.length === 1 ? '' : 's'} unmet: ${g.unmet.map((u) => u.requirement).join(', ')}`;
  return `${open}>\n      <failure${attrs({ message, type: 'GATE_UNMET' })}>${escapeXml(body)}</failure>\n    </testcase>`;
}

/** JUnit XML (the schema Jenkins, GitLab and GitHub reporters read), newline-terminated. */
export function renderJunit(report: Report): string {
  const classname = `uring-probe.${report.host.hostname || 'host'}`;
  const cases = report.probes.map((p) => probeCase(p, classname));
  const gate = gateCase(report, classname);
  if (gate) cases.push(gate);
  const failures = report.probes.filter((p) => p.status === 'fail').length + (report.gate && !report.gate.passed ? 1 : 0);
  const skipped = report.probes.filter((p) => p.status === 'skip').length;
  const counts = { tests: cases.length, failures, errors: 0, skipped, time: seconds(report.durationMs) };
  const properties = {
    verdict: report.verdict,
    exitCode: report.exitCode,
    kernelRelease: report.host.kernelRelease,
    kernelVersion: report.host.kernelVersion,
    arch: report.host.arch,
    distribution: report.host.distribution ?? '',
    machineIdHash: report.host.machineIdHash ?? '',
    toolVersion: report.tool.version,
    schemaVersion: report.schemaVersion,
  };
  const props = Object.entries(properties)
    .map(([name, value]) => `      <property${attrs({ name, value })}/>`)
    .join('\n');
  // JUnit's timestamp has no zone designator or fraction; startedAt is UTC.
  const timestamp = new Date(report.startedAt).toISOString().replace(/\.\d+Z$/, '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: 'uring-probe', ...counts })}>`,
    `  <testsuite${attrs({ name: `uring-probe check on ${report.host.hostname}`, ...counts, timestamp, hostname: report.host.hostname })}>`,
    '    <properties>',
    props,
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

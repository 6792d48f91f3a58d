// Monitoring-plugin output (Nagios, Icinga, Naemon, NRPE), after the Monitoring Plugins Development
// Guidelines: one status line `uring_probe STATUS - text | perfdata`, then long-output lines (one per
// probe that did not pass, one per unmet gate requirement), and the exit code 0 OK / 1 WARNING /
// 2 CRITICAL / 3 UNKNOWN from the verdict. Text from reports (hostnames, summaries, reasons) never
// carries a control character, a newline or a `|` (which would start the performance data).
import type { ProbeResult, Report, Verdict } from '../types.js';
import { hostCapabilities } from '../gate/host-capabilities.js';
import { escapeControls } from './terminal-safe.js';

/** The service name at the start of the status line. */
export const NAGIOS_SERVICE = 'uring_probe';

/** The plugin state of each verdict, and its exit code (the verdict's own: src/types.ts EXIT). */
export const NAGIOS_STATES: Readonly<Record<Verdict, { word: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'; code: 0 | 1 | 2 | 3 }>> = {
  compatible: { word: 'OK', code: 0 },
  degraded: { word: 'WARNING', code: 1 },
  incompatible: { word: 'CRITICAL', code: 2 },
  unknown: { word: 'UNKNOWN', code: 3 },
};

/** The longest text of one status or long-output line (a summary past it is cut with an ellipsis). */
const MAX_TEXT = 300;

/**
 * `text` fit for one line of plugin output: control characters as escapes (a newline becomes the two
 * characters \n), `|` as `¦` (the broken bar: a `|` would start the performance data), runs of
 * blanks as one space, at most `max` characters.
 */
export function nagiosText(text: string, max = MAX_TEXT): string {
  const flat = escapeControls(text).replace(/\|/g, '\u00a6').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}\u2026`;
}

/** A performance-data value: plain decimal (never 1e+21 or NaN), at most 4 decimals. */
export function perfNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  const rounded = Number(n.toFixed(4));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

interface Perf {
  label: string;
  value: number;
  uom?: '' | 's' | 'ms' | 'us' | '%' | 'B' | 'KB' | 'MB' | 'TB' | 'c';
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

/** A label as the guidelines want it: quoted when it has a space, `=` or `'` (a `'` doubled). */
function perfLabel(label: string): string {
  return /[\s='"|]/.test(label) ? `'${label.replace(/'/g, "''")}'` : label;
}

/** `'label'=value[UOM];[warn];[crit];[min];[max]`, empty trailing fields dropped. */
function perfItem(p: Perf): string {
  const fields = [
    `${perfNumber(p.value)}${p.uom ?? ''}`,
    p.warn ?? '',
    p.crit ?? '',
    p.min === undefined ? '' : perfNumber(p.min),
    p.max === undefined ? '' : perfNumber(p.max),
  ];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${perfLabel(p.label)}=${fields.join(';')}`;
}

/** How a probe that did not pass is named: `ring-setup fail SECCOMP_BLOCKED (EPERM)`. */
function probeHead(p: ProbeResult): string {
  const why = [p.reason, p.errno ? `(${p.errno})` : null].filter((x) => x !== null).join(' ');
  return `${p.id} ${p.status}${why ? ` ${why}` : ''}`;
}

/** What the status line names first: the first failed probe, an unmet requirement, the first warning. */
function headline(report: Report): { text: string; count: number } | null {
  const failed = report.probes.filter((p) => p.status === 'fail');
  const warned = report.probes.filter((p) => p.status === 'warn');
  const unmet = report.gate?.unmet ?? [];
  const inconclusive = report.gate?.inconclusive ?? [];
  const items: string[] = [
    ...failed.map((p) => `${probeHead(p)}: ${p.summary}`),
    ...unmet.map((u) => `gate unmet ${u.requirement} (have: ${u.have})`),
    ...warned.map((p) => `${probeHead(p)}: ${p.summary}`),
    ...inconclusive.map((u) => `gate inconclusive ${u.requirement} (have: ${u.have})`),
  ];
  return items.length === 0 ? null : { text: items[0]!, count: items.length };
}

function compact(pps: number): string {
  if (pps >= 1e6) return `${(pps / 1e6).toFixed(2)}M`;
  if (pps >= 1e3) return `${Math.round(pps / 1e3)}k`;
  return String(Math.round(pps));
}

/** The facts of a report in a few words: kernel, the seed's rings, throughput, probe counts. */
function factsText(report: Report): string {
  const caps = hostCapabilities(report);
  const parts = [`kernel ${report.host.kernelRelease} ${report.host.arch}`];
  const { send, recv } = caps.rings;
  const rings = [send && send.entries !== null ? `send ${send.entries}` : null, recv && recv.entries !== null ? `recv ${recv.entries}` : null]
    .filter((x) => x !== null);
  if (rings.length > 0) parts.push(`seed rings ${rings.join('/')} entries`);
  if (caps.throughput.known) {
    const t = caps.throughput.value;
    const figures = [t.seedPps !== null ? `seed ${compact(t.seedPps)} pkt/s` : null, t.syscallPps !== null ? `syscall ${compact(t.syscallPps)} pkt/s` : null]
      .filter((x) => x !== null);
    if (t.ratio !== null) figures.push(`ratio ${t.ratio.toFixed(2)}`);
    if (figures.length > 0) parts.push(figures.join(', '));
  }
  const passed = report.probes.filter((p) => p.status === 'pass').length;
  parts.push(`${passed}/${report.probes.length} probes passed on ${report.host.hostname}`);
  return parts.join(', ');
}

function perfdata(report: Report): string {
  const caps = hostCapabilities(report);
  const items: Perf[] = [];
  if (caps.throughput.known) {
    const t = caps.throughput.value;
    const minPps = report.gate?.minPps ?? null;
    const minRatio = report.gate?.minRatio ?? null;
    if (t.seedPps !== null) items.push({ label: 'seed_pps', value: t.seedPps, crit: minPps !== null ? `${perfNumber(minPps)}:` : undefined, min: 0 });
    if (t.syscallPps !== null) items.push({ label: 'syscall_pps', value: t.syscallPps, min: 0 });
    if (t.ratio !== null) items.push({ label: 'ratio', value: t.ratio, crit: minRatio !== null ? `${perfNumber(minRatio)}:` : undefined, min: 0 });
  }
  const total = report.probes.length;
  const count = (status: ProbeResult['status']): number => report.probes.filter((p) => p.status === status).length;
  items.push(
    { label: 'probes_passed', value: count('pass'), min: 0, max: total },
    { label: 'probes_warned', value: count('warn'), min: 0, max: total },
    { label: 'probes_failed', value: count('fail'), min: 0, max: total },
    { label: 'probes_skipped', value: count('skip'), min: 0, max: total },
  );
  if (Number.isFinite(report.durationMs) && report.durationMs >= 0) {
    items.push({ label: 'duration', value: report.durationMs / 1000, uom: 's', min: 0 });
  }
  return items.map(perfItem).join(' ');
}

/** The long-output lines: each probe that did not pass, each unmet or inconclusive requirement. */
function longOutput(report: Report): string[] {
  const lines: string[] = [];
  for (const p of report.probes) {
    if (p.status === 'pass') continue;
    const fix = p.status !== 'skip' && p.remediation ? ` Fix: ${p.remediation}` : '';
    lines.push(nagiosText(`${p.status.toUpperCase()} ${p.id}${p.reason ? ` ${p.reason}` : ''}${p.errno ? ` (${p.errno})` : ''}: ${p.summary}${fix}`, 2 * MAX_TEXT));
  }
  for (const u of report.gate?.unmet ?? []) lines.push(nagiosText(`UNMET ${u.requirement}: ${u.have}`));
  for (const u of report.gate?.inconclusive ?? []) {
    if (!(report.gate?.unmet ?? []).some((x) => x.requirement === u.requirement)) lines.push(nagiosText(`INCONCLUSIVE ${u.requirement}: ${u.have}`));
  }
  return lines;
}

/** The plugin exit code of a report: 0/1/2/3 from its verdict. */
export function nagiosExitCode(report: Report): number {
  return (NAGIOS_STATES[report.verdict] ?? NAGIOS_STATES.unknown).code;
}

/**
 * The report as monitoring-plugin output: `uring_probe STATE - verdict: what | perfdata`, then the
 * long output. Works the same on a gated report (`check --require`, `gate`): an unmet requirement
 * is named like a failed probe and --min-pps / --min-ratio become the critical thresholds.
 */
export function renderNagios(report: Report): string {
  const state = NAGIOS_STATES[report.verdict] ?? NAGIOS_STATES.unknown;
  const head = headline(report);
  const facts = factsText(report);
  const text = head === null
    ? `${report.verdict}: ${facts}`
    : `${report.verdict}: ${nagiosText(head.text, 200)}${head.count > 1 ? ` (+${head.count - 1} more)` : ''}; ${facts}`;
  const status = `${NAGIOS_SERVICE} ${state.word} - ${nagiosText(text, 2 * MAX_TEXT)} | ${perfdata(report)}`;
  return `${[status, ...longOutput(report)].join('\n')}\n`;
}

/**
 * What a plugin prints when there is no report to judge (an unreadable report for `gate`, an
 * internal error): `uring_probe UNKNOWN - why`, exit 3 (NAGIOS_STATES.unknown.code), no perfdata.
 */
export function renderNagiosUnknown(why: string): string {
  return `${NAGIOS_SERVICE} UNKNOWN - ${nagiosText(why, 2 * MAX_TEXT) || 'no report'}\n`;
}

// Human renderer: header, one table row per probe, the verdict; --verbose adds facts, remediation, the setup ladder
// and, at the foot, what the port found in the seed.
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { seedFinding } from '../seed/findings.js';
import type { FactValue, ProbeResult, ProbeStatus, Report, SetupAttempt, Verdict } from '../types.js';
import { terminalSafe } from './terminal-safe.js';

export interface HumanOptions {
  /** ANSI colour (the caller decides: a TTY and no NO_COLOR) */
  color: boolean;
  verbose: boolean;
  /** terminal width to wrap the table to (default 110) */
  width?: number;
}

const VERDICT_TEXT: Record<Verdict, string> = {
  compatible: 'COMPATIBLE: the seed\'s io_uring data path, as the port exercised it, works on this host without a fallback',
  degraded: 'DEGRADED: works, with fallbacks (see the warnings)',
  incompatible: 'INCOMPATIBLE: the seed\'s io_uring data path cannot run here',
  unknown: 'UNKNOWN: some checks could not be made (see the failures)',
};

function statusLabel(c: ChalkInstance, status: ProbeStatus): string {
  switch (status) {
    case 'pass':
      return c.green('PASS');
    case 'warn':
      return c.yellow('WARN');
    case 'fail':
      return c.red.bold('FAIL');
    case 'skip':
      return c.gray('SKIP');
  }
}

function verdictColor(c: ChalkInstance, verdict: Verdict): (s: string) => string {
  switch (verdict) {
    case 'compatible':
      return c.green.bold;
    case 'degraded':
      return c.yellow.bold;
    case 'incompatible':
      return c.red.bold;
    case 'unknown':
      return c.magenta.bold;
  }
}

function scalar(v: FactValue, nullText: string): string {
  if (v === null) return nullText;
  if (typeof v === 'string') return v;
  return String(v);
}

/**
 * Facts as `path: value` lines; arrays of scalars on one line. `nullText` shows a null: the
 * environment probe's nulls mean "could not tell", elsewhere they mean "none" (e.g. no errno).
 */
export function flattenFacts(value: FactValue, path = '', nullText = '-'): Array<[string, string]> {
  if (Array.isArray(value)) {
    if (value.every((x) => x === null || typeof x !== 'object')) {
      return [[path, value.length ? value.map((x) => scalar(x, nullText)).join(', ') : '(none)']];
    }
    return value.flatMap((x, i) => flattenFacts(x, `${path}[${i}]`, nullText));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return [[path, '{}']];
    return entries.flatMap(([k, x]) => flattenFacts(x, path ? `${path}.${k}` : k, nullText));
  }
  return [[path, scalar(value, nullText)]];
}

function ladderTable(attempts: SetupAttempt[], c: ChalkInstance): string {
  const table = new Table({
    head: ['Ring', 'Stage', 'Entries', 'Flags', 'Result', 'Next'],
    style: { head: [], border: [] },
  });
  for (const a of attempts) {
    table.push([
      a.ring,
      a.stage,
      String(a.entries),
      `${a.flags.join('|') || '-'} (0x${a.flagsRaw.toString(16)})`,
      a.ok ? c.green('ok') : c.red(a.errno ?? 'error'),
      a.next,
    ]);
  }
  return table.toString();
}

function probeDetails(p: ProbeResult, c: ChalkInstance): string[] {
  const lines: string[] = [];
  lines.push('');
  lines.push(c.bold(`${p.id} — ${p.title}`) + `  [${statusLabel(c, p.status)}, ${p.durationMs} ms]`);
  lines.push(`  ${p.summary}`);
  if (p.reason || p.errno) lines.push(`  reason: ${p.reason ?? '-'}${p.errno ? `, errno: ${p.errno}` : ''}`);
  if (p.remediation) lines.push(`  ${c.cyan('what to do:')} ${p.remediation}`);
  if (p.attempts && p.attempts.length > 0) {
    lines.push('  setup ladder:');
    for (const ring of ['send', 'recv'] as const) {
      const ofRing = p.attempts.filter((a) => a.ring === ring);
      if (ofRing.length === 0) continue;
      lines.push(...ladderTable(ofRing, c).split('\n').map((l) => `    ${l}`));
    }
  }
  const facts = flattenFacts(p.facts, '', p.id === 'environment' ? 'unknown (could not tell)' : '-');
  if (facts.length > 0 && !(facts.length === 1 && facts[0]![1] === '{}')) {
    lines.push('  facts:');
    for (const [k, v] of facts) lines.push(`    ${c.gray(`${k}:`)} ${v}`);
  }
  return lines;
}

function limitText(v: number | 'infinity'): string {
  return v === 'infinity' ? 'unlimited' : `${Math.ceil(v / 1024)} KiB`;
}

/** The header lines that say whose context the kernel probes ran in. */
export function contextLines(ctx: Report['context']): string[] {
  if (!ctx) return [];
  const lines: string[] = [];
  const c = ctx.container;
  if (c.inContainer === true) {
    lines.push(`  container     ${c.runtime ?? 'unknown runtime'}${c.orchestrator ? ` (${c.orchestrator})` : ''}${c.cannotTell ? `: ${c.cannotTell}` : ''}`);
  } else if (c.inContainer === null && c.cannotTell) {
    lines.push(`  container     cannot tell: ${c.cannotTell}`);
  }
  if (ctx.asInvoked) return lines;
  const u = ctx.user;
  lines.push(`  probed as     ${u.name ?? `uid ${u.uid}`} (uid ${u.uid}, gid ${u.gid}, groups ${u.groups.join(',') || 'none'}) from ${u.source}`);
  if (ctx.capabilities !== null) lines.push(`  capabilities  ${ctx.capabilities.join(' ') || 'none'}`);
  if (ctx.memlock) lines.push(`  memlock       ${limitText(ctx.memlock.soft)} (hard ${limitText(ctx.memlock.hard)}) from ${ctx.memlock.source}`);
  if (ctx.seccomp) {
    const s = ctx.seccomp;
    lines.push(`  seccomp       ${s.source === 'oci-profile' ? 'profile' : 'SystemCallFilter= of'} ${s.path}: default ${s.defaultAction}, applied with ${s.library ?? 'libseccomp'}`);
    for (const v of s.ioUring) {
      const by = v.by === 'default' ? 'the default action' : v.by === 'conditional' ? `${v.rules.join(', ')} when its arguments match, else ${v.otherwise ?? '?'}` : v.rules[0] ?? 'a rule';
      lines.push(`                ${v.syscall.padEnd(18)} ${v.action} (${by})`);
    }
  }
  if (ctx.systemdUnit) lines.push(`  systemd unit  ${ctx.systemdUnit.path}${ctx.systemdUnit.dropIns.length ? ` + ${ctx.systemdUnit.dropIns.length} drop-in(s)` : ''}`);
  for (const note of ctx.notes) lines.push(`  note          ${note}`);
  return lines;
}

/** Wrap `text` to `width`: the first line after `head`, the rest indented as far (also for `explain`). */
export function wrapAfter(head: string, text: string, width: number): string[] {
  const room = Math.max(30, width - head.length);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? head : ' '.repeat(head.length)) + l);
}

/** The foot of --verbose: the report's seed findings, id and title, and where to read more. */
function seedFindingLines(ids: readonly string[] | undefined, c: ChalkInstance, width: number): string[] {
  if (!ids || ids.length === 0) return [];
  const pad = Math.max(...ids.map((id) => id.length)) + 2;
  const lines = ['', c.bold('What the port found in the seed:')];
  for (const id of ids) {
    const title = seedFinding(id)?.title ?? '(not in this version\'s table)';
    lines.push(...wrapAfter(`  ${id.padEnd(pad)}`, title, width));
  }
  lines.push('  `uring-probe explain seed` for details, `uring-probe explain seed:ID` for one.');
  return lines;
}

export function renderHuman(raw: Report, options: HumanOptions): string {
  const report = terminalSafe(raw);
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = Math.max(60, options.width ?? 110);
  const h = report.host;
  const lines: string[] = [];
  lines.push(c.bold(`uring-probe ${report.tool.version} check on ${h.hostname}`));
  lines.push(`  kernel        ${h.kernelRelease} (${h.kernelVersion}) ${h.arch}`);
  lines.push(`  distribution  ${h.distribution ?? 'unknown'}`);
  lines.push(`  started       ${report.startedAt}, took ${report.durationMs} ms`);
  for (const line of contextLines(report.context)) lines.push(line);
  lines.push('');

  const statusWidth = 8;
  const idWidth = Math.max(8, ...report.probes.map((p) => p.id.length)) + 2;
  const summaryWidth = Math.max(30, width - statusWidth - idWidth - 4);
  const table = new Table({
    head: ['Status', 'Probe', 'Summary'],
    colWidths: [statusWidth, idWidth, summaryWidth],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const p of report.probes) {
    const summary = p.reason && p.status !== 'pass' ? `${p.summary} [${p.reason}]` : p.summary;
    table.push([statusLabel(c, p.status), p.id, summary]);
  }
  lines.push(table.toString());

  if (options.verbose) {
    for (const p of report.probes) lines.push(...probeDetails(p, c));
  } else {
    const todo = report.probes.filter((p) => p.remediation && (p.status === 'fail' || p.status === 'warn'));
    if (todo.length > 0) {
      lines.push('');
      for (const p of todo) lines.push(`${statusLabel(c, p.status)} ${p.id}: ${p.remediation}`);
    }
  }
  if (report.gate) {
    lines.push('');
    lines.push(`Gate: ${report.gate.passed ? c.green('passed') : c.red('failed')}`);
    for (const u of report.gate.unmet) lines.push(`  unmet: ${u.requirement} (have ${u.have})`);
    if (!report.gate.strict) for (const u of report.gate.inconclusive ?? []) lines.push(`  inconclusive: ${u.requirement} (have ${u.have}; unmet only with --strict)`);
  }
  lines.push('');
  // A failed gate raises the verdict without any probe failing: say so instead of blaming the kernel.
  const gateOnly = report.gate && !report.gate.passed && !report.probes.some((p) => p.status === 'fail');
  const verdictText = gateOnly
    ? `${report.verdict.toUpperCase()}: this host does not meet the gate's requirements`
    : VERDICT_TEXT[report.verdict];
  lines.push(`Verdict: ${verdictColor(c, report.verdict)(verdictText)} (exit ${report.exitCode})`);
  if (options.verbose) lines.push(...seedFindingLines(report.seedFindings, c, width));
  return `${lines.join('\n')}\n`;
}

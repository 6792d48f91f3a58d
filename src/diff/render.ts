// Renderers of a report diff: human (what changed, worst first) and json ($defs/diff in the schema).
import { Chalk } from 'chalk';
import type { ReportDiff } from './diff.js';
import { jsonText, terminalSafe } from '../report/terminal-safe.js';

export const DIFF_FORMATS = ['human', 'json'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export interface DiffDocument extends ReportDiff {
  schemaVersion: 1;
  tool: { name: 'uring-probe'; version: string };
  kind: 'report-diff';
  exitCode: number;
}

export function diffDocument(d: ReportDiff, toolVersion: string, exitCode: number): DiffDocument {
  return { schemaVersion: 1, tool: { name: 'uring-probe', version: toolVersion }, kind: 'report-diff', ...d, exitCode };
}

export function renderDiffJson(doc: DiffDocument): string {
  return `${jsonText(doc)}\n`;
}

function signed(n: number): string {
  return `${n > 0 ? '+' : ''}${n.toFixed(1)}%`;
}

export function renderDiffHuman(diff: ReportDiff, options: { color: boolean }): string {
  const d = terminalSafe(diff);
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  out.push(c.bold(`uring-probe diff: ${d.host.hostname}`) + (d.host.sameMachine ? '' : c.yellow(' (the two reports are from different machines)')));
  out.push(`  old  ${d.old.startedAt}  kernel ${d.old.kernelRelease}  ${d.old.verdict}  (uring-probe ${d.old.toolVersion})`);
  out.push(`  new  ${d.new.startedAt}  kernel ${d.new.kernelRelease}  ${d.new.verdict}  (uring-probe ${d.new.toolVersion})`);
  out.push('');
  const verdictLine = `verdict: ${d.old.verdict} -> ${d.new.verdict}`;
  out.push(d.verdictChanged ? (d.verdictWorse ? c.red(verdictLine) : c.green(verdictLine)) : `verdict: ${d.new.verdict} (unchanged)`);

  const lost = d.capabilities.filter((x) => !x.gained);
  const gained = d.capabilities.filter((x) => x.gained);
  if (lost.length > 0) out.push(c.red(`lost:   ${lost.map((x) => x.name).join(' ')}`));
  if (gained.length > 0) out.push(c.green(`gained: ${gained.map((x) => x.name).join(' ')}`));
  if (d.capabilities.length === 0) out.push('features, flags and ops: unchanged');

  for (const l of d.ladder) {
    const line = `${l.ring} ring: ${l.from} -> ${l.to}`;
    out.push(l.worse ? c.red(line) : line);
  }
  if (d.ladder.length === 0) out.push('setup ladder: unchanged');

  for (const p of d.probes) {
    const from = p.from ? `${p.from.status}${p.from.reason ? ` ${p.from.reason}` : ''}` : 'absent';
    const to = p.to ? `${p.to.status}${p.to.reason ? ` ${p.to.reason}` : ''}` : 'absent';
    const line = `probe ${p.probe}: ${from} -> ${to}`;
    out.push(p.worse ? c.red(line) : line);
  }

  if (d.throughput.length > 0) {
    const names = { seedPps: 'seed pps', syscallPps: 'syscall pps', ratio: 'seed/syscall' } as const;
    const fmt = (f: (typeof d.throughput)[number], n: number): string => (f.figure === 'ratio' ? n.toFixed(2) : Math.round(n).toLocaleString('en-US'));
    out.push(`throughput: ${d.throughput.map((f) => `${names[f.figure]} ${fmt(f, f.from)} -> ${fmt(f, f.to)} (${signed(f.changePercent)})`).join(', ')}`);
  } else {
    out.push('throughput: not measured in both reports');
  }
  out.push('');
  out.push(d.regression ? c.red(`REGRESSION: ${d.regressions.join('; ')}`) : c.green('No regression.'));
  return `${out.join('\n')}\n`;
}

// Fleet roll-up renderers: human (sections and tables), json (versioned document), csv (one row per host).
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import type { GatePolicy } from '../gate/evaluate.js';
import { policyDocument, type PolicyDocument } from '../gate/policy.js';
import type { FleetRollup, HostSummary, Percentiles } from './rollup.js';
import { VERDICTS } from './rollup.js';
import { csvSafeText, escapeControls, jsonText, terminalSafe } from '../report/terminal-safe.js';

export const FLEET_FORMATS = ['human', 'json', 'csv'] as const;
export type FleetFormat = (typeof FLEET_FORMATS)[number];

/** The JSON document of `uring-probe fleet --format json` ($defs/fleetRollup in the schema). */
export interface FleetDocument {
  schemaVersion: 1;
  tool: { name: 'uring-probe'; version: string };
  kind: 'fleet-rollup';
  generatedAt: string;
  inputs: { documents: number; hosts: number; duplicates: number; skipped: number };
  policy: PolicyDocument | null;
  byVerdict: FleetRollup['byVerdict'];
  byKernel: FleetRollup['byKernel'];
  byReason: FleetRollup['byReason'];
  matrix: FleetRollup['matrix'];
  throughput: FleetRollup['throughput'];
  failing: Array<{
    hostname: string;
    machineIdHash: string | null;
    kernelRelease: string;
    verdict: HostSummary['verdict'];
    source: string;
    startedAt: string;
    reasons: Array<{ probe: string; status: string; reason: string | null; summary: string }>;
    unmet: Array<{ requirement: string; have: string }>;
  }>;
  skipped: FleetRollup['skipped'];
  exitCode: number;
}

export function fleetDocument(r: FleetRollup, toolVersion: string, policy: GatePolicy | null, now = new Date()): FleetDocument {
  return {
    schemaVersion: 1,
    tool: { name: 'uring-probe', version: toolVersion },
    kind: 'fleet-rollup',
    generatedAt: now.toISOString(),
    inputs: { documents: r.documents, hosts: r.hosts, duplicates: r.duplicates, skipped: r.skipped.length },
    policy: policy ? policyDocument(policy) : null,
    byVerdict: r.byVerdict,
    byKernel: r.byKernel,
    byReason: r.byReason,
    matrix: r.matrix,
    throughput: r.throughput,
    failing: r.failing.map((h) => ({
      hostname: h.hostname,
      machineIdHash: h.machineIdHash,
      kernelRelease: h.kernelRelease,
      verdict: h.verdict,
      source: h.source,
      startedAt: h.startedAt,
      reasons: h.problems.filter((p) => p.status === 'fail' || p.status === 'warn'),
      unmet: h.gate?.unmet ?? [],
    })),
    skipped: r.skipped,
    exitCode: r.exitCode,
  };
}

export function renderFleetJson(doc: FleetDocument): string {
  return `${jsonText(doc)}\n`;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number | boolean | null): string {
  const text = value === null ? '' : typeof value === 'string' ? csvSafeText(escapeControls(value)) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  'hostname', 'machine_id_hash', 'kernel_release', 'arch', 'distribution', 'verdict', 'exit_code', 'failing',
  'reasons', 'seed_pps', 'syscall_pps', 'ratio', 'gate_passed', 'unmet', 'started_at', 'source',
] as const;

/** One row per host (after de-duplication), header first. */
export function renderFleetCsv(r: FleetRollup): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const h of r.hostList) {
    const reasons = h.problems.filter((p) => p.reason !== null).map((p) => `${p.probe}:${p.reason}`).join(' ');
    const unmet = (h.gate?.unmet ?? []).map((u) => u.requirement).join(' ');
    rows.push([
      h.hostname, h.machineIdHash, h.kernelRelease, h.arch, h.distribution, h.verdict, h.exitCode, h.failing,
      reasons, h.seedPps, h.syscallPps, h.ratio === null ? null : Number(h.ratio.toFixed(4)),
      h.gate ? h.gate.passed : null, unmet, h.startedAt, h.source,
    ].map(csvField).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(part === whole || part === 0 ? 0 : 1)}%`;
}

function percentileRow(name: string, p: Percentiles | null, fmt: (n: number) => string): string[] {
  return p ? [name, String(p.hosts), fmt(p.p5), fmt(p.p50), fmt(p.p95)] : [name, '0', '-', '-', '-'];
}

function table(head: string[], rows: string[][], c: InstanceType<typeof Chalk>): string {
  const t = new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] } });
  for (const r of rows) t.push(r);
  return t.toString();
}

export interface FleetHumanOptions {
  color: boolean;
  /** list every failing host (default: the first 20) */
  verbose: boolean;
}

export function renderFleetHuman(rollup: FleetRollup, options: FleetHumanOptions): string {
  const r = terminalSafe(rollup);
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  out.push(c.bold(`uring-probe fleet: ${r.hosts} host${r.hosts === 1 ? '' : 's'} from ${r.documents} document${r.documents === 1 ? '' : 's'}`) +
    (r.duplicates > 0 ? ` (${r.duplicates} older or repeated report${r.duplicates === 1 ? '' : 's'} of the same machine ignored)` : '') +
    (r.skipped.length > 0 ? c.red(`, ${r.skipped.length} skipped`) : ''));
  out.push('');
  out.push(c.bold('Hosts by verdict'));
  out.push(table(['verdict', 'hosts', 'share'], VERDICTS.map((v) => [v, String(r.byVerdict[v]), pct(r.byVerdict[v], r.hosts)]), c));
  out.push('');
  out.push(c.bold('Hosts by kernel release'));
  out.push(table(['kernel', 'hosts', ...VERDICTS], r.byKernel.map((k) => [k.kernelRelease, String(k.hosts), ...VERDICTS.map((v) => String(k.byVerdict[v]))]), c));
  if (r.byReason.length > 0) {
    out.push('');
    out.push(c.bold('Hosts by reason code (probes that did not pass)'));
    out.push(table(['reason', 'hosts', 'probes'], r.byReason.map((x) => [x.reason, String(x.hosts), x.probes.join(', ')]), c));
  }
  if (r.matrix.length > 0) {
    out.push('');
    out.push(c.bold('Support matrix (hosts that have it / hosts where it was measured)'));
    const interesting = options.verbose ? r.matrix : r.matrix.filter((m) => m.kind !== 'op' || /^op:(SEND|RECV|SENDMSG|RECVMSG|SEND_ZC|SENDMSG_ZC|RECV_ZC|PROVIDE_BUFFERS|SOCKET|BIND|LISTEN|READ_MULTISHOT)$/.test(m.name));
    out.push(table(['kind', 'name', 'hosts', 'of', 'share'], interesting.map((m) => [m.kind, m.name, String(m.hosts), String(m.measured), pct(m.hosts, m.measured)]), c));
    if (!options.verbose && interesting.length < r.matrix.length) out.push(c.gray(`  (${r.matrix.length - interesting.length} more opcodes with --verbose or --format json)`));
  }
  out.push('');
  out.push(c.bold('Loopback throughput over hosts (received packets/s)'));
  out.push(table(['figure', 'hosts', 'p5', 'p50', 'p95'], [
    percentileRow('seed pps', r.throughput.seedPps, fmtInt),
    percentileRow('syscall pps', r.throughput.syscallPps, fmtInt),
    percentileRow('seed/syscall', r.throughput.ratio, (n) => n.toFixed(2)),
  ], c));
  out.push('');
  if (r.failing.length === 0) {
    out.push(c.green('No failing hosts.'));
  } else {
    out.push(c.bold(c.red(`Failing hosts (${r.failing.length})`)));
    const shown = options.verbose ? r.failing : r.failing.slice(0, 20);
    for (const h of shown) {
      out.push(`  ${c.bold(h.hostname)} ${h.kernelRelease} ${h.verdict.toUpperCase()} (${h.source})`);
      for (const p of h.problems.filter((x) => x.status === 'fail' || x.status === 'warn')) {
        out.push(`    ${p.probe} ${p.status}${p.reason ? ` ${p.reason}` : ''}: ${p.summary}`);
      }
      for (const u of h.gate?.unmet ?? []) out.push(`    unmet ${u.requirement}: have ${u.have}`);
    }
    if (shown.length < r.failing.length) out.push(c.gray(`  ... ${r.failing.length - shown.length} more (--verbose, or --format csv)`));
  }
  if (r.skipped.length > 0) {
    out.push('');
    out.push(c.bold(c.red(`Skipped inputs (${r.skipped.length})`)));
    for (const s of r.skipped) out.push(`  ${s.source}: ${s.problem}: ${s.message}`);
  }
  out.push('');
  out.push(`exit code ${r.exitCode}` + (r.exitCode === 0 ? ' (every input rolled up, no failing host)' : ` (${[
    r.exitCode & 2 ? 'failing hosts' : '',
    r.exitCode & 4 ? 'skipped inputs' : '',
  ].filter(Boolean).join(' + ')})`));
  return `${out.join('\n')}\n`;
}

// Fleet roll-up: many hosts' reports -> hosts by verdict, kernel and reason, a feature matrix, throughput percentiles, failing hosts.
import type { GateOutcome, ReasonCode, Report, Verdict } from '../types.js';
import { EXIT } from '../types.js';
import { evaluateGate, judgedVerdict, policyIsActive, type GatePolicy } from '../gate/evaluate.js';
import { hostCapabilities, type HostCapabilities } from '../gate/host-capabilities.js';
import { FEATURES, MEASURED_REGISTER_OPS, OPCODES, SETUP_FLAGS } from '../gate/names.js';
import type { ReadProblem } from '../reader.js';
import type { InputDocument } from './inputs.js';

/** Fleet exit codes (bits that add up): documented in README.md. */
export const FLEET_EXIT = {
  ok: 0,
  /** at least one host is incompatible or unknown, or failed the gate */
  failingHosts: 2,
  /** at least one input was skipped (malformed, truncated, foreign, unknown version, unreadable) */
  skippedInputs: 4,
  usage: 64,
} as const;

const VERDICTS: readonly Verdict[] = ['compatible', 'degraded', 'incompatible', 'unknown'];

/** What the roll-up keeps of one report (the report itself is dropped after reading). */
export interface HostSummary {
  source: string;
  key: string;
  hostname: string;
  machineIdHash: string | null;
  kernelRelease: string;
  arch: string;
  distribution: string | null;
  startedAt: string;
  startedMs: number;
  verdict: Verdict;
  exitCode: number;
  /** probes that did not pass, with their reason */
  problems: Array<{ probe: string; status: string; reason: ReasonCode | null; summary: string }>;
  /** capability keys measured on this host, and the subset it has (feat:X, flag:X, op:X, reg:X, multishot-recvmsg) */
  measured: string[];
  has: string[];
  seedPps: number | null;
  syscallPps: number | null;
  ratio: number | null;
  gate: GateOutcome | null;
  failing: boolean;
}

export interface Percentiles {
  hosts: number;
  p5: number;
  p50: number;
  p95: number;
}

export interface MatrixRow {
  kind: 'feature' | 'flag' | 'op' | 'register' | 'capability';
  name: string;
  hosts: number;
  measured: number;
}

export interface FleetRollup {
  documents: number;
  hosts: number;
  duplicates: number;
  byVerdict: Record<Verdict, number>;
  byKernel: Array<{ kernelRelease: string; hosts: number; byVerdict: Record<Verdict, number> }>;
  byReason: Array<{ reason: ReasonCode; hosts: number; probes: string[] }>;
  matrix: MatrixRow[];
  throughput: { seedPps: Percentiles | null; syscallPps: Percentiles | null; ratio: Percentiles | null };
  failing: HostSummary[];
  skipped: Array<{ source: string; problem: ReadProblem; message: string }>;
  /** every host after de-duplication, newest report per machine, sorted by hostname */
  hostList: HostSummary[];
  exitCode: number;
}

function emptyVerdicts(): Record<Verdict, number> {
  return { compatible: 0, degraded: 0, incompatible: 0, unknown: 0 };
}

/** The capability keys a report measured and those it has. */
function capabilityKeys(caps: HostCapabilities): { measured: string[]; has: string[] } {
  const measured: string[] = [];
  const has: string[] = [];
  if (caps.features.known) {
    for (const f of FEATURES) {
      measured.push(`feat:${f.name}`);
      if (caps.features.value.has(f.name)) has.push(`feat:${f.name}`);
    }
  }
  if (caps.setupFlags.known) {
    for (const [name, o] of caps.setupFlags.value) {
      measured.push(`flag:${name}`);
      if (o.accepted) has.push(`flag:${name}`);
    }
  }
  if (caps.ops.known) {
    for (const [name, ok] of caps.ops.value) {
      measured.push(`op:${name}`);
      if (ok) has.push(`op:${name}`);
    }
  }
  if (caps.workerLimit.known) {
    measured.push('reg:IOWQ_MAX_WORKERS');
    if (caps.workerLimit.value.accepted) has.push('reg:IOWQ_MAX_WORKERS');
  }
  if (caps.opcodeProbe.known) {
    measured.push('reg:PROBE');
    if (caps.opcodeProbe.value.accepted) has.push('reg:PROBE');
  }
  if (caps.multishotRecvmsg.known) {
    measured.push('multishot-recvmsg');
    if (caps.multishotRecvmsg.value) has.push('multishot-recvmsg');
  }
  return { measured, has };
}


/** Longest name (hostname, kernel release, source path) and text (a probe's summary) a roll-up keeps per host. */
export const KEPT_NAME_CHARS = 256;
export const KEPT_TEXT_CHARS = 2048;

/** `text`, cut to `max` characters with an ellipsis that says how much was left out. */
function kept(text: string, max: number): string {
  if (text.length <= max) return text;
  // slice() of a huge string can keep the whole string alive in V8; a copy through Buffer cannot
  return `${Buffer.from(text.slice(0, max), 'utf8').toString('utf8')}… (${text.length - max} more characters)`;
}

/** Reduce one report to what the roll-up needs, gating it when a policy is given. */
export function summarise(report: Report, source: string, policy: GatePolicy | null): HostSummary {
  const caps = hostCapabilities(report);
  const { measured, has } = capabilityKeys(caps);
  const t = caps.throughput.known ? caps.throughput.value : null;
  const gate = policy && policyIsActive(policy) ? evaluateGate(report, policy) : report.gate ?? null;
  // Recomputed from the probes (and the gate), never taken from the report's own verdict field.
  const verdict = judgedVerdict(report, gate);
  const startedMs = Date.parse(report.startedAt);
  // What is kept per host is capped: a report's strings are untrusted, and a roll-up of thousands
  // of hosts must not hold a megabyte-long hostname or summary for each.
  return {
    source: kept(source, KEPT_NAME_CHARS),
    key: kept(report.host.machineIdHash ?? `hostname:${report.host.hostname}`, KEPT_NAME_CHARS),
    hostname: kept(report.host.hostname, KEPT_NAME_CHARS),
    machineIdHash: report.host.machineIdHash === null ? null : kept(report.host.machineIdHash, KEPT_NAME_CHARS),
    kernelRelease: kept(report.host.kernelRelease, KEPT_NAME_CHARS),
    arch: kept(report.host.arch, KEPT_NAME_CHARS),
    distribution: report.host.distribution === null ? null : kept(report.host.distribution, KEPT_NAME_CHARS),
    startedAt: report.startedAt,
    startedMs: Number.isNaN(startedMs) ? 0 : startedMs,
    verdict,
    exitCode: EXIT[verdict],
    problems: report.probes
      .filter((p) => p.status !== 'pass')
      .map((p) => ({ probe: kept(p.id, KEPT_NAME_CHARS), status: p.status, reason: p.reason, summary: kept(p.summary, KEPT_TEXT_CHARS) })),
    measured,
    has,
    seedPps: t?.seedPps ?? null,
    syscallPps: t?.syscallPps ?? null,
    ratio: t?.ratio ?? null,
    gate,
    failing: verdict === 'incompatible' || verdict === 'unknown' || (gate !== null && !gate.passed),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

function percentiles(values: Array<number | null>): Percentiles | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return { hosts: v.length, p5: percentile(v, 5), p50: percentile(v, 50), p95: percentile(v, 95) };
}

/** Compare kernel releases numerically where they are numeric (6.10 after 6.9). */
function compareReleases(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** How far past the roll-up's own clock a report may be dated (clock skew between hosts). */
export const FUTURE_SLACK_MS = 24 * 3600 * 1000;

/** Accumulates documents one by one (so 10,000 reports never sit in memory together). */
export class FleetAccumulator {
  private readonly byKey = new Map<string, HostSummary>();
  private readonly skipped: FleetRollup['skipped'] = [];
  private documents = 0;
  private duplicates = 0;

  /** `now`: the roll-up's clock; a report dated more than FUTURE_SLACK_MS after it is skipped. */
  constructor(
    private readonly policy: GatePolicy | null = null,
    private readonly now: number = Date.now(),
  ) {}

  add(doc: InputDocument): void {
    this.documents += 1;
    if (!doc.outcome.ok) {
      this.skipped.push({ source: doc.source, problem: doc.outcome.problem, message: doc.outcome.message });
      return;
    }
    this.addReport(doc.outcome.report, doc.source);
  }

  addReport(report: Report, source: string): void {
    const summary = summarise(report, source, this.policy);
    // "The newest report counts": a report from the future (a wrong clock, or forged) would hide
    // every real report of its machine, so it is skipped with its reason instead.
    if (summary.startedMs > this.now + FUTURE_SLACK_MS) {
      this.skipped.push({
        source,
        problem: 'future-date',
        message: `dated ${report.startedAt}, more than a day after this roll-up (${new Date(this.now).toISOString()}): a wrong clock or a forged report; it would hide this machine's real reports`,
      });
      return;
    }
    const previous = this.byKey.get(summary.key);
    if (previous) {
      this.duplicates += 1;
      // The newest report of a machine counts; on a tie the one read later.
      if (summary.startedMs < previous.startedMs) return;
    }
    this.byKey.set(summary.key, summary);
  }

  finish(): FleetRollup {
    const hosts = [...this.byKey.values()].sort((a, b) =>
      a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.key < b.key ? -1 : 1);
    const byVerdict = emptyVerdicts();
    const kernels = new Map<string, { hosts: number; byVerdict: Record<Verdict, number> }>();
    const reasons = new Map<ReasonCode, { hosts: number; probes: Set<string> }>();
    const measuredCount = new Map<string, number>();
    const hasCount = new Map<string, number>();
    for (const h of hosts) {
      byVerdict[h.verdict] += 1;
      const k = kernels.get(h.kernelRelease) ?? { hosts: 0, byVerdict: emptyVerdicts() };
      k.hosts += 1;
      k.byVerdict[h.verdict] += 1;
      kernels.set(h.kernelRelease, k);
      const seen = new Set<ReasonCode>();
      for (const p of h.problems) {
        if (p.reason === null) continue;
        const r = reasons.get(p.reason) ?? { hosts: 0, probes: new Set<string>() };
        if (!seen.has(p.reason)) r.hosts += 1;
        seen.add(p.reason);
        r.probes.add(p.probe);
        reasons.set(p.reason, r);
      }
      for (const m of h.measured) measuredCount.set(m, (measuredCount.get(m) ?? 0) + 1);
      for (const m of h.has) hasCount.set(m, (hasCount.get(m) ?? 0) + 1);
    }
    const matrix: MatrixRow[] = [];
    const row = (kind: MatrixRow['kind'], key: string, name: string): void => {
      const measured = measuredCount.get(key) ?? 0;
      if (measured > 0) matrix.push({ kind, name, hosts: hasCount.get(key) ?? 0, measured });
    };
    for (const f of SETUP_FLAGS) row('flag', `flag:${f.name}`, f.name);
    for (const f of FEATURES) row('feature', `feat:${f.name}`, f.name);
    for (const op of OPCODES) row('op', `op:${op}`, `op:${op}`);
    for (const r of Object.keys(MEASURED_REGISTER_OPS)) row('register', `reg:${r}`, r === 'PROBE' ? 'reg:PROBE' : r);
    row('capability', 'multishot-recvmsg', 'multishot-recvmsg');

    const failing = hosts.filter((h) => h.failing);
    const exitCode = (failing.length > 0 ? FLEET_EXIT.failingHosts : 0) | (this.skipped.length > 0 ? FLEET_EXIT.skippedInputs : 0);
    return {
      documents: this.documents,
      hosts: hosts.length,
      duplicates: this.duplicates,
      byVerdict,
      byKernel: [...kernels.entries()]
        .map(([kernelRelease, v]) => ({ kernelRelease, ...v }))
        .sort((a, b) => b.hosts - a.hosts || compareReleases(b.kernelRelease, a.kernelRelease)),
      byReason: [...reasons.entries()]
        .map(([reason, v]) => ({ reason, hosts: v.hosts, probes: [...v.probes].sort() }))
        .sort((a, b) => b.hosts - a.hosts || (a.reason < b.reason ? -1 : 1)),
      matrix,
      throughput: {
        seedPps: percentiles(hosts.map((h) => h.seedPps)),
        syscallPps: percentiles(hosts.map((h) => h.syscallPps)),
        ratio: percentiles(hosts.map((h) => h.ratio)),
      },
      failing,
      skipped: this.skipped,
      hostList: hosts,
      exitCode,
    };
  }
}

export { VERDICTS };

// What changed between two reports of one host: verdict, capabilities gained or lost, probes, ladder, throughput.
import type { ProbeStatus, Report, Verdict } from '../types.js';
import { hostCapabilities, type HostCapabilities, type RingOutcome } from '../gate/host-capabilities.js';

/** Diff exit codes: documented in README.md. */
export const DIFF_EXIT = {
  /** nothing got worse (there may be gains) */
  noRegression: 0,
  /** something got worse: verdict, a capability lost, a probe's status, the ladder */
  regression: 2,
  usage: 64,
  /** a report could not be read (see the message) */
  unreadable: 65,
} as const;

const VERDICT_RANK: Record<Verdict, number> = { compatible: 0, degraded: 1, unknown: 2, incompatible: 3 };
const STATUS_RANK: Record<ProbeStatus, number> = { pass: 0, warn: 1, skip: 2, fail: 3 };

export interface CapabilityChange {
  kind: 'feature' | 'flag' | 'op' | 'register' | 'capability';
  name: string;
  /** true gained, false lost */
  gained: boolean;
}

export interface ProbeChange {
  probe: string;
  from: { status: ProbeStatus; reason: string | null } | null;
  to: { status: ProbeStatus; reason: string | null } | null;
  worse: boolean;
}

export interface LadderChange {
  ring: 'send' | 'recv';
  from: string;
  to: string;
  worse: boolean;
}

export interface FigureChange {
  figure: 'seedPps' | 'syscallPps' | 'ratio';
  from: number;
  to: number;
  /** (to - from) / from * 100 */
  changePercent: number;
}

export interface ReportDiff {
  host: { hostname: string; machineIdHash: string | null; sameMachine: boolean };
  old: { startedAt: string; kernelRelease: string; verdict: Verdict; toolVersion: string };
  new: { startedAt: string; kernelRelease: string; verdict: Verdict; toolVersion: string };
  verdictChanged: boolean;
  verdictWorse: boolean;
  capabilities: CapabilityChange[];
  probes: ProbeChange[];
  ladder: LadderChange[];
  throughput: FigureChange[];
  regression: boolean;
  /** the reasons `regression` is true, one line each */
  regressions: string[];
}

/** Name -> has, for every capability measured in a report. */
function capabilityMap(caps: HostCapabilities): Map<string, { kind: CapabilityChange['kind']; name: string; has: boolean }> {
  const m = new Map<string, { kind: CapabilityChange['kind']; name: string; has: boolean }>();
  if (caps.features.known) for (const f of caps.features.value) m.set(`feat:${f}`, { kind: 'feature', name: f, has: true });
  if (caps.setupFlags.known) for (const [n, o] of caps.setupFlags.value) m.set(`flag:${n}`, { kind: 'flag', name: n, has: o.accepted });
  if (caps.ops.known) for (const [n, ok] of caps.ops.value) m.set(`op:${n}`, { kind: 'op', name: `op:${n}`, has: ok });
  if (caps.workerLimit.known) m.set('reg:IOWQ_MAX_WORKERS', { kind: 'register', name: 'IOWQ_MAX_WORKERS', has: caps.workerLimit.value.accepted });
  if (caps.opcodeProbe.known) m.set('reg:PROBE', { kind: 'register', name: 'reg:PROBE', has: caps.opcodeProbe.value.accepted });
  if (caps.multishotRecvmsg.known) m.set('multishot-recvmsg', { kind: 'capability', name: 'multishot-recvmsg', has: caps.multishotRecvmsg.value });
  return m;
}

export function describeRing(r: RingOutcome | null): string {
  if (!r) return 'not set up';
  if (r.result !== 'ok') return `refused (${r.result}) after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
  return `${r.entries ?? '?'} entries ${r.flags.join('|') || 'no flags'} (attempt ${r.attempts})`;
}

function ringWorse(a: RingOutcome | null, b: RingOutcome | null): boolean {
  if (!a) return false;
  if (!b) return true;
  if (a.result === 'ok' && b.result !== 'ok') return true;
  if ((b.entries ?? 0) < (a.entries ?? 0)) return true;
  return a.flags.some((f) => !b.flags.includes(f));
}

function figure(name: FigureChange['figure'], a: number | null, b: number | null): FigureChange | null {
  if (a === null || b === null || a === 0) return null;
  return { figure: name, from: a, to: b, changePercent: Math.round(((b - a) / a) * 1000) / 10 };
}

/** Compare an older and a newer report of one host. Pure: reads the reports only. */
export function diffReports(older: Report, newer: Report): ReportDiff {
  const a = hostCapabilities(older);
  const b = hostCapabilities(newer);
  const regressions: string[] = [];

  const verdictChanged = older.verdict !== newer.verdict;
  const verdictWorse = VERDICT_RANK[newer.verdict] > VERDICT_RANK[older.verdict];
  if (verdictWorse) regressions.push(`verdict ${older.verdict} -> ${newer.verdict}`);

  // Capabilities: only names measured in both reports count as gained or lost.
  const ca = capabilityMap(a);
  const cb = capabilityMap(b);
  const capabilities: CapabilityChange[] = [];
  const featuresKnownBoth = a.features.known && b.features.known;
  for (const key of new Set([...ca.keys(), ...cb.keys()])) {
    const x = ca.get(key);
    const y = cb.get(key);
    // Features are a set: absence in a measured report means "not reported".
    const hadX = x?.has ?? (key.startsWith('feat:') && featuresKnownBoth ? false : undefined);
    const hasY = y?.has ?? (key.startsWith('feat:') && featuresKnownBoth ? false : undefined);
    if (hadX === undefined || hasY === undefined || hadX === hasY) continue;
    const entry = (x ?? y)!;
    capabilities.push({ kind: entry.kind, name: entry.name, gained: hasY });
  }
  capabilities.sort((p, q) => Number(q.gained) - Number(p.gained) || p.kind.localeCompare(q.kind) || p.name.localeCompare(q.name));
  const lost = capabilities.filter((x) => !x.gained).map((x) => x.name);
  if (lost.length > 0) regressions.push(`lost ${lost.length}: ${lost.join(' ')}`);

  // Probes whose status or reason changed.
  const probes: ProbeChange[] = [];
  const ids = [...new Set([...older.probes.map((p) => p.id), ...newer.probes.map((p) => p.id)])];
  for (const id of ids) {
    const p = a.probes.get(id);
    const q = b.probes.get(id);
    if (p && q && p.status === q.status && p.reason === q.reason) continue;
    const worse = !!p && !!q && STATUS_RANK[q.status] > STATUS_RANK[p.status];
    probes.push({
      probe: id,
      from: p ? { status: p.status, reason: p.reason } : null,
      to: q ? { status: q.status, reason: q.reason } : null,
      worse,
    });
    if (worse) regressions.push(`${id} ${p!.status} -> ${q!.status}${q!.reason ? ` (${q!.reason})` : ''}`);
  }

  // The seed's setup ladder: where each ring ended up.
  const ladder: LadderChange[] = [];
  for (const ring of ['send', 'recv'] as const) {
    const from = describeRing(a.rings[ring]);
    const to = describeRing(b.rings[ring]);
    if (from === to) continue;
    const worse = ringWorse(a.rings[ring], b.rings[ring]);
    ladder.push({ ring, from, to, worse });
    if (worse) regressions.push(`${ring} ring: ${from} -> ${to}`);
  }

  // Throughput: informational (noisy), never a regression by itself.
  const throughput: FigureChange[] = [];
  if (a.throughput.known && b.throughput.known) {
    const ta = a.throughput.value;
    const tb = b.throughput.value;
    for (const f of [figure('seedPps', ta.seedPps, tb.seedPps), figure('syscallPps', ta.syscallPps, tb.syscallPps), figure('ratio', ta.ratio, tb.ratio)]) {
      if (f) throughput.push(f);
    }
  }

  return {
    host: {
      hostname: newer.host.hostname,
      machineIdHash: newer.host.machineIdHash,
      sameMachine: sameMachine(older, newer),
    },
    old: { startedAt: older.startedAt, kernelRelease: older.host.kernelRelease, verdict: older.verdict, toolVersion: older.tool.version },
    new: { startedAt: newer.startedAt, kernelRelease: newer.host.kernelRelease, verdict: newer.verdict, toolVersion: newer.tool.version },
    verdictChanged,
    verdictWorse,
    capabilities,
    probes,
    ladder,
    throughput,
    regression: regressions.length > 0,
    regressions,
  };
}

/** Same machine id (or, when either has none, the same hostname). */
export function sameMachine(a: Report, b: Report): boolean {
  if (a.host.machineIdHash && b.host.machineIdHash) return a.host.machineIdHash === b.host.machineIdHash;
  return a.host.hostname === b.host.hostname;
}

// What a report says a host can do, read from the probes' typed facts (src/probes/facts.ts): the one place that reads them.
import type { OpcodesFacts, OpcodesRefusedFacts, RingSetupFacts, SetupFlagsFacts, ThroughputFacts, WorkerLimitFacts } from '../probes/facts.js';
import type { ProbeResult, Report } from '../types.js';
import { OPCODES, SETUP_FLAGS } from './names.js';

/** A fact that may not have been measured: `why` says why not (probe skipped, failed, absent). */
export type Measured<T> = { known: true; value: T } | { known: false; why: string };

export interface SetupFlagOutcome {
  accepted: boolean;
  /** errno name when refused ('EINVAL'), null when accepted */
  errno: string | null;
}

export interface ThroughputFigures {
  /** received packets/s with the seed's ring (mode `seed`) */
  seedPps: number | null;
  /** received packets/s with plain sendmsg/recvmsg (mode `syscall`) */
  syscallPps: number | null;
  /** seedPps / syscallPps (the median of the interleaved pairs' ratios) */
  ratio: number | null;
  /** the intervals the probe measured; a report from before the interleaved measurement gives the figure itself as both ends */
  seedPpsLow: number | null;
  seedPpsHigh: number | null;
  ratioLow: number | null;
  ratioHigh: number | null;
  bestMode: string | null;
  /** received packets/s per mode, where measured */
  modes: Record<string, number>;
}

export interface HostCapabilities {
  report: Report;
  probes: ReadonlyMap<string, ProbeResult>;
  /** IORING_FEAT_* the kernel reported on the send ring's accepted setup */
  features: Measured<Set<string>>;
  /** each setup flag tried alone by the setup-flags probe, plus the flags the ladder's rings were accepted with */
  setupFlags: Measured<Map<string, SetupFlagOutcome>>;
  /** opcodes the kernel reports supported (IORING_REGISTER_PROBE) */
  ops: Measured<Map<string, boolean>>;
  multishotRecvmsg: Measured<boolean>;
  /** where the multishot attempt stopped, e.g. 'stage register-pbuf-ring EINVAL' */
  multishotFailure: string | null;
  /** IORING_REGISTER_IOWQ_MAX_WORKERS accepted (errno name when refused) */
  workerLimit: Measured<SetupFlagOutcome>;
  /** IORING_REGISTER_PROBE accepted */
  opcodeProbe: Measured<SetupFlagOutcome>;
  /** final entries and flags of each ring of the seed's ladder */
  rings: { send: RingOutcome | null; recv: RingOutcome | null };
  throughput: Measured<ThroughputFigures>;
}

export interface RingOutcome {
  entries: number | null;
  requestedEntries: number | null;
  flags: string[];
  /** 'ok' or the errno that ended the ladder */
  result: string;
  attempts: number;
}

/**
 * The probe's own facts, typed, or null when the runner wrote them instead (dependency skip,
 * exception, death: src/probes/result.ts). Reports are validated against the schema before they
 * get here (src/reader.ts; `check` builds them from these types), so a probe's own facts have
 * exactly its type: the runner's are told apart by their reason and their signal/exit fields.
 */
function ownFacts<T>(probe: ProbeResult | undefined): T | null {
  if (!probe) return null;
  if (probe.reason === 'DEPENDENCY_FAILED' || probe.reason === 'PROBE_KILLED' || probe.reason === 'PROBE_TIMEOUT' || probe.reason === 'PROBE_ERROR') return null;
  if ('signal' in probe.facts && 'exitCode' in probe.facts) return null; // a SIGSYS death attributed SECCOMP_BLOCKED
  return probe.facts as unknown as T;
}

const FLAG_NAMES: ReadonlySet<string> = new Set(SETUP_FLAGS.map((f) => f.name));

/** Why a probe's facts are not available, in a few words. */
function unavailable(probes: ReadonlyMap<string, ProbeResult>, id: string): string {
  const p = probes.get(id);
  if (!p) return `the ${id} probe is not in this report`;
  if (p.status === 'skip') return `the ${id} probe was skipped (${p.reason ?? 'no reason'}: ${p.summary})`;
  if (p.status === 'fail') return `the ${id} probe failed (${p.reason ?? 'no reason'}${p.errno ? `, ${p.errno}` : ''})`;
  return `the ${id} probe did not record it`;
}

function ringOutcome(probe: ProbeResult | undefined, facts: RingSetupFacts | null, kind: 'send' | 'recv'): RingOutcome | null {
  const r = facts?.[kind];
  if (!probe || !r) return null;
  return {
    entries: r.finalEntries,
    requestedEntries: r.requestedEntries,
    flags: r.flags ?? [],
    result: r.result,
    attempts: (probe.attempts ?? []).filter((a) => a.ring === kind && a.stage === 'setup').length,
  };
}

function throughputOf(probe: ProbeResult | undefined, probes: ReadonlyMap<string, ProbeResult>): Measured<ThroughputFigures> {
  const f = probe && probe.status !== 'skip' ? ownFacts<ThroughputFacts>(probe) : null;
  if (!f || (f.seedPps === null && f.syscallPps === null)) return { known: false, why: unavailable(probes, 'throughput') };
  const modes: Record<string, number> = {};
  for (const [mode, m] of Object.entries(f.modes)) {
    if (m.skipped === null && m.error === null) modes[mode] = m.rxPps;
  }
  if (f.seedPps !== null) modes['seed'] = f.seedPps;
  if (f.syscallPps !== null) modes['syscall'] = f.syscallPps;
  const num = (x: unknown, fallback: number | null): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : fallback);
  return {
    known: true,
    value: {
      seedPps: f.seedPps,
      syscallPps: f.syscallPps,
      ratio: f.ratio,
      seedPpsLow: num(f.seedPpsLow, f.seedPps),
      seedPpsHigh: num(f.seedPpsHigh, f.seedPps),
      ratioLow: num(f.ratioLow, f.ratio),
      ratioHigh: num(f.ratioHigh, f.ratio),
      bestMode: f.bestMode,
      modes,
    },
  };
}

/** Normalise what a report says about its host. Never throws on odd facts: unknown shapes become "not measured". */
export function hostCapabilities(report: Report): HostCapabilities {
  const probes = new Map(report.probes.map((p) => [p.id, p] as const));
  const ring = probes.get('ring-setup');
  const ringFacts = ownFacts<RingSetupFacts>(ring);

  const featureNames = ringFacts?.send.features ?? null;
  const features: Measured<Set<string>> = featureNames
    ? { known: true, value: new Set(featureNames) }
    : { known: false, why: unavailable(probes, 'ring-setup') };

  // Setup flags: the setup-flags probe tries each alone; the ladder's accepted rings add theirs.
  const flagsProbe = probes.get('setup-flags');
  const flagFacts = flagsProbe && flagsProbe.status !== 'skip' ? ownFacts<SetupFlagsFacts>(flagsProbe) : null;
  let flagTable: Map<string, SetupFlagOutcome> | null = null;
  if (flagFacts) {
    flagTable = new Map();
    for (const [name, entry] of Object.entries(flagFacts.flags)) {
      if (!FLAG_NAMES.has(name) || entry.accepted === null) continue;
      const errno = entry.accepted ? null : (entry.withMemory?.errno ?? entry.withCompanion?.errno ?? entry.alone?.errno ?? null);
      flagTable.set(name, { accepted: entry.accepted, errno });
    }
  }
  const rings = { send: ringOutcome(ring, ringFacts, 'send'), recv: ringOutcome(ring, ringFacts, 'recv') };
  const ringFlags = [...(rings.send?.flags ?? []), ...(rings.recv?.flags ?? [])].filter((f) => FLAG_NAMES.has(f));
  if (ringFlags.length > 0) {
    flagTable ??= new Map();
    for (const flag of ringFlags) flagTable.set(flag, { accepted: true, errno: null });
  }
  // A flag the ladder tried and had refused (e.g. COOP_TASKRUN with EINVAL) counts when nothing else says.
  for (const a of ring?.attempts ?? []) {
    if (a.ok || a.stage !== 'setup' || a.errno !== 'EINVAL') continue;
    const later = (ring?.attempts ?? []).find((b) => b.ring === a.ring && b.ok);
    const dropped = later ? a.flags.filter((f) => !later.flags.includes(f)) : [];
    if (dropped.length === 1 && FLAG_NAMES.has(dropped[0]!)) {
      flagTable ??= new Map();
      if (!flagTable.has(dropped[0]!)) flagTable.set(dropped[0]!, { accepted: false, errno: 'EINVAL' });
    }
  }
  const setupFlags: Measured<Map<string, SetupFlagOutcome>> = flagTable
    ? { known: true, value: flagTable }
    : { known: false, why: unavailable(probes, 'setup-flags') };

  // Opcodes: IORING_REGISTER_PROBE's list, or its refusal (< 5.6); multishot RECVMSG tried for real.
  const opProbe = probes.get('opcodes');
  let ops: Measured<Map<string, boolean>> = { known: false, why: unavailable(probes, 'opcodes') };
  let opcodeProbe: Measured<SetupFlagOutcome> = { known: false, why: unavailable(probes, 'opcodes') };
  let multishotRecvmsg: Measured<boolean> = { known: false, why: unavailable(probes, 'opcodes') };
  let multishotFailure: string | null = null;
  const opFacts = opProbe && opProbe.status !== 'skip' ? ownFacts<OpcodesFacts | OpcodesRefusedFacts>(opProbe) : null;
  if (opFacts && 'probe' in opFacts) {
    opcodeProbe = { known: true, value: { accepted: false, errno: opFacts.probe } };
    ops = { known: false, why: `IORING_REGISTER_PROBE refused (${opFacts.probe}): the kernel cannot list its opcodes (< 5.6)` };
  } else if (opFacts) {
    // `supported` lists every op the kernel reported: every other op it knows is unsupported.
    const supported = new Set(opFacts.supported);
    ops = { known: true, value: new Map(OPCODES.map((op) => [op, supported.has(op)])) };
    opcodeProbe = { known: true, value: { accepted: true, errno: null } };
  }
  if (opFacts) {
    const ms = opFacts.multishotRecvmsg;
    multishotRecvmsg = { known: true, value: ms.works };
    if (!ms.works) multishotFailure = [`stage ${ms.stage}`, ms.errno].filter(Boolean).join(' ');
  }

  // IOWQ_MAX_WORKERS: the worker-limit probe's one outcome for both rings.
  const wl = probes.get('worker-limit');
  const wlFacts = wl && wl.status !== 'skip' ? ownFacts<WorkerLimitFacts>(wl) : null;
  const workerLimit: Measured<SetupFlagOutcome> =
    wlFacts && wlFacts.result !== null
      ? { known: true, value: wlFacts.result === 'ok' ? { accepted: true, errno: null } : { accepted: false, errno: wlFacts.result } }
      : { known: false, why: unavailable(probes, 'worker-limit') };

  return {
    report,
    probes,
    features,
    setupFlags,
    ops,
    multishotRecvmsg,
    multishotFailure,
    workerLimit,
    opcodeProbe,
    rings,
    throughput: throughputOf(probes.get('throughput'), probes),
  };
}

// What a report says a host can do, normalised from the probes' facts (the one place that reads fact shapes).
import type { FactValue, Facts, ProbeResult, Report } from '../types.js';
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
  /** seedPps / syscallPps */
  ratio: number | null;
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

function record(v: FactValue | undefined): Record<string, FactValue> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, FactValue>) : null;
}
function num(v: FactValue | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function strings(v: FactValue | undefined): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

/** Why a probe's facts are not available, in a few words. */
function unavailable(probes: ReadonlyMap<string, ProbeResult>, id: string): string {
  const p = probes.get(id);
  if (!p) return `the ${id} probe is not in this report`;
  if (p.status === 'skip') return `the ${id} probe was skipped (${p.reason ?? 'no reason'}: ${p.summary})`;
  if (p.status === 'fail') return `the ${id} probe failed (${p.reason ?? 'no reason'}${p.errno ? `, ${p.errno}` : ''})`;
  return `the ${id} probe did not record it`;
}

/**
 * One outcome from the many ways a probe may write "accepted or errno":
 * true/false, 'ok'/'accepted'/'EINVAL', {accepted|ok|supported: bool, errno|result: ...}, {res: -22}.
 */
export function outcomeOf(v: FactValue | undefined): SetupFlagOutcome | null {
  if (typeof v === 'boolean') return { accepted: v, errno: null };
  if (typeof v === 'string') {
    if (/^(ok|accepted|supported|yes|pass)$/i.test(v)) return { accepted: true, errno: null };
    if (/^E[A-Z0-9]+$/.test(v)) return { accepted: false, errno: v };
    if (/^(refused|no|unsupported|fail)$/i.test(v)) return { accepted: false, errno: null };
    return null;
  }
  const r = record(v);
  if (!r) return null;
  const alone = record(r['alone']);
  const errno = typeof r['errno'] === 'string' ? (r['errno'] as string) : typeof alone?.['errno'] === 'string' ? (alone['errno'] as string) : null;
  for (const key of ['accepted', 'ok', 'supported', 'works', 'worked']) {
    if (typeof r[key] === 'boolean') return { accepted: r[key] as boolean, errno: r[key] ? null : errno };
  }
  if (typeof r['result'] === 'string') return outcomeOf(r['result']);
  if (typeof r['res'] === 'number') return { accepted: (r['res'] as number) >= 0, errno };
  if (errno !== null) return { accepted: false, errno };
  return null;
}

/** Find a name -> outcome table: either `facts[key]` as an object or array of {name,...}, or facts itself. */
function outcomeTable(facts: Facts, keys: string[], known: ReadonlySet<string>): Map<string, SetupFlagOutcome> | null {
  const candidates: FactValue[] = [];
  for (const key of keys) if (facts[key] !== undefined) candidates.push(facts[key]!);
  candidates.push(facts as FactValue);
  for (const c of candidates) {
    const table = new Map<string, SetupFlagOutcome>();
    if (Array.isArray(c)) {
      // ['SEND', 'RECV'] (the supported ones) or [{name|flag|op, ...outcome}]
      if (c.every((x) => typeof x === 'string')) {
        for (const name of c as string[]) if (known.has(name)) table.set(name, { accepted: true, errno: null });
        if (table.size > 0) {
          for (const name of known) if (!table.has(name)) table.set(name, { accepted: false, errno: null });
          return table;
        }
        continue;
      }
      for (const item of c) {
        const r = record(item);
        const name = r && (['name', 'flag', 'op'].map((k) => r[k]).find((x) => typeof x === 'string') as string | undefined);
        const outcome = outcomeOf(item);
        if (name && known.has(name) && outcome && !table.has(name)) table.set(name, outcome);
      }
    } else {
      const r = record(c);
      if (!r) continue;
      for (const [name, value] of Object.entries(r)) {
        if (!known.has(name)) continue;
        const outcome = outcomeOf(value);
        if (outcome) table.set(name, outcome);
      }
    }
    if (table.size > 0) return table;
  }
  return null;
}

const FLAG_NAMES: ReadonlySet<string> = new Set(SETUP_FLAGS.map((f) => f.name));
const OP_NAMES: ReadonlySet<string> = new Set(OPCODES);

function ringOutcome(probe: ProbeResult | undefined, kind: 'send' | 'recv'): RingOutcome | null {
  const r = probe ? record(probe.facts[kind]) : null;
  if (!probe || !r) return null;
  return {
    entries: num(r['finalEntries']) ?? num(r['sqEntries']),
    requestedEntries: num(r['requestedEntries']),
    flags: strings(r['flags']) ?? [],
    result: typeof r['result'] === 'string' ? (r['result'] as string) : probe.status === 'fail' ? (probe.errno ?? 'refused') : 'ok',
    attempts: (probe.attempts ?? []).filter((a) => a.ring === kind && a.stage === 'setup').length,
  };
}

function throughputOf(probe: ProbeResult | undefined, probes: ReadonlyMap<string, ProbeResult>): Measured<ThroughputFigures> {
  if (!probe || probe.status === 'skip') return { known: false, why: unavailable(probes, 'throughput') };
  const f = probe.facts;
  const modes: Record<string, number> = {};
  const modeTable = record(f['modes']) ?? record(f['perMode']);
  if (modeTable) {
    for (const [mode, v] of Object.entries(modeTable)) {
      if (record(v)?.['skipped'] === true) continue;
      const pps = num(v) ?? num(record(v)?.['rxPps']) ?? num(record(v)?.['pps']) ?? num(record(v)?.['receivedPps']);
      if (pps !== null) modes[mode] = pps;
    }
  }
  const seedPps = num(f['seedPps']) ?? modes['seed'] ?? null;
  const syscallPps = num(f['syscallPps']) ?? modes['syscall'] ?? null;
  if (seedPps === null && syscallPps === null) return { known: false, why: unavailable(probes, 'throughput') };
  if (seedPps !== null) modes['seed'] ??= seedPps;
  if (syscallPps !== null) modes['syscall'] ??= syscallPps;
  const ratio = num(f['ratio']) ?? (seedPps !== null && syscallPps ? seedPps / syscallPps : null);
  const bestMode = typeof f['bestMode'] === 'string' ? (f['bestMode'] as string) : null;
  return { known: true, value: { seedPps, syscallPps, ratio, bestMode, modes } };
}

/** Normalise what a report says about its host. Never throws on odd facts: unknown shapes become "not measured". */
export function hostCapabilities(report: Report): HostCapabilities {
  const probes = new Map(report.probes.map((p) => [p.id, p] as const));
  const ring = probes.get('ring-setup');
  const send = ring ? record(ring.facts['send']) : null;

  let features: Measured<Set<string>>;
  const featureNames = strings(send?.['features']);
  features = featureNames ? { known: true, value: new Set(featureNames) } : { known: false, why: unavailable(probes, 'ring-setup') };

  // Setup flags: the setup-flags probe tries each alone; the ladder's accepted rings add theirs.
  const flagsProbe = probes.get('setup-flags');
  let flagTable: Map<string, SetupFlagOutcome> | null = null;
  if (flagsProbe && flagsProbe.status !== 'skip') flagTable = outcomeTable(flagsProbe.facts, ['flags', 'results', 'alone'], FLAG_NAMES);
  const rings = { send: ringOutcome(ring, 'send'), recv: ringOutcome(ring, 'recv') };
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

  // Opcodes.
  const opProbe = probes.get('opcodes');
  let ops: Measured<Map<string, boolean>> = { known: false, why: unavailable(probes, 'opcodes') };
  let opcodeProbe: Measured<SetupFlagOutcome> = { known: false, why: unavailable(probes, 'opcodes') };
  let multishotRecvmsg: Measured<boolean> = { known: false, why: unavailable(probes, 'opcodes') };
  let multishotFailure: string | null = null;
  if (opProbe && opProbe.status !== 'skip') {
    const f = opProbe.facts;
    const probeRes = outcomeOf(f['probe'] ?? f['registerProbe'] ?? f['probeResult']);
    if (opProbe.reason === 'PROBE_UNSUPPORTED') {
      opcodeProbe = { known: true, value: { accepted: false, errno: opProbe.errno ?? probeRes?.errno ?? 'EINVAL' } };
      ops = { known: false, why: `IORING_REGISTER_PROBE refused (${opProbe.errno ?? 'EINVAL'}): the kernel cannot list its opcodes (< 5.6)` };
    } else {
      // `supported` lists every op the kernel reported; `ops` only the notable ones by name.
      const table = outcomeTable(f, ['supported', 'ops', 'opcodes'], OP_NAMES);
      if (table) {
        ops = { known: true, value: new Map([...table].map(([k, v]) => [k, v.accepted])) };
        opcodeProbe = { known: true, value: { accepted: true, errno: null } };
      } else if (probeRes) {
        opcodeProbe = { known: true, value: probeRes };
      }
    }
    const ms = f['multishotRecvmsg'] ?? f['multishot'] ?? f['multishotRecv'];
    const msOutcome = outcomeOf(ms);
    if (msOutcome) {
      multishotRecvmsg = { known: true, value: msOutcome.accepted };
      const r = record(ms);
      if (r && !msOutcome.accepted) {
        const stage = typeof r['stage'] === 'string' ? r['stage'] : null;
        multishotFailure = [stage ? `stage ${stage}` : null, msOutcome.errno].filter(Boolean).join(' ') || null;
      }
    }
    else multishotRecvmsg = { known: false, why: 'the opcodes probe did not record a multishot RECVMSG attempt' };
  }

  // IOWQ_MAX_WORKERS: the worker-limit probe, else the send ring's registration.
  const wl = probes.get('worker-limit');
  let workerLimit: Measured<SetupFlagOutcome> = { known: false, why: unavailable(probes, 'worker-limit') };
  const wlOutcome = wl && wl.status !== 'skip'
    ? outcomeOf(wl.facts['result'] ?? wl.facts['maxWorkers'] ?? wl.facts['registered'] ?? wl.facts['accepted'])
    : null;
  const ringMw = outcomeOf(record(send?.['maxWorkers'])?.['result']);
  if (wl && wl.reason === 'NO_WORKER_LIMIT') workerLimit = { known: true, value: { accepted: false, errno: wl.errno ?? wlOutcome?.errno ?? 'EINVAL' } };
  else if (wlOutcome) workerLimit = { known: true, value: wlOutcome };
  else if (ringMw) workerLimit = { known: true, value: ringMw };
  else if (wl && wl.status === 'pass') workerLimit = { known: true, value: { accepted: true, errno: null } };

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

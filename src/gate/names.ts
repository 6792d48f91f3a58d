// Requirement names: the io_uring setup flags, feature bits and opcodes by name, and parsing a requirement.
import { PROBES } from '../probes/index.js';
import { UsageError } from '../usage-error.js';

export { FEATURES, OPCODES, OPCODE_SINCE, SETUP_FLAGS, namesOfBits, type KernelName } from '../kernel-abi.js';
import { FEATURES, OPCODES, OPCODE_SINCE, SETUP_FLAGS } from '../kernel-abi.js';

/** IORING_REGISTER_* operations uring-probe measures (worker-limit and opcodes probes). */
/**
 * `table[key]` only when `key` is the table's own entry: names come from the command line, policy
 * files and reports, and `constructor` or `__proto__` must not find Object.prototype's members.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export const MEASURED_REGISTER_OPS: Readonly<Record<string, { since: string; probe: string }>> = {
  IOWQ_MAX_WORKERS: { since: '5.15', probe: 'worker-limit' },
  PROBE: { since: '5.6', probe: 'opcodes' },
};

/** Behaviours uring-probe tries for real (not bits): requirement name -> what it means. */
export const CAPABILITIES: Readonly<Record<string, { since: string; meaning: string }>> = {
  'multishot-recvmsg': { since: '6.0', meaning: 'multishot RECVMSG with a provided buffer ring delivered datagrams' },
};

/** Probe ids a requirement may name (the probe must pass): the probe registry's, in its order. */
export const PROBE_IDS: readonly string[] = PROBES.map((p) => p.id);

export type RequirementKind = 'flag' | 'feature' | 'op' | 'register' | 'capability' | 'probe';

export interface Requirement {
  kind: RequirementKind;
  /** the canonical spelling: COOP_TASKRUN, EXT_ARG, op:SEND_ZC, IOWQ_MAX_WORKERS, multishot-recvmsg, loopback */
  canonical: string;
  /** the bare name: COOP_TASKRUN, EXT_ARG, SEND_ZC, IOWQ_MAX_WORKERS, multishot-recvmsg, loopback */
  name: string;
  /** kernel release that brought it, when known */
  since: string | null;
}

const flagByName = new Map(SETUP_FLAGS.map((f) => [f.name, f]));
const featureByName = new Map(FEATURES.map((f) => [f.name, f]));
const opcodeSet = new Set(OPCODES);

function flagReq(name: string): Requirement | null {
  const f = flagByName.get(name);
  return f ? { kind: 'flag', canonical: f.name, name: f.name, since: f.since } : null;
}
function featureReq(name: string): Requirement | null {
  const f = featureByName.get(name);
  return f ? { kind: 'feature', canonical: f.name, name: f.name, since: f.since } : null;
}
function opReq(name: string): Requirement | null {
  return opcodeSet.has(name) ? { kind: 'op', canonical: `op:${name}`, name, since: ownEntry(OPCODE_SINCE, name) ?? null } : null;
}
function registerReq(name: string): Requirement | null {
  const r = ownEntry(MEASURED_REGISTER_OPS, name);
  return r ? { kind: 'register', canonical: name === 'PROBE' ? 'reg:PROBE' : name, name, since: r.since } : null;
}

/** Closest known names to a misspelt one (shared prefix or substring), for the usage message. */
function suggestions(upper: string): string[] {
  const all = [
    ...SETUP_FLAGS.map((f) => f.name),
    ...FEATURES.map((f) => f.name),
    ...OPCODES.map((o) => `op:${o}`),
    ...Object.keys(MEASURED_REGISTER_OPS),
    ...Object.keys(CAPABILITIES),
    ...PROBE_IDS,
  ];
  const key = upper.replace(/^[A-Z]+:/, '').replace(/-/g, '_');
  return all
    .filter((n) => {
      const bare = n.replace(/^op:/, '').toUpperCase().replace(/-/g, '_');
      return key.length >= 3 && (bare.includes(key) || key.includes(bare) || bare.slice(0, 4) === key.slice(0, 4));
    })
    .slice(0, 4);
}

/**
 * Parse one requirement name. Accepted spellings: a setup flag (COOP_TASKRUN, flag:COOP_TASKRUN,
 * IORING_SETUP_COOP_TASKRUN), a feature (EXT_ARG, feat:EXT_ARG, IORING_FEAT_EXT_ARG), an opcode
 * (op:SEND_ZC, IORING_OP_SEND_ZC), a measured register op (IOWQ_MAX_WORKERS, reg:PROBE), a
 * capability (multishot-recvmsg) or a probe id (loopback, probe:loopback). Case-insensitive.
 * An unknown name is a UsageError, never a silent pass.
 */
export function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  if (text === '') throw new UsageError('empty requirement name', 'pass e.g. --require COOP_TASKRUN');
  const lower = text.toLowerCase();
  const bareLower = lower.replace(/^(probe|cap):/, '');
  const capability = ownEntry(CAPABILITIES, bareLower);
  if (capability) {
    return { kind: 'capability', canonical: bareLower, name: bareLower, since: capability.since };
  }
  if (PROBE_IDS.includes(bareLower)) return { kind: 'probe', canonical: bareLower, name: bareLower, since: null };

  const upper = text.toUpperCase().replace(/-/g, '_');
  const prefixed = /^(FLAG|SETUP|FEAT|FEATURE|OP|REG|REGISTER):(.+)$/.exec(upper);
  let found: Requirement | null = null;
  if (prefixed) {
    const [, prefix, name] = prefixed as unknown as [string, string, string];
    if (prefix === 'FLAG' || prefix === 'SETUP') found = flagReq(name);
    else if (prefix === 'FEAT' || prefix === 'FEATURE') found = featureReq(name);
    else if (prefix === 'OP') found = opReq(name);
    else found = registerReq(name);
    if (!found && prefix === 'REG' && /^[A-Z_]+$/.test(name)) {
      throw new UsageError(
        `requirement '${raw}': uring-probe does not measure the register op ${name}`,
        `measured register ops: ${Object.keys(MEASURED_REGISTER_OPS).join(', ')}`,
      );
    }
  } else if (upper.startsWith('IORING_SETUP_')) {
    found = flagReq(upper.slice('IORING_SETUP_'.length));
  } else if (upper.startsWith('IORING_FEAT_')) {
    found = featureReq(upper.slice('IORING_FEAT_'.length));
  } else if (upper.startsWith('IORING_OP_')) {
    found = opReq(upper.slice('IORING_OP_'.length));
  } else if (upper.startsWith('IORING_REGISTER_')) {
    found = registerReq(upper.slice('IORING_REGISTER_'.length));
  } else {
    found = flagReq(upper) ?? featureReq(upper) ?? registerReq(upper === 'PROBE' ? '' : upper);
    if (!found && opcodeSet.has(upper)) {
      throw new UsageError(`requirement '${raw}' is an opcode name`, `write it as op:${upper}`);
    }
  }
  if (found) return found;
  const near = suggestions(upper);
  throw new UsageError(
    `unknown requirement '${raw}'`,
    near.length > 0
      ? `did you mean ${near.join(', ')}? (names: setup flags, features, op:NAME, IOWQ_MAX_WORKERS, multishot-recvmsg, probe ids)`
      : 'use a setup flag (COOP_TASKRUN), a feature (EXT_ARG), op:NAME (op:SEND_ZC), IOWQ_MAX_WORKERS, multishot-recvmsg or a probe id (loopback)',
  );
}

/** Parse a list (each entry may itself be comma-separated); canonical names, deduplicated, in order. */
export function parseRequirements(raw: readonly string[]): Requirement[] {
  const out: Requirement[] = [];
  const seen = new Set<string>();
  for (const entry of raw) {
    for (const part of entry.split(',')) {
      if (part.trim() === '' && entry.includes(',')) continue;
      const req = parseRequirement(part);
      if (seen.has(req.canonical)) continue;
      seen.add(req.canonical);
      out.push(req);
    }
  }
  return out;
}


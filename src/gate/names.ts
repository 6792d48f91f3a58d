// Requirement names: the io_uring setup flags, feature bits and opcodes by name, and parsing a requirement.
import { UsageError } from '../usage-error.js';

/** A name and the kernel release that brought it (for "what the host has instead" messages). */
interface KernelName {
  name: string;
  since: string | null;
}

/** IORING_SETUP_* in bit order (bit i = 1 << i), from include/uapi/linux/io_uring.h. */
export const SETUP_FLAGS: readonly KernelName[] = [
  { name: 'IOPOLL', since: '5.1' },
  { name: 'SQPOLL', since: '5.1' },
  { name: 'SQ_AFF', since: '5.1' },
  { name: 'CQSIZE', since: '5.5' },
  { name: 'CLAMP', since: '5.6' },
  { name: 'ATTACH_WQ', since: '5.6' },
  { name: 'R_DISABLED', since: '5.10' },
  { name: 'SUBMIT_ALL', since: '5.18' },
  { name: 'COOP_TASKRUN', since: '5.19' },
  { name: 'TASKRUN_FLAG', since: '5.19' },
  { name: 'SQE128', since: '5.19' },
  { name: 'CQE32', since: '5.19' },
  { name: 'SINGLE_ISSUER', since: '6.0' },
  { name: 'DEFER_TASKRUN', since: '6.1' },
  { name: 'NO_MMAP', since: '6.5' },
  { name: 'REGISTERED_FD_ONLY', since: '6.5' },
  { name: 'NO_SQARRAY', since: '6.6' },
  { name: 'HYBRID_IOPOLL', since: '6.13' },
  { name: 'CQE_MIXED', since: '6.18' },
];

/** IORING_FEAT_* in bit order. */
export const FEATURES: readonly KernelName[] = [
  { name: 'SINGLE_MMAP', since: '5.4' },
  { name: 'NODROP', since: '5.5' },
  { name: 'SUBMIT_STABLE', since: '5.5' },
  { name: 'RW_CUR_POS', since: '5.6' },
  { name: 'CUR_PERSONALITY', since: '5.6' },
  { name: 'FAST_POLL', since: '5.7' },
  { name: 'POLL_32BITS', since: '5.9' },
  { name: 'SQPOLL_NONFIXED', since: '5.11' },
  { name: 'EXT_ARG', since: '5.11' },
  { name: 'NATIVE_WORKERS', since: '5.12' },
  { name: 'RSRC_TAGS', since: '5.13' },
  { name: 'CQE_SKIP', since: '5.17' },
  { name: 'LINKED_FILE', since: '5.17' },
  { name: 'REG_REG_RING', since: '6.3' },
  { name: 'RECVSEND_BUNDLE', since: '6.10' },
  { name: 'MIN_TIMEOUT', since: '6.12' },
  { name: 'RW_ATTR', since: '6.13' },
  { name: 'NO_IOWAIT', since: '6.15' },
];

/** IORING_OP_* in opcode order (index = opcode number). */
export const OPCODES: readonly string[] = [
  'NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE',
  'SYNC_FILE_RANGE', 'SENDMSG', 'RECVMSG', 'TIMEOUT', 'TIMEOUT_REMOVE', 'ACCEPT', 'ASYNC_CANCEL',
  'LINK_TIMEOUT', 'CONNECT', 'FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE', 'STATX', 'READ',
  'WRITE', 'FADVISE', 'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL', 'SPLICE',
  'PROVIDE_BUFFERS', 'REMOVE_BUFFERS', 'TEE', 'SHUTDOWN', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT',
  'SYMLINKAT', 'LINKAT', 'MSG_RING', 'FSETXATTR', 'SETXATTR', 'FGETXATTR', 'GETXATTR', 'SOCKET',
  'URING_CMD', 'SEND_ZC', 'SENDMSG_ZC', 'READ_MULTISHOT', 'WAITID', 'FUTEX_WAIT', 'FUTEX_WAKE',
  'FUTEX_WAITV', 'FIXED_FD_INSTALL', 'FTRUNCATE', 'BIND', 'LISTEN', 'RECV_ZC', 'EPOLL_WAIT',
  'READV_FIXED', 'WRITEV_FIXED', 'PIPE',
];

/** Kernel release that brought an opcode, where the field notes name it. */
export const OPCODE_SINCE: Readonly<Record<string, string>> = {
  SENDMSG: '5.3', RECVMSG: '5.3', SEND: '5.6', RECV: '5.6', PROVIDE_BUFFERS: '5.7',
  SOCKET: '5.19', SEND_ZC: '6.0', SENDMSG_ZC: '6.1', BIND: '6.11', LISTEN: '6.11', RECV_ZC: '6.15',
};

/** IORING_REGISTER_* operations uring-probe measures (worker-limit and opcodes probes). */
export const MEASURED_REGISTER_OPS: Readonly<Record<string, { since: string; probe: string }>> = {
  IOWQ_MAX_WORKERS: { since: '5.15', probe: 'worker-limit' },
  PROBE: { since: '5.6', probe: 'opcodes' },
};

/** Behaviours uring-probe tries for real (not bits): requirement name -> what it means. */
export const CAPABILITIES: Readonly<Record<string, { since: string; meaning: string }>> = {
  'multishot-recvmsg': { since: '6.0', meaning: 'multishot RECVMSG with a provided buffer ring delivered datagrams' },
};

/** Probe ids a requirement may name: the probe must pass. */
export const PROBE_IDS: readonly string[] = [
  'environment', 'memlock', 'ring-setup', 'single-mmap', 'cqe-alignment', 'worker-limit', 'opcodes',
  'setup-flags', 'single-issuer', 'loopback', 'throughput',
];

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
  return opcodeSet.has(name) ? { kind: 'op', canonical: `op:${name}`, name, since: OPCODE_SINCE[name] ?? null } : null;
}
function registerReq(name: string): Requirement | null {
  const r = MEASURED_REGISTER_OPS[name];
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
  if (CAPABILITIES[bareLower]) {
    return { kind: 'capability', canonical: bareLower, name: bareLower, since: CAPABILITIES[bareLower]!.since };
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

/** Decode a bit mask into names from a bit-ordered table. */
export function namesFromBits(bits: number, table: readonly KernelName[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < table.length && i < 32; i += 1) {
    if ((bits >>> 0) & (1 << i)) out.push(table[i]!.name);
  }
  return out;
}

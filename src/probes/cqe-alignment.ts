// Probe `cqe-alignment`: the kernel's ring layout (params it copies, offsets it fills, masks, CQE alignment) against the seed's declared Go structs, field by field.
import { errnoName } from '../errno.js';
import { loadAddon, type AbiInfo, type ParamsLayoutResult } from '../native.js';
import type { FactValue, ProbeResult } from '../types.js';
import { remediationFor } from './reasons.js';
import { asNumber, asRecord, factsOf, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

// ---------------------------------------------------------------------------------------------
// Struct declarations, as written: field name and type, in order. Offsets and sizes are derived
// from them with the Go (and C, for these types) alignment rules, so the table is a transcription
// of the declaration and nothing else.
// ---------------------------------------------------------------------------------------------

/** A field: [name, type]; a type is a scalar, `[N]scalar`, or the name of another struct of the same set. */
export type FieldDecl = readonly [string, string];
export type StructSet = Readonly<Record<string, readonly FieldDecl[]>>;

/** The seed's Go structs (../shared/seed: ioSqringOffsets, ioCqringOffsets, ioUringParams, ioUringSqe, ioUringCqe). */
export const SEED_STRUCTS: StructSet = {
  ioSqringOffsets: [
    ['Head', 'uint32'], ['Tail', 'uint32'], ['RingMask', 'uint32'], ['RingEntries', 'uint32'], ['Flags', 'uint32'],
    ['Dropped', 'uint32'], ['Array', 'uint32'], ['Resv1', 'uint32'], ['Resv2', 'uint64'],
  ],
  ioCqringOffsets: [
    ['Head', 'uint32'], ['Tail', 'uint32'], ['RingMask', 'uint32'], ['RingEntries', 'uint32'], ['Overflow', 'uint32'],
    ['Cqes', 'uint32'], ['Resv', '[2]uint32'],
  ],
  ioUringParams: [
    ['SqEntries', 'uint32'], ['CqEntries', 'uint32'], ['Flags', 'uint32'], ['SqThreadCPU', 'uint32'], ['SqThreadIdle', 'uint32'],
    ['Features', 'uint32'], ['WqFd', 'uint32'], ['Resv', '[3]uint32'], ['SqOff', 'ioSqringOffsets'], ['CqOff', 'ioCqringOffsets'],
  ],
  ioUringSqe: [
    ['Opcode', 'uint8'], ['Flags', 'uint8'], ['Ioprio', 'uint16'], ['Fd', 'int32'], ['Off', 'uint64'], ['Addr', 'uint64'],
    ['Len', 'uint32'], ['MsgFlags', 'uint32'], ['UserData', 'uint64'], ['BufIndex', 'uint16'], ['Personality', 'uint16'],
    ['SpliceFdIn', 'int32'], ['SpliceOffIn', 'uint64'], ['Addr2', 'uint64'],
  ],
  ioUringCqe: [['UserData', 'uint64'], ['Res', 'int32'], ['Flags', 'uint32']],
};

/** The seed's struct io_uring_setup(2) copies: `params` in newIoUringState / newIoUringRecvState. */
export const SEED_PARAMS = 'ioUringParams';

/**
 * The kernel's io_uring_params (include/uapi/linux/io_uring.h; names of 6.5+, where the offsets'
 * resv2 became user_addr). Used only to name the bytes the kernel writes: the sizes it copies and
 * the values are measured (paramsLayout).
 */
export const KERNEL_STRUCTS: StructSet = {
  io_sqring_offsets: [
    ['head', '__u32'], ['tail', '__u32'], ['ring_mask', '__u32'], ['ring_entries', '__u32'], ['flags', '__u32'],
    ['dropped', '__u32'], ['array', '__u32'], ['resv1', '__u32'], ['user_addr', '__u64'],
  ],
  io_cqring_offsets: [
    ['head', '__u32'], ['tail', '__u32'], ['ring_mask', '__u32'], ['ring_entries', '__u32'], ['overflow', '__u32'],
    ['cqes', '__u32'], ['flags', '__u32'], ['resv1', '__u32'], ['user_addr', '__u64'],
  ],
  io_uring_params: [
    ['sq_entries', '__u32'], ['cq_entries', '__u32'], ['flags', '__u32'], ['sq_thread_cpu', '__u32'], ['sq_thread_idle', '__u32'],
    ['features', '__u32'], ['wq_fd', '__u32'], ['resv', '[3]__u32'], ['sq_off', 'io_sqring_offsets'], ['cq_off', 'io_cqring_offsets'],
  ],
};
export const KERNEL_PARAMS = 'io_uring_params';

/** The params fields the seed reads after io_uring_setup (newIoUringState, mapRings of both rings). */
export const SEED_READS = [
  'SqEntries', 'CqEntries', 'Features',
  'SqOff.Head', 'SqOff.Tail', 'SqOff.RingMask', 'SqOff.RingEntries', 'SqOff.Array',
  'CqOff.Head', 'CqOff.Tail', 'CqOff.RingMask', 'CqOff.RingEntries', 'CqOff.Cqes',
] as const;

/** The SQE fields the seed writes, and the CQE fields it reads. */
const SEED_SQE_WRITES = ['Opcode', 'Flags', 'Fd', 'Addr', 'Len', 'MsgFlags', 'UserData'] as const;
const SEED_CQE_READS = ['UserData', 'Res', 'Flags'] as const;

const SCALARS: Record<string, number> = { uint8: 1, uint16: 2, int32: 4, uint32: 4, uint64: 8, __u8: 1, __u16: 2, __s32: 4, __u32: 4, __u64: 8 };

export interface LeafField {
  /** 'CqOff.Cqes', 'Resv[1]' */
  path: string;
  offset: number;
  size: number;
}

export interface StructLayout {
  size: number;
  align: number;
  fields: LeafField[];
}

/** Offsets and size of `name` in `set`, by the alignment rules Go and C share for these types. */
export function layoutOf(set: StructSet, name: string): StructLayout {
  const decl = set[name];
  if (!decl) throw new Error(`no struct ${name}`);
  const fields: LeafField[] = [];
  let offset = 0;
  let align = 1;
  const place = (size: number, a: number): number => {
    offset = Math.ceil(offset / a) * a;
    const at = offset;
    offset += size;
    align = Math.max(align, a);
    return at;
  };
  for (const [field, type] of decl) {
    const array = /^\[(\d+)\](.+)$/.exec(type);
    if (array) {
      const n = Number(array[1]);
      const elem = SCALARS[array[2]!];
      if (elem === undefined) throw new Error(`${name}.${field}: unknown element type ${array[2]}`);
      const at = place(elem * n, elem);
      for (let i = 0; i < n; i++) fields.push({ path: `${field}[${i}]`, offset: at + i * elem, size: elem });
    } else if (SCALARS[type] !== undefined) {
      const size = SCALARS[type]!;
      fields.push({ path: field, offset: place(size, size), size });
    } else {
      const inner = layoutOf(set, type);
      const at = place(inner.size, inner.align);
      for (const f of inner.fields) fields.push({ path: `${field}.${f.path}`, offset: at + f.offset, size: f.size });
    }
  }
  return { size: Math.ceil(offset / align) * align, align, fields };
}

/** 'SqOff.RingMask' -> 'sq_off.ring_mask', 'SqThreadCPU' -> 'sq_thread_cpu', 'Resv[1]' -> 'resv[1]'. */
export function snakeName(goPath: string): string {
  return goPath
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())
    .join('.');
}

function readLE(bytes: readonly number[], offset: number, size: number): number | null {
  if (offset + size > bytes.length) return null;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[offset + i]!;
  return v;
}

export interface ParamsComparison {
  seedSize: number;
  kernelSize: number;
  /** every field of the kernel's params: its bytes as the kernel wrote them, and the seed field over them */
  fields: Array<{ kernel: string; offset: number; size: number; value: number | null; seed: string | null; match: 'same' | 'renamed' | 'beyond' | 'misplaced' }>;
  /** each params field the seed reads: its value at the seed's offset vs the kernel's field of that name */
  seedReads: Array<{ seed: string; seedOffset: number | null; kernelOffset: number | null; seedValue: number | null; kernelValue: number | null; ok: boolean }>;
  /** the seed reads a wrong value or a field the kernel does not have there: the rings would be mislocated */
  problems: string[];
  /** the kernel copies more than the seed's struct holds (or fields lie past it) */
  findings: string[];
}

/**
 * Compare the kernel's measured params (what paramsLayout saw) with the seed's declared struct,
 * field by field. Pure: the kernel's answer and a declaration in, the differences out.
 */
export function compareParams(observed: ParamsLayoutResult, seed: StructSet = SEED_STRUCTS, seedName = SEED_PARAMS): ParamsComparison {
  const seedLayout = layoutOf(seed, seedName);
  const kernelLayout = layoutOf(KERNEL_STRUCTS, KERNEL_PARAMS);
  const bytes = observed.window ?? [];
  const problems: string[] = [];
  const findings: string[] = [];

  const fields: ParamsComparison['fields'] = kernelLayout.fields.map((k) => {
    const over = seedLayout.fields.filter((s) => s.offset < k.offset + k.size && k.offset < s.offset + s.size);
    const exact = over.find((s) => s.offset === k.offset && s.size === k.size);
    let match: ParamsComparison['fields'][number]['match'];
    if (k.offset + k.size > seedLayout.size) match = 'beyond';
    else if (exact && over.length === 1) match = snakeName(exact.path) === k.path ? 'same' : 'renamed';
    else match = 'misplaced';
    return {
      kernel: k.path,
      offset: k.offset,
      size: k.size,
      value: readLE(bytes, k.offset, k.size),
      seed: exact ? exact.path : over.map((s) => s.path).join('+') || null,
      match,
    };
  });

  const seedReads: ParamsComparison['seedReads'] = SEED_READS.map((path) => {
    const s = seedLayout.fields.find((f) => f.path === path);
    const k = kernelLayout.fields.find((f) => f.path === snakeName(path));
    const seedValue = s ? readLE(bytes, s.offset, s.size) : null;
    const kernelValue = k ? readLE(bytes, k.offset, k.size) : null;
    const ok = s !== undefined && k !== undefined && s.size === k.size && seedValue !== null && seedValue === kernelValue;
    return { seed: path, seedOffset: s?.offset ?? null, kernelOffset: k?.offset ?? null, seedValue, kernelValue, ok };
  });
  for (const r of seedReads) {
    if (r.ok) continue;
    problems.push(
      r.seedOffset === null
        ? `the seed's ${seedName} has no ${r.seed}`
        : `${r.seed}: the seed reads ${String(r.seedValue)} at byte ${r.seedOffset}, the kernel wrote ${snakeName(r.seed)} = ${String(r.kernelValue)} at byte ${String(r.kernelOffset)}`,
    );
  }
  // A kernel field straddled by seed fields ('misplaced') matters only where the seed reads it,
  // which seedReads has checked; the others are names in the facts.

  const copyIn = observed.copyIn;
  const copyOut = observed.copyOut;
  const beyond = fields.filter((f) => f.match === 'beyond');
  if (copyIn > seedLayout.size || copyOut > seedLayout.size || beyond.length > 0) {
    const names = beyond.map((f) => `${f.kernel} (bytes ${f.offset}-${f.offset + f.size - 1}${f.value !== null ? `, written ${f.value}` : ''})`).join(', ');
    findings.push(
      `the seed's ${seedName} is ${seedLayout.size} bytes; io_uring_setup reads ${copyIn > 0 ? copyIn : '?'} and writes ${copyOut > 0 ? copyOut : '?'}` +
        (beyond.length ? `: ${names} lie${beyond.length === 1 ? 's' : ''} past the seed's struct` : ''),
    );
  }
  return { seedSize: seedLayout.size, kernelSize: kernelLayout.size, fields, seedReads, problems, findings };
}

/** SQE/CQE: the seed's declared offsets against our ABI header's (whose SQEs the kernel completes in every probe). */
export function compareEntries(abi: Pick<AbiInfo, 'sqeSize' | 'cqeSize' | 'sqeOffsets' | 'cqeOffsets'>, seed: StructSet = SEED_STRUCTS): { problems: string[]; facts: Record<string, FactValue> } {
  const problems: string[] = [];
  const facts: Record<string, FactValue> = {};
  for (const [struct, ours, size, used] of [
    ['ioUringSqe', abi.sqeOffsets, abi.sqeSize, SEED_SQE_WRITES],
    ['ioUringCqe', abi.cqeOffsets, abi.cqeSize, SEED_CQE_READS],
  ] as const) {
    const layout = layoutOf(seed, struct);
    if (layout.size !== size) problems.push(`${struct} is ${layout.size} bytes in the seed, ${size} in the kernel ABI`);
    const fields: Record<string, FactValue> = {};
    for (const name of used) {
      const f = layout.fields.find((x) => x.path === name);
      const kernelOffset = ours[snakeName(name)];
      fields[name] = { seedOffset: f?.offset ?? null, kernelOffset: kernelOffset ?? null };
      if (!f || kernelOffset === undefined || f.offset !== kernelOffset) {
        problems.push(`${struct}.${name} at byte ${String(f?.offset)} in the seed, ${String(kernelOffset)} (${snakeName(name)}) in the kernel ABI`);
      }
    }
    facts[struct] = { seedSize: layout.size, kernelSize: size, fields };
  }
  return { problems, facts };
}

// ---------------------------------------------------------------------------------------------
// The rings ring-setup made: offsets the kernel filled, masks and entries read through the mapping.
// ---------------------------------------------------------------------------------------------

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

interface RingCheck {
  problems: string[];
  facts: Record<string, FactValue>;
}

/** Check one ring's offsets and read-back masks from ring-setup's facts. */
function checkRing(kind: string, ring: Record<string, unknown> | null): RingCheck {
  const problems: string[] = [];
  const facts: Record<string, FactValue> = {};
  const mapping = asRecord(ring?.mapping);
  const offsets = asRecord(ring?.offsets);
  const sqEntries = asNumber(ring?.sqEntries);
  const cqEntries = asNumber(ring?.cqEntries);
  if (!mapping || !offsets || sqEntries === null || cqEntries === null) {
    return { problems: [`${kind} ring: no mapping recorded by ring-setup`], facts: { checked: false } };
  }
  const cq = asRecord(offsets.cq);
  const sq = asRecord(offsets.sq);
  const mod16 = asNumber(mapping.cqesAddrMod16);
  const mod8 = asNumber(mapping.cqesAddrMod8);
  const cqesOffset = asNumber(cq?.cqes);
  const sqArrayOffset = asNumber(sq?.array);
  facts.cqesOffset = cqesOffset;
  facts.cqesAddrMod16 = mod16;
  facts.cqesAddrMod8 = mod8;
  facts.sqArrayOffset = sqArrayOffset;
  if (mod16 !== 0) problems.push(`${kind} ring: CQE array address % 16 = ${String(mod16)}`);
  if (mod8 !== 0) problems.push(`${kind} ring: CQE array address % 8 = ${String(mod8)} (the seed warns "may be misaligned")`);
  if (cqesOffset === null || cqesOffset % 16 !== 0) problems.push(`${kind} ring: cq_off.cqes ${String(cqesOffset)} not a multiple of 16`);
  if (sqArrayOffset === null || sqArrayOffset % 4 !== 0) problems.push(`${kind} ring: sq_off.array ${String(sqArrayOffset)} not 4-byte aligned`);
  for (const [q, entries] of [['sq', sqEntries], ['cq', cqEntries]] as const) {
    const mask = asNumber(mapping[`${q}RingMask`]);
    const readEntries = asNumber(mapping[`${q}RingEntries`]);
    facts[`${q}Entries`] = entries;
    facts[`${q}RingMask`] = mask;
    facts[`${q}RingEntries`] = readEntries;
    if (!isPowerOfTwo(entries)) problems.push(`${kind} ring: ${q} entries ${entries} not a power of two`);
    if (mask !== entries - 1) problems.push(`${kind} ring: ${q} ring_mask ${String(mask)} != entries-1 (${entries - 1})`);
    if (readEntries !== entries) problems.push(`${kind} ring: ${q} ring_entries reads ${String(readEntries)}, params said ${entries}`);
  }
  facts.checked = true;
  return { problems, facts };
}

/** The one-line fix for the seed's ioCqringOffsets. */
export const SEED_FIX = 'declare `Flags uint32; Resv1 uint32; UserAddr uint64` in ioCqringOffsets in place of `Resv [2]uint32` (ioUringParams becomes 120 bytes)';

/** Facts of the `cqe-alignment` probe. */
export type CqeAlignmentFacts = {
  /** the seed's declared Go structs (sizes, offsets) */
  seed: FactValue;
  /** what the kernel copies and fills: setup result, copyIn, copyOut (bytes), seedRoom (setup with only the seed's room) */
  kernel: FactValue;
  /** io_uring_params field by field: kernel name, offset, size, the seed's name, match */
  params: FactValue;
  /** the fields the seed reads, with the values the kernel gave */
  seedReads: FactValue;
  pageSize: number;
  send: FactValue;
  recv: FactValue;
  /** differences in what the seed reads (ABI_MISMATCH) */
  problems: string[];
  /** the seed's struct shorter than what the kernel copies (SEED_LAYOUT) */
  findings: string[];
  fix?: string;
};

/** Facts of the `cqe-alignment` probe when the kernel's copy could not be measured. */
export type CqeAlignmentUnmeasuredFacts = { seed: FactValue; kernel: FactValue; send: FactValue; recv: FactValue };

export const cqeAlignmentProbe: ProbeSpec = {
  id: 'cqe-alignment',
  title: 'ABI sizes, CQE alignment and ring masks',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(ctx): Promise<ProbeResult> {
    const spec = cqeAlignmentProbe;
    const addon = loadAddon();
    const abi = addon.abi();
    const seedSize = layoutOf(SEED_STRUCTS, SEED_PARAMS).size;
    const observed = await addon.paramsLayout({ room: seedSize });
    const setup = factsOf(ctx.results, 'ring-setup');
    const send = checkRing('send', asRecord(setup.send));
    const recv = checkRing('recv', asRecord(setup.recv));
    const entries = compareEntries(abi);
    const seedFacts = {
      paramsSize: seedSize,
      sqOffsetsSize: layoutOf(SEED_STRUCTS, 'ioSqringOffsets').size,
      cqOffsetsSize: layoutOf(SEED_STRUCTS, 'ioCqringOffsets').size,
      ...(entries.facts as Record<string, FactValue>),
    };
    const kernelFacts: Record<string, FactValue> = {
      setup: observed.res < 0 ? errnoName(observed.res) : 'ok',
      copyIn: observed.copyIn > 0 ? observed.copyIn : null,
      copyOut: observed.copyOut > 0 ? observed.copyOut : null,
      seedRoom: observed.probeRoomRes < 0 ? errnoName(observed.probeRoomRes) : 'ok',
    };
    if (observed.res < 0 || observed.copyIn < 0 || !observed.window) {
      const res = observed.res < 0 ? observed.res : observed.copyInRes;
      return probeResult(spec, {
        status: 'fail',
        summary: `the kernel's io_uring_params could not be measured: io_uring_setup of the layout probe failed with ${res < 0 ? errnoName(res) : 'an unknown error'}`,
        reason: 'PROBE_ERROR',
        errno: res < 0 ? errnoName(res) : null,
        facts: { seed: seedFacts, kernel: kernelFacts, send: send.facts, recv: recv.facts } satisfies CqeAlignmentUnmeasuredFacts,
      });
    }
    const params = compareParams(observed);
    const problems = [...params.problems, ...entries.problems, ...send.problems, ...recv.problems];
    const facts: CqeAlignmentFacts = {
      seed: seedFacts,
      kernel: kernelFacts,
      params: params.fields as unknown as FactValue,
      seedReads: params.seedReads as unknown as FactValue,
      pageSize: abi.pageSize,
      send: send.facts,
      recv: recv.facts,
      problems,
      findings: params.findings,
    };
    if (problems.length > 0) {
      return probeResult(spec, {
        status: 'fail',
        summary: problems[0] + (problems.length > 1 ? ` (+${problems.length - 1} more)` : ''),
        reason: 'ABI_MISMATCH',
        facts,
      });
    }
    if (params.findings.length > 0) {
      facts.fix = SEED_FIX;
      const beyond = params.fields.filter((f) => f.match === 'beyond').map((f) => `${f.kernel} (bytes ${f.offset}-${f.offset + f.size - 1})`);
      // A finding about the seed's code, the same on every kernel: it does not make this host
      // degraded (the verdict is about the host), so it passes with the reason that explains it;
      // it is also in the report's seedFindings (params-struct-112-bytes).
      return probeResult(spec, {
        status: 'pass',
        remediation: remediationFor('SEED_LAYOUT'),
        summary:
          `the seed's ioUringParams is ${params.seedSize} bytes, io_uring_setup copies ${observed.copyIn} in and ${observed.copyOut} out: ` +
          `${beyond.join(', ') || 'the rest'} is read and written past the seed's variable on every setup ` +
          `(${params.seedSize} bytes before an unmapped page: ${String(kernelFacts.seedRoom)}); fix: ${SEED_FIX}`,
        reason: 'SEED_LAYOUT',
        facts,
      });
    }
    return probeResult(spec, {
      status: 'pass',
      summary: `the seed's structs match what the kernel copies (params ${params.seedSize} bytes) and fills; CQE arrays 16-byte aligned; masks = entries-1 on both rings`,
      facts,
    });
  },
};

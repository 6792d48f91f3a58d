// Probe `cqe-alignment`: struct sizes, CQE array alignment, SQ array offset and ring masks, as the seed assumes them.
import { loadAddon } from '../native.js';
import type { FactValue, ProbeResult } from '../types.js';
import { asNumber, asRecord, factsOf, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

/** What the seed's Go structs assume (unsafe.Sizeof checks in its init()). */
const EXPECTED = { sqeSize: 64, cqeSize: 16, paramsSize: 120 } as const;

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

export const cqeAlignmentProbe: ProbeSpec = {
  id: 'cqe-alignment',
  title: 'ABI sizes, CQE alignment and ring masks',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(ctx): Promise<ProbeResult> {
    const spec = cqeAlignmentProbe;
    const abi = loadAddon().abi();
    const problems: string[] = [];
    const sizes = { sqeSize: abi.sqeSize, cqeSize: abi.cqeSize, paramsSize: abi.paramsSize };
    for (const key of Object.keys(EXPECTED) as Array<keyof typeof EXPECTED>) {
      if (sizes[key] !== EXPECTED[key]) problems.push(`${key} is ${sizes[key]}, the seed assumes ${EXPECTED[key]}`);
    }
    const setup = factsOf(ctx.results, 'ring-setup');
    const send = checkRing('send', asRecord(setup.send));
    const recv = checkRing('recv', asRecord(setup.recv));
    problems.push(...send.problems, ...recv.problems);
    const facts = {
      sizes,
      expected: { ...EXPECTED },
      pageSize: abi.pageSize,
      cqeOffsets: abi.cqeOffsets,
      send: send.facts,
      recv: recv.facts,
      problems,
    };
    if (problems.length > 0) {
      return probeResult(spec, {
        status: 'fail',
        summary: problems[0] + (problems.length > 1 ? ` (+${problems.length - 1} more)` : ''),
        reason: 'ABI_MISMATCH',
        facts,
      });
    }
    return probeResult(spec, {
      status: 'pass',
      summary: `SQE 64, CQE 16, params 120 bytes; CQE arrays 16-byte aligned; masks = entries-1 on both rings`,
      facts,
    });
  },
};

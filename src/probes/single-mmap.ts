// Probe `single-mmap`: FEAT_SINGLE_MMAP, and whether the separate and the single mapping show the same ring (a CQE read through each).
import { errnoName, errnoOfResult } from '../errno.js';
import { loadAddon, type CqeView, type MappingCompareResult } from '../native.js';
import type { FactValue, ProbeResult, ProbeStatus, ReasonCode } from '../types.js';
import { probeResult, resultName } from './result.js';
import type { ProbeSpec } from './spec.js';

/** The seed's minimum ring: the comparison needs no more, and a memlock-starved host can still make it. */
const ENTRIES = 8;

/**
 * What the seed's ladder means for the kernels without FEAT_SINGLE_MMAP. Its two rungs both carry
 * CLAMP (5.6); FEAT_SINGLE_MMAP came in 5.4. So on 5.1–5.5 both rungs get EINVAL and the seed does
 * not start at all: the receive ring's branch for a kernel without SINGLE_MMAP (three mappings) is
 * never reached on a mainline kernel.
 */
export const LADDER_NOTE =
  'the seed\'s ladder is [CLAMP|COOP_TASKRUN, CLAMP], with no rung without CLAMP (5.6): on 5.1–5.5 both rungs get EINVAL and the seed cannot start, ' +
  'so its receive ring\'s path for kernels without FEAT_SINGLE_MMAP (5.4) is never taken on a mainline kernel';

function cqeFact(c: CqeView | null): FactValue {
  return c ? { userData: c.userData, res: c.res } : null;
}

export interface MappingJudgement {
  status: ProbeStatus;
  reason: ReasonCode | null;
  errno: string | null;
  summary: string;
  /** per NOP: what each mapping showed, and what differed */
  differences: string[];
}

/** What the two views of one ring must show for each NOP: the CQE with its user_data and res 0, alike. */
function nopDifferences(r: MappingCompareResult): string[] {
  const out: string[] = [];
  for (const nop of r.nops) {
    const where = `NOP ${nop.userData.toString(16)} (submitted through the ${nop.submittedThrough} mapping)`;
    if (nop.enterRes !== 1) {
      out.push(`${where}: io_uring_enter returned ${nop.enterRes < 0 ? errnoName(nop.enterRes) : nop.enterRes}, not 1`);
      continue;
    }
    const views: Array<['separate' | 'single', CqeView | null]> = [['separate', nop.viaSeparate]];
    if (r.single.attempted) views.push(['single', nop.viaSingle]);
    for (const [name, c] of views) {
      if (!c) out.push(`${where}: no CQE through the ${name} CQ mapping`);
      else if (c.userData !== nop.userData) out.push(`${where}: the ${name} CQ mapping shows user_data ${c.userData.toString(16)}`);
      else if (c.res !== 0) out.push(`${where}: the ${name} CQ mapping shows res ${c.res}`);
    }
    if (nop.viaSeparate && nop.viaSingle && nop.viaSeparate.flags !== nop.viaSingle.flags) {
      out.push(`${where}: CQE flags ${nop.viaSeparate.flags} through the separate mapping, ${nop.viaSingle.flags} through the single one`);
    }
  }
  return out;
}

/** The probe's conclusion from a mappingCompare result (pure: the kernel's answer in, the verdict out). */
export function judgeMapping(r: MappingCompareResult): MappingJudgement {
  if (r.res < 0) {
    return {
      status: 'fail',
      reason: 'UNKNOWN',
      errno: errnoName(r.res),
      summary: `io_uring_setup for the mapping comparison failed with ${errnoName(r.res)}`,
      differences: [],
    };
  }
  const refused = [r.separate, r.single].find((v) => v.attempted && v.res < 0);
  if (refused) {
    const which = refused === r.separate ? 'separate (SQ ring, CQ ring, SQEs)' : 'single (SQ and CQ ring in one)';
    return {
      status: 'fail',
      reason: 'UNKNOWN',
      errno: errnoName(refused.res),
      summary: `the ${which} mapping of the ring could not be made: mmap failed with ${errnoName(refused.res)}, so the two mappings could not be compared`,
      differences: [],
    };
  }
  const differences = nopDifferences(r);
  const sep = r.separate.mapping;
  const single = r.single.mapping;
  if (sep && single) {
    for (const key of ['sqRingMask', 'sqRingEntries', 'cqRingMask', 'cqRingEntries'] as const) {
      if (sep[key] !== single[key]) differences.push(`${key} reads ${sep[key]} through the separate mapping, ${single[key]} through the single one`);
    }
  }
  if (!r.featSingleMmap) {
    // Only a non-mainline kernel gets here: it accepted CLAMP (5.6) without FEAT_SINGLE_MMAP (5.4).
    if (differences.length > 0) {
      return {
        status: 'fail',
        reason: 'ABI_MISMATCH',
        errno: errnoOfResult(r.nops[0]?.enterRes ?? 0),
        summary: `no FEAT_SINGLE_MMAP, and the separate CQ mapping does not show the NOP: ${differences[0]}`,
        differences,
      };
    }
    return {
      status: 'warn',
      reason: 'NO_SINGLE_MMAP',
      errno: null,
      summary:
        'no FEAT_SINGLE_MMAP although this kernel accepted CLAMP (5.6): not a mainline kernel (SINGLE_MMAP came in 5.4); ' +
        'the seed\'s receive ring maps SQ and CQ separately here, and a NOP\'s CQE was read through the separate CQ mapping',
      differences,
    };
  }
  if (differences.length > 0) {
    const errno = r.nops.map((n) => errnoOfResult(n.enterRes)).find((e) => e !== null) ?? null;
    return {
      status: 'fail',
      reason: 'ABI_MISMATCH',
      errno,
      summary: `the separate and the single mapping disagree: ${differences[0]}${differences.length > 1 ? ` (+${differences.length - 1} more)` : ''}`,
      differences,
    };
  }
  return {
    status: 'pass',
    summary:
      'FEAT_SINGLE_MMAP present; a NOP submitted through the separate mappings and one through the single mapping each show the same CQE ' +
      '(user_data, res 0) through the separate CQ mapping and through the single one. Before 5.6 the seed cannot start (its ladder has no rung without CLAMP)',
    reason: null,
    errno: null,
    differences,
  };
}

/** Facts of the `single-mmap` probe. */
export type SingleMmapFacts = {
  entries: number;
  /** io_uring_setup of the probe's ring: 'ok' or its errno */
  setup: string;
  featSingleMmap: boolean;
  separate: { result: string; mapping: FactValue };
  single: { result: string; mapping: FactValue };
  /** each NOP, its completion read through the separate CQ mapping and through the single mapping */
  nops: Array<{ submittedThrough: string; userData: number; enter: string | number; viaSeparate: FactValue; viaSingle: FactValue }>;
  agree: boolean;
  differences: string[];
  /** what the seed's ladder means for 5.1-5.5 */
  ladder: string;
};

export const singleMmapProbe: ProbeSpec = {
  id: 'single-mmap',
  title: 'Ring mapping (FEAT_SINGLE_MMAP)',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = singleMmapProbe;
    const r = await loadAddon().mappingCompare({ entries: ENTRIES });
    const verdict = judgeMapping(r);
    const facts: SingleMmapFacts = {
      entries: ENTRIES,
      setup: resultName(r.res),
      featSingleMmap: r.featSingleMmap,
      separate: { result: resultName(r.separate.res), mapping: r.separate.mapping as unknown as FactValue },
      single: r.single.attempted
        ? { result: resultName(r.single.res), mapping: r.single.mapping as unknown as FactValue }
        : { result: 'not made (no FEAT_SINGLE_MMAP: the SQ ring mapping holds no CQ ring)', mapping: null },
      nops: r.nops.map((n) => ({
        submittedThrough: n.submittedThrough,
        userData: n.userData,
        enter: n.enterRes < 0 ? errnoName(n.enterRes) : n.enterRes,
        viaSeparate: cqeFact(n.viaSeparate),
        viaSingle: r.single.attempted ? cqeFact(n.viaSingle) : null,
      })),
      agree: r.agree,
      differences: verdict.differences,
      ladder: LADDER_NOTE,
    };
    return probeResult(spec, {
      status: verdict.status,
      summary: verdict.summary,
      reason: verdict.reason,
      errno: verdict.errno,
      facts,
    });
  },
};

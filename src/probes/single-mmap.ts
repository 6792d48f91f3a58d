// Probe `single-mmap`: FEAT_SINGLE_MMAP, and whether the separate and the single mapping show the same ring.
import { errnoName, errnoOfResult } from '../errno.js';
import { loadAddon } from '../native.js';
import type { FactValue, ProbeResult } from '../types.js';
import { probeResult, resultName } from './result.js';
import type { ProbeSpec } from './spec.js';

/** The seed's minimum ring: the comparison needs no more, and a memlock-starved host can still make it. */
const ENTRIES = 8;

export const singleMmapProbe: ProbeSpec = {
  id: 'single-mmap',
  title: 'Ring mapping (FEAT_SINGLE_MMAP)',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = singleMmapProbe;
    const r = await loadAddon().mappingCompare({ entries: ENTRIES });
    const facts = {
      entries: ENTRIES,
      setup: resultName(r.res),
      featSingleMmap: r.featSingleMmap,
      separate: { result: resultName(r.separate.res), mapping: r.separate.mapping as unknown as FactValue },
      single: { result: resultName(r.single.res), mapping: r.single.mapping as unknown as FactValue },
      agree: r.agree,
      nopRoundTrip: { result: resultName(r.nopRoundTrip.res), cqeRes: r.nopRoundTrip.cqeRes },
    };
    if (r.res < 0) {
      return probeResult(spec, {
        status: 'fail',
        summary: `io_uring_setup for the mapping comparison failed with ${errnoName(r.res)}`,
        reason: 'UNKNOWN',
        errno: errnoName(r.res),
        facts,
      });
    }
    if (!r.featSingleMmap) {
      return probeResult(spec, {
        status: 'warn',
        summary: 'no FEAT_SINGLE_MMAP (kernel < 5.4): the seed\'s receive ring maps SQ and CQ separately',
        reason: 'NO_SINGLE_MMAP',
        errno: errnoOfResult(r.single.res),
        facts,
      });
    }
    if (r.separate.res < 0 || r.single.res < 0 || !r.agree) {
      const errno = errnoOfResult(r.separate.res) ?? errnoOfResult(r.single.res) ?? errnoOfResult(r.nopRoundTrip.res);
      return probeResult(spec, {
        status: 'fail',
        summary: `the separate and the single mapping disagree (separate ${facts.separate.result}, single ${facts.single.result}, NOP round trip ${facts.nopRoundTrip.result})`,
        reason: 'ABI_MISMATCH',
        errno,
        facts,
      });
    }
    return probeResult(spec, {
      status: 'pass',
      summary: 'FEAT_SINGLE_MMAP present; separate and single mappings show the same ring (NOP round trip ok)',
      facts,
    });
  },
};

// Issue 12, point 6 (and 7's layout flags): the kernel's answer to io_uring_setup (entry counts,
// masks, offsets, layout flags) is checked before anything is derived from it and read back from the
// mapping after mmap; an answer that breaks it is -EPROTO with the field named (ABI_MISMATCH in the
// report), the ring unmapped and closed, never out-of-bounds pointers or a loop without end.
// The real kernel does not lie, so the checks run on REAL params and mappings of a real ring
// (io_uring_setup(8, CLAMP)), one field changed at a time, through the test-only
// geometryCheckScenario. The unchanged real params must pass.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadAddon } from '../src/native.js';
import { REMEDIATION, setupRefusalReason } from '../src/probes/reasons.js';
import { bitOf, SETUP_FLAGS } from '../src/kernel-abi.js';
import { missingSetupFlag } from './helpers/require.js';

const EPROTO = -71;
const EINVAL = -22;

interface Outcome {
  res: number;
  field: string | null;
  rule: string | null;
  value: number;
  bound: number;
}
interface Scenario extends Outcome {
  stage: string;
  baseline: Outcome;
  singleRes?: number;
  singleField?: string | null;
  memEmpty?: boolean;
}
type ScenarioFn = (o: { mutate?: string; value?: number; mode?: 'check' | 'map' }) => Scenario;

const addon = loadAddon();
const scenario = (addon as unknown as { geometryCheckScenario?: ScenarioFn }).geometryCheckScenario;

function run(o: Parameters<ScenarioFn>[0]): Scenario {
  assert.equal(typeof scenario, 'function', 'the addon exports geometryCheckScenario (rebuild it)');
  const r = scenario!(o);
  assert.equal(r.stage, 'done', `scenario ended at ${r.stage} (${r.res})`);
  assert.equal(r.baseline.res, 0, 'the real, unchanged params and mapping pass the checks');
  return r;
}

const flag = (name: string): number => bitOf(SETUP_FLAGS, name)!;

describe('ring geometry: real params pass', () => {
  test('the unmutated params and mapping of a real ring pass', () => {
    const r = run({});
    assert.equal(r.res, 0);
    assert.equal(r.field, null);
  });
  test('mapping the real ring again (separate and single) passes', () => {
    const r = run({ mode: 'map' });
    assert.equal(r.res, 0);
    assert.equal(r.singleRes, 0);
  });
});

// [mutated field, value, field the fault must name]
const MUTATIONS: Array<[string, number, string]> = [
  ['sq_entries', 0, 'sq_entries'],
  ['sq_entries', 6, 'sq_entries'],
  ['sq_entries', 65536, 'sq_entries'],
  ['cq_entries', 0, 'cq_entries'],
  ['cq_entries', 12, 'cq_entries'],
  ['cq_entries', 131072, 'cq_entries'],
  ['cq_entries', 4, 'cq_entries'], // fewer CQ than SQ entries
  // cq_entries * 2 past 2^32: the send ring's slot-table loop (n <<= 1 while n < want) would never end
  ['cq_entries', 0x80000000, 'cq_entries'],
  ['cq_entries', 0x80000001, 'cq_entries'],
  ['flags', flag('CLAMP') | flag('SQE128'), 'flags'],
  ['flags', flag('CLAMP') | flag('CQE32'), 'flags'],
  ['flags', flag('CLAMP') | flag('NO_MMAP'), 'flags'],
  ['flags', flag('CLAMP') | flag('CQE_MIXED'), 'flags'],
  ['flags', flag('CLAMP') | flag('REGISTERED_FD_ONLY'), 'flags'],
  ['flags', flag('CLAMP') | 2 ** 19, 'flags'], // a bit this addon does not know (6.18: SQE_MIXED)
  ['sq_off.head', 1 << 20, 'sq_off.head'],
  ['sq_off.head', 2, 'sq_off.head'], // misaligned u32
  ['sq_off.tail', 0xfffffffc, 'sq_off.tail'],
  ['sq_off.ring_mask', 1 << 20, 'sq_off.ring_mask'],
  ['sq_off.ring_entries', 4094, 'sq_off.ring_entries'],
  ['sq_off.flags', 1 << 16, 'sq_off.flags'],
  ['sq_off.dropped', 0xfffffffc, 'sq_off.dropped'],
  ['sq_off.array', 0xfffffff0, 'sq_off.array'], // array + entries * 4 past 2^32: computed in 64 bits
  ['sq_off.array', 4094, 'sq_off.array'],
  ['cq_off.head', 1 << 20, 'cq_off.head'],
  ['cq_off.tail', 0xfffffffc, 'cq_off.tail'],
  ['cq_off.ring_mask', 1 << 24, 'cq_off.ring_mask'],
  ['cq_off.ring_entries', 4096, 'cq_off.ring_entries'],
  ['cq_off.overflow', 4093, 'cq_off.overflow'],
  ['cq_off.flags', 0xfffffffc, 'cq_off.flags'],
  ['cq_off.cqes', 0xfffffff0, 'cq_off.cqes'], // cqes + cq_entries * 16 past 2^32
  ['cq_off.cqes', 4000, 'cq_off.cqes'], // the CQE array runs past the mapping
  ['cq_off.cqes', 0x44, 'cq_off.cqes'], // not 8-byte aligned
  // Read back from the mapping (copies of the real ring bytes, one word changed)
  ['mapped.sq_ring_mask', 3, 'mapped sq ring_mask'],
  ['mapped.sq_ring_mask', 0xffffffff, 'mapped sq ring_mask'],
  ['mapped.sq_ring_entries', 16, 'mapped sq ring_entries'],
  ['mapped.cq_ring_mask', 0xffff, 'mapped cq ring_mask'],
  ['mapped.cq_ring_entries', 0, 'mapped cq ring_entries'],
  ['mapped.sq_tail', 100, 'mapped sq tail - head'],
  ['mapped.cq_tail', 0x80000000, 'mapped cq tail - head'],
  // Params that pass on their own but disagree with what the kernel wrote into the mapping
  ['sq_entries', 4, 'mapped sq ring_mask'],
  ['cq_entries', 32, 'mapped cq ring_mask'],
];

describe('ring geometry: each mutated field is -EPROTO naming the field', () => {
  for (const [mutate, value, field] of MUTATIONS) {
    test(`${mutate} = ${value} -> ${field}`, () => {
      const r = run({ mutate, value });
      assert.equal(r.res, EPROTO, `${mutate}=${value}: ${JSON.stringify(r)}`);
      assert.equal(r.field, field);
      assert.ok(r.rule && r.rule.length > 0, 'the rule is named');
    });
  }
});

function ioUringMappings(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes('io_uring')).length;
}

describe('ring geometry: the mapping path refuses and leaves nothing mapped', () => {
  const CASES: Array<[string, number, string]> = [
    ['cq_off.ring_mask', 1 << 24, 'cq_off.ring_mask'], // refused before mmap
    ['flags', flag('CLAMP') | flag('SQE128'), 'flags'],
    ['sq_entries', 4, 'mapped sq ring_mask'], // refused after mmap, on the read-back
    ['cq_entries', 32, 'mapped cq ring_mask'],
  ];
  for (const [mutate, value, field] of CASES) {
    test(`MapRingsSeparate and MapRingsSingle with ${mutate} = ${value}: -EPROTO, unmapped`, () => {
      const before = ioUringMappings();
      for (let i = 0; i < 20; i++) {
        const r = run({ mode: 'map', mutate, value });
        assert.equal(r.res, EPROTO);
        assert.equal(r.field, field);
        assert.equal(r.singleRes, EPROTO);
        assert.equal(r.singleField, field);
        assert.equal(r.memEmpty, true, 'no pointer into a mapping is left behind');
      }
      assert.equal(ioUringMappings(), before, 'every mapping made before the read-back failed was unmapped');
    });
  }
});

describe('layout flags are refused where the rings are built (point 7)', () => {
  for (const name of ['SQE128', 'CQE32', 'NO_MMAP', 'CQE_MIXED', 'REGISTERED_FD_ONLY']) {
    for (const kind of ['send', 'recv'] as const) {
      test(`ringLadder ${kind} with CLAMP|${name}: -EINVAL before any io_uring_setup`, async () => {
        const r = await addon.ringLadder({ kind, flagSets: [flag('CLAMP') | flag(name)], registerMaxWorkers: false });
        assert.equal(r.res, EINVAL);
        assert.deepEqual(r.attempts, [], 'no setup was attempted with a layout flag');
        assert.equal(r.params, null);
      });
    }
  }
  test('NO_SQARRAY (handled: no index array) is not refused', async (t) => {
    const missing = await missingSetupFlag('NO_SQARRAY');
    if (missing) return t.skip(missing);
    const r = await addon.ringLadder({ kind: 'send', flagSets: [flag('CLAMP') | flag('NO_SQARRAY')], registerMaxWorkers: false });
    assert.equal(r.res, 0, JSON.stringify(r.attempts));
  });
});

describe('EPROTO from the ladder is ABI_MISMATCH in the report', () => {
  test('setupRefusalReason maps EPROTO to ABI_MISMATCH, with remediation naming the geometry', () => {
    const ctx = { ioUringDisabled: 0, ioUringGroup: -1, gid: 0, groups: [0], capabilities: [], seccompMode: 0 };
    assert.equal(setupRefusalReason('EPROTO', ctx), 'ABI_MISMATCH');
    assert.match(REMEDIATION.ABI_MISMATCH, /EPROTO/);
    assert.match(REMEDIATION.ABI_MISMATCH, /ring_mask/);
  });
});

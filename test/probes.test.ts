// Unit tests of the pure parts of `check`: refusal reasons, verdicts, errno names, ladder records, fact decoding.
import { strict as assert } from 'node:assert';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { errnoName, errnoNumber, errnoOfResult } from '../src/errno.js';
import { loadAddon, type AbiInfo, type NativeAttempt } from '../src/native.js';
import {
  compareEntries,
  compareParams,
  KERNEL_PARAMS,
  KERNEL_STRUCTS,
  layoutOf,
  SEED_PARAMS,
  SEED_STRUCTS,
  snakeName,
  type StructSet,
} from '../src/probes/cqe-alignment.js';
import { noMmapEntry } from '../src/probes/setup-flags.js';
import { judgeSingleIssuer } from '../src/probes/single-issuer.js';
import { judgeMapping } from '../src/probes/single-mmap.js';
import { decodeCapabilities, refusalContextFrom } from '../src/probes/environment.js';
import { killedProbeReason, REMEDIATION, setupRefusalReason, type RefusalContext } from '../src/probes/reasons.js';
import { probeById } from '../src/probes/index.js';
import { dependencySkip, probeResult, runProbe } from '../src/probes/result.js';
import { ladderAttempts } from '../src/probes/ring-setup.js';
import { namesOfBits, SETUP_FLAGS } from '../src/kernel-abi.js';
import { memlockFigures, suggestedLimit } from '../src/probes/memlock.js';
import { DEFAULT_CHECK_OPTIONS, type ProbeSpec } from '../src/probes/spec.js';
import type { FactValue, ProbeResult } from '../src/types.js';
import { computeVerdict, exitCodeFor } from '../src/verdict.js';
import { probeOf } from './helpers/reports.js';
import { missingSetupFlag, requireSetupFlag } from './helpers/require.js';

const plainHost: RefusalContext = {
  ioUringDisabled: 0,
  ioUringGroup: -1,
  gid: 1000,
  groups: [1000],
  capabilities: [],
  seccompMode: 0,
};


describe('setupRefusalReason: errno + environment -> reason', () => {
  it('EPERM with io_uring_disabled=2 is SYSCTL_DISABLED, even under a seccomp filter', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 2 }), 'SYSCTL_DISABLED');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 2, seccompMode: 2 }), 'SYSCTL_DISABLED');
  });
  it('EPERM with io_uring_disabled=1 outside the group and without CAP_SYS_ADMIN is NOT_IN_GROUP', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242 }), 'NOT_IN_GROUP');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 1, ioUringGroup: -1 }), 'NOT_IN_GROUP');
  });
  it('EPERM with io_uring_disabled=1 is not NOT_IN_GROUP for a group member or CAP_SYS_ADMIN', () => {
    const member = { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242, groups: [4242] };
    assert.equal(setupRefusalReason('EPERM', member), 'UNKNOWN');
    const primary = { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242, gid: 4242, groups: [] };
    assert.equal(setupRefusalReason('EPERM', primary), 'UNKNOWN');
    const admin = { ...plainHost, ioUringDisabled: 1, capabilities: ['CAP_SYS_ADMIN'], seccompMode: 2 };
    assert.equal(setupRefusalReason('EPERM', admin), 'SECCOMP_BLOCKED');
  });
  it('EPERM with sysctl 0 is SECCOMP_BLOCKED under a filter, UNKNOWN without one', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, seccompMode: 2 }), 'SECCOMP_BLOCKED');
    assert.equal(setupRefusalReason('EPERM', plainHost), 'UNKNOWN');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: null }), 'UNKNOWN');
  });
  it('ENOSYS is SECCOMP_BLOCKED under a filter, NOT_BUILT without one', () => {
    assert.equal(setupRefusalReason('ENOSYS', { ...plainHost, seccompMode: 2 }), 'SECCOMP_BLOCKED');
    assert.equal(setupRefusalReason('ENOSYS', plainHost), 'NOT_BUILT');
  });
  it('EACCES is LSM_DENIED, EOPNOTSUPP is SANDBOX_BLOCKED, ENOMEM at the minimum is MEMLOCK_LIMIT', () => {
    assert.equal(setupRefusalReason('EACCES', plainHost), 'LSM_DENIED');
    assert.equal(setupRefusalReason('EOPNOTSUPP', plainHost), 'SANDBOX_BLOCKED');
    assert.equal(setupRefusalReason('ENOMEM', plainHost, true), 'MEMLOCK_LIMIT');
    assert.equal(setupRefusalReason('EINVAL', plainHost), 'UNKNOWN');
  });
  it('a SIGSYS death of ring-setup is SECCOMP_BLOCKED; other deaths are PROBE_KILLED', () => {
    assert.equal(killedProbeReason('ring-setup', 'SIGSYS'), 'SECCOMP_BLOCKED');
    assert.equal(killedProbeReason('ring-setup', 'SIGSEGV'), 'PROBE_KILLED');
    assert.equal(killedProbeReason('loopback', 'SIGSYS'), 'PROBE_KILLED');
  });
  it('every reason code has one or two sentences of remediation', () => {
    for (const [code, text] of Object.entries(REMEDIATION)) {
      assert.ok(text.length > 20, code);
      const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z`])/).length;
      assert.ok(sentences >= 1 && sentences <= 2, `${code}: ${sentences} sentences`);
    }
  });
  it('the refusal context is read back from the environment probe\'s facts; "could not tell" stays null', () => {
    const env = probeResult({ id: 'environment', title: 'e' }, {
      status: 'pass',
      summary: '',
      facts: { ioUringDisabled: 1, ioUringGroup: 7, gid: 5, groups: [5, 7], capabilities: ['CAP_NET_RAW'], seccompMode: null },
    });
    assert.deepEqual(refusalContextFrom(env), {
      ioUringDisabled: 1,
      ioUringGroup: 7,
      gid: 5,
      groups: [5, 7],
      capabilities: ['CAP_NET_RAW'],
      seccompMode: null,
    });
    assert.equal(refusalContextFrom(undefined).ioUringDisabled, null);
  });
});

describe('computeVerdict', () => {
  it('all pass (and skips) is compatible, exit 0', () => {
    const v = computeVerdict([probeOf('a', 'pass'), probeOf('b', 'skip')]);
    assert.equal(v, 'compatible');
    assert.equal(exitCodeFor(v), 0);
  });
  it('a warn is degraded, exit 1', () => {
    const v = computeVerdict([probeOf('a', 'pass'), probeOf('b', 'warn', 'FLAGS_FALLBACK')]);
    assert.equal(v, 'degraded');
    assert.equal(exitCodeFor(v), 1);
  });
  it('a probe that could not check (killed, timeout, error, no loopback) is unknown, exit 3', () => {
    for (const reason of ['PROBE_KILLED', 'PROBE_TIMEOUT', 'PROBE_ERROR', 'NO_LOOPBACK'] as const) {
      const v = computeVerdict([probeOf('a', 'warn', 'RING_SHRUNK'), probeOf('b', 'fail', reason)]);
      assert.equal(v, 'unknown', reason);
      assert.equal(exitCodeFor(v), 3);
    }
  });
  it('a real fail is incompatible, exit 2, and wins over unknown', () => {
    const v = computeVerdict([probeOf('a', 'fail', 'PROBE_TIMEOUT'), probeOf('b', 'fail', 'SECCOMP_BLOCKED')]);
    assert.equal(v, 'incompatible');
    assert.equal(exitCodeFor(v), 2);
  });
});

describe('errno names', () => {
  it('maps numbers (positive or negative) to names and back', () => {
    assert.equal(errnoName(1), 'EPERM');
    assert.equal(errnoName(-38), 'ENOSYS');
    assert.equal(errnoName(-constants.errno.EAGAIN), 'EAGAIN');
    assert.equal(errnoName(-constants.errno.EOPNOTSUPP), 'EOPNOTSUPP');
    assert.equal(errnoNumber('EEXIST'), 17);
    assert.equal(errnoNumber('ENOTANERRNO'), null);
    assert.equal(errnoOfResult(0), null);
    assert.equal(errnoOfResult(-22), 'EINVAL');
    assert.equal(errnoName(9999), 'E9999');
  });
});

describe('setup ladder records', () => {
  const abi = { setupFlags: { CLAMP: 0x10, COOP_TASKRUN: 0x100, SINGLE_ISSUER: 0x1000 } } as unknown as AbiInfo;
  it('names flag bits and keeps unknown bits as hex', () => {
    assert.deepEqual(namesOfBits(0x110, SETUP_FLAGS), ['CLAMP', 'COOP_TASKRUN']);
    assert.deepEqual(namesOfBits(0x10 | 0x80000000, SETUP_FLAGS), ['CLAMP', '0x80000000']);
    assert.deepEqual(namesOfBits(0, SETUP_FLAGS), []);
  });
  it('records what the seed does next: drop flags on EINVAL, halve on ENOMEM, accept, give up', () => {
    const native: NativeAttempt[] = [
      { stage: 'setup', entries: 256, flags: 0x110, res: -22 },
      { stage: 'setup', entries: 256, flags: 0x10, res: -12 },
      { stage: 'setup', entries: 128, flags: 0x10, res: 5 },
      { stage: 'mmap', entries: 128, flags: 0x10, res: 0 },
    ];
    const attempts = ladderAttempts('send', native, abi);
    assert.deepEqual(attempts.map((a) => a.next), ['drop-flags', 'halve', 'map', 'accept']);
    assert.deepEqual(attempts.map((a) => a.errno), ['EINVAL', 'ENOMEM', null, null]);
    assert.deepEqual(attempts[0]!.flags, ['CLAMP', 'COOP_TASKRUN']);
    assert.equal(attempts[0]!.ring, 'send');
    const refused = ladderAttempts('recv', [{ stage: 'setup', entries: 64, flags: 0x10, res: -1 }], abi);
    assert.equal(refused[0]!.next, 'give-up');
    assert.equal(refused[0]!.ok, false);
  });
});

describe('environment facts', () => {
  it('decodes CapEff by name', () => {
    assert.deepEqual(decodeCapabilities('0000000000200001'), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
    assert.deepEqual(decodeCapabilities('0'), []);
  });
});

describe('probe results', () => {
  const spec: ProbeSpec = {
    id: 'needs-setup',
    title: 'Needs ring-setup',
    kernel: false,
    dependsOn: ['ring-setup'],
    async run() {
      return probeResult(spec, { status: 'pass', summary: 'ran' });
    },
  };
  it('a probe whose dependency failed is skipped with DEPENDENCY_FAILED, without running', async () => {
    const results = new Map([['ring-setup', probeOf('ring-setup', 'fail', 'SECCOMP_BLOCKED')]]);
    const skipped = await runProbe(spec, { options: DEFAULT_CHECK_OPTIONS, results });
    assert.equal(skipped.status, 'skip');
    assert.equal(skipped.reason, 'DEPENDENCY_FAILED');
    assert.ok(skipped.remediation);
    assert.equal(dependencySkip(spec, new Map([['ring-setup', probeOf('ring-setup', 'warn', 'RING_SHRUNK')]])), null);
  });
  it('a probe that throws becomes a PROBE_ERROR fail with the message in its facts', async () => {
    const throwing: ProbeSpec = { ...spec, dependsOn: [], async run() { throw Object.assign(new Error('boom'), { code: 'EBOOM' }); } };
    const r = await runProbe(throwing, { options: DEFAULT_CHECK_OPTIONS, results: new Map() });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'PROBE_ERROR');
    assert.equal(r.facts.error, 'boom');
    assert.equal(r.facts.errorCode, 'EBOOM');
  });
  it('pass results carry no remediation; warn results get their reason\'s text', () => {
    assert.equal(probeOf('a', 'pass').remediation, null);
    assert.equal(probeOf('a', 'warn', 'NO_WORKER_LIMIT').remediation, REMEDIATION.NO_WORKER_LIMIT);
  });
});

describe('memlock figures: thresholds -> costs, use and the LimitMEMLOCK= to suggest', () => {
  const base = {
    res: 0, stage: '', pageSize: 4096, softLimit: 65536, hardLimit: 65536, chargeTestRes: -12, scanned: true, scanRes: 0,
    scanLimitPages: 16, sendThreshold: 0, pairThreshold: 0, thirdThreshold: 0, attempts: 0, scanUs: 0, sendGeometryPages: 7, recvGeometryPages: 2,
  } as const;
  it('three thresholds give the send and receive costs and what the user already had locked', () => {
    // use 3 pages; send 7; recv 2: send fits at 10, the pair at 12, a second send ring at 19.
    const f = memlockFigures({ ...base, sendThreshold: 10, pairThreshold: 12, thirdThreshold: 19 });
    assert.equal(f.charged, true);
    assert.equal(f.costSource, 'scan');
    assert.equal(f.sendBytes, 7 * 4096);
    assert.equal(f.recvBytes, 2 * 4096);
    assert.equal(f.pairBytes, 9 * 4096);
    assert.equal(f.inUseBytes, 3 * 4096);
    assert.equal(suggestedLimit(f), 65536, '12 pages, rounded up to 64 KiB');
  });
  it('a scan cut short by the limit falls back to the kernel\'s ring geometry, and still reads the use off a found send threshold', () => {
    const f = memlockFigures({ ...base, scanRes: -12, sendThreshold: 8, pairThreshold: 0, thirdThreshold: 0 });
    assert.equal(f.costSource, 'geometry');
    assert.equal(f.pairBytes, 9 * 4096);
    assert.equal(f.inUseBytes, 4096);
  });
  it('accepted at a zero limit is "not charged"; another errno is "cannot tell"', () => {
    assert.equal(memlockFigures({ ...base, chargeTestRes: 0 }).charged, false);
    assert.equal(memlockFigures({ ...base, chargeTestRes: -1 }).charged, null);
  });
});

// ---------------------------------------------------------------------------------------------
// Probes against this machine's kernel (in-process, the real addon): what each one concludes.
// ---------------------------------------------------------------------------------------------

/** Runs probes by id in order, each seeing the results of those before it, as `check` does. */
async function runChain(ids: string[]): Promise<Map<string, ProbeResult>> {
  const results = new Map<string, ProbeResult>();
  for (const id of ids) {
    const spec = probeById(id);
    assert.ok(spec, id);
    results.set(id, await runProbe(spec, { options: DEFAULT_CHECK_OPTIONS, results }));
  }
  return results;
}

describe('cqe-alignment against this kernel: the seed\'s declared layout vs what the kernel copies', () => {
  it('finds the seed\'s 112-byte ioUringParams short of the 120 bytes the kernel copies: pass with reason SEED_LAYOUT (a seed finding, not the host\'s)', async () => {
    const results = await runChain(['environment', 'ring-setup', 'cqe-alignment']);
    const r = results.get('cqe-alignment')!;
    assert.equal(r.status, 'pass', r.summary);
    assert.equal(r.reason, 'SEED_LAYOUT');
    assert.match(r.remediation ?? '', /UserAddr uint64/);
    const seed = r.facts.seed as Record<string, FactValue>;
    const kernel = r.facts.kernel as Record<string, FactValue>;
    assert.equal(seed.paramsSize, 112);
    assert.equal(kernel.copyIn, 120, 'measured: the smallest room before an unmapped page io_uring_setup accepts');
    assert.equal(kernel.copyOut, 120, 'measured: the last byte the kernel wrote');
    assert.equal(kernel.seedRoom, 'EFAULT', 'io_uring_setup with only the seed\'s 112 bytes before an unmapped page');
    assert.match(r.summary, /112/);
    assert.match(r.summary, /120/);
    assert.match(r.summary, /UserAddr uint64/);
  });
});

describe('setup-flags against this kernel', () => {
  it('NO_MMAP is tried with ring memory of our own: accepted where the kernel has it (6.5+, a NOP goes through it), else refused EINVAL and not recognised', async () => {
    const results = await runChain(['environment', 'ring-setup', 'setup-flags']);
    const r = results.get('setup-flags')!;
    const flags = r.facts.flags as Record<string, Record<string, FactValue>>;
    const noMmap = flags.NO_MMAP!;
    if ((await missingSetupFlag('NO_MMAP')) !== null) {
      // what a kernel without the flag answers: EINVAL alone and with memory, named in the refused list
      assert.equal(noMmap.accepted, false, JSON.stringify(noMmap));
      assert.equal(noMmap.recognised, false);
      assert.deepEqual(noMmap.alone, { accepted: false, errno: 'EINVAL' });
      assert.deepEqual(noMmap.withMemory, { accepted: false, errno: 'EINVAL', nop: null });
      assert.match(r.summary, /refused: .*NO_MMAP:EINVAL/);
      return;
    }
    assert.equal(noMmap.accepted, true, JSON.stringify(noMmap));
    assert.deepEqual(noMmap.alone, { accepted: false, errno: 'EFAULT' }, 'without memory: the kernel knows the flag and faults on the null address');
    assert.equal(noMmap.recognised, true);
    const withMemory = noMmap.withMemory as Record<string, FactValue>;
    assert.equal(withMemory.accepted, true);
    assert.deepEqual(withMemory.nop, { enter: 1, cqe: 0 });
    assert.doesNotMatch(r.summary, /NO_MMAP:/, 'not in the refused list');
  });
});

describe('single-mmap against this kernel', () => {
  it('reads each NOP\'s CQE through the separate CQ mapping and through the single mapping, and says what the ladder means before 5.6', async () => {
    const results = await runChain(['environment', 'ring-setup', 'single-mmap']);
    const r = results.get('single-mmap')!;
    assert.equal(r.status, 'pass', r.summary);
    const nops = r.facts.nops as Array<Record<string, FactValue>>;
    assert.equal(nops.length, 2);
    for (const nop of nops) {
      assert.deepEqual(nop.viaSeparate, { userData: nop.userData, res: 0 });
      assert.deepEqual(nop.viaSingle, { userData: nop.userData, res: 0 });
    }
    assert.deepEqual(nops.map((n) => n.submittedThrough), ['separate', 'single']);
    assert.match(String(r.facts.ladder), /5\.1.5\.5/);
    assert.match(String(r.facts.ladder), /CLAMP/);
  });
});

// ---------------------------------------------------------------------------------------------
// The comparisons themselves, fed with this kernel's real answers (the addon, no fixtures), and
// with declarations or answers where they must find a difference.
// ---------------------------------------------------------------------------------------------

describe('compareParams: the seed\'s declared params vs the bytes the kernel wrote', () => {
  const addon = loadAddon();
  /** the seed's structs with ioCqringOffsets declared as the kernel's (the fix) */
  const fixedSeed: StructSet = {
    ...SEED_STRUCTS,
    ioCqringOffsets: [
      ['Head', 'uint32'], ['Tail', 'uint32'], ['RingMask', 'uint32'], ['RingEntries', 'uint32'], ['Overflow', 'uint32'],
      ['Cqes', 'uint32'], ['Flags', 'uint32'], ['Resv1', 'uint32'], ['UserAddr', 'uint64'],
    ],
  };

  it('the table is the seed\'s declaration: 40 + 32 + 40 = 112 bytes (Resv [2]uint32), the fixed one 120', () => {
    assert.equal(layoutOf(SEED_STRUCTS, 'ioSqringOffsets').size, 40);
    assert.equal(layoutOf(SEED_STRUCTS, 'ioCqringOffsets').size, 32);
    assert.equal(layoutOf(SEED_STRUCTS, SEED_PARAMS).size, 112);
    assert.equal(layoutOf(fixedSeed, SEED_PARAMS).size, 120);
    assert.equal(layoutOf(KERNEL_STRUCTS, KERNEL_PARAMS).size, 120);
    assert.equal(layoutOf(SEED_STRUCTS, 'ioUringSqe').size, 64);
    assert.equal(layoutOf(SEED_STRUCTS, 'ioUringCqe').size, 16);
    assert.equal(snakeName('SqOff.RingMask'), 'sq_off.ring_mask');
    assert.equal(snakeName('SqThreadCPU'), 'sq_thread_cpu');
  });

  it('with the kernel\'s real params: one finding (cq_off.user_addr past the 112 bytes), no problem', async () => {
    const observed = await addon.paramsLayout({ room: 112 });
    assert.equal(observed.res, 0);
    const c = compareParams(observed);
    assert.equal(c.seedSize, 112);
    assert.deepEqual(c.problems, []);
    assert.equal(c.findings.length, 1, c.findings.join('; '));
    assert.match(c.findings[0]!, /is 112 bytes; io_uring_setup reads 120 and writes 120: cq_off\.user_addr \(bytes 112-119, written 0\) lies past/);
    assert.deepEqual(c.fields.filter((f) => f.match === 'beyond').map((f) => f.kernel), ['cq_off.user_addr']);
    assert.deepEqual(
      c.fields.filter((f) => f.match === 'renamed').map((f) => [f.kernel, f.seed]),
      [['sq_off.user_addr', 'SqOff.Resv2'], ['cq_off.flags', 'CqOff.Resv[0]'], ['cq_off.resv1', 'CqOff.Resv[1]']],
    );
    assert.ok(c.seedReads.every((r) => r.ok), 'every field the seed reads is where it expects it');
    const cqes = c.seedReads.find((r) => r.seed === 'CqOff.Cqes')!;
    assert.equal(cqes.seedValue, cqes.kernelValue);
    assert.ok(cqes.kernelValue! > 0 && cqes.kernelValue! % 16 === 0);
  });

  it('a table that says 120 bytes (the fixed ioCqringOffsets) has no finding: the finding above comes from the table, not a constant', async () => {
    const c = compareParams(await addon.paramsLayout({ room: 120 }), fixedSeed);
    assert.equal(c.seedSize, 120);
    assert.deepEqual(c.findings, []);
    assert.deepEqual(c.problems, []);
    assert.ok(c.fields.every((f) => f.match === 'same' || f.match === 'renamed'));
  });

  it('a table with Cqes and Overflow swapped reads the wrong values from the kernel\'s bytes: problems', async () => {
    const swapped: StructSet = {
      ...fixedSeed,
      ioCqringOffsets: [
        ['Head', 'uint32'], ['Tail', 'uint32'], ['RingMask', 'uint32'], ['RingEntries', 'uint32'], ['Cqes', 'uint32'],
        ['Overflow', 'uint32'], ['Flags', 'uint32'], ['Resv1', 'uint32'], ['UserAddr', 'uint64'],
      ],
    };
    const c = compareParams(await addon.paramsLayout({ room: 120 }), swapped);
    assert.equal(c.problems.length, 1, c.problems.join('; '));
    assert.match(c.problems[0]!, /^CqOff\.Cqes: the seed reads \d+ at byte 96, the kernel wrote cq_off\.cqes = \d+ at byte 100$/);
  });

  it('compareEntries: the seed\'s SQE/CQE offsets match the ABI; a misplaced UserData does not', () => {
    const abi = addon.abi();
    assert.deepEqual(compareEntries(abi).problems, []);
    const misplaced: StructSet = {
      ...SEED_STRUCTS,
      ioUringCqe: [['Res', 'int32'], ['Flags', 'uint32'], ['UserData', 'uint64']],
    };
    assert.deepEqual(compareEntries(abi, misplaced).problems, [
      'ioUringCqe.UserData at byte 8 in the seed, 0 (user_data) in the kernel ABI',
      'ioUringCqe.Res at byte 0 in the seed, 8 (res) in the kernel ABI',
      'ioUringCqe.Flags at byte 4 in the seed, 12 (flags) in the kernel ABI',
    ]);
  });
});

describe('judgeMapping: the single-mmap conclusion from the kernel\'s answers', () => {
  const addon = loadAddon();
  it('one ring seen through both mappings: pass', async () => {
    const j = judgeMapping(await addon.mappingCompare({ entries: 8 }));
    assert.equal(j.status, 'pass', j.summary);
    assert.deepEqual(j.differences, []);
  });
  it('the single view on another ring: the CQEs differ, fail ABI_MISMATCH naming the mapping', async () => {
    const j = judgeMapping(await addon.mappingCompare({ entries: 8, singleFromOtherRing: true }));
    assert.equal(j.status, 'fail');
    assert.equal(j.reason, 'ABI_MISMATCH');
    assert.deepEqual(j.differences, [
      'NOP 5eed0001 (submitted through the separate mapping): no CQE through the single CQ mapping',
      'NOP 5eed0002 (submitted through the single mapping): no CQE through the separate CQ mapping',
    ]);
  });
  it('without FEAT_SINGLE_MMAP (this kernel\'s answer with the bit cleared and no single mapping): warn NO_SINGLE_MMAP, not mainline', async () => {
    const real = await addon.mappingCompare({ entries: 8 });
    const j = judgeMapping({
      ...real,
      featSingleMmap: false,
      single: { attempted: false, res: 0, mapping: null },
      nops: real.nops.filter((n) => n.submittedThrough === 'separate').map((n) => ({ ...n, viaSingle: null })),
    });
    assert.equal(j.status, 'warn');
    assert.equal(j.reason, 'NO_SINGLE_MMAP');
    assert.match(j.summary, /not a mainline kernel/);
  });
});

describe('judgeSingleIssuer: the single-issuer conclusion from the kernel\'s answers', () => {
  const addon = loadAddon();
  it('EEXIST for the other thread after the creating thread\'s NOP completed: pass SINGLE_ISSUER_EEXIST', async (t) => {
    if (!(await requireSetupFlag(t, 'SINGLE_ISSUER'))) return;
    const j = judgeSingleIssuer(await addon.singleIssuerCrossThread());
    assert.equal(j.status, 'pass');
    assert.equal(j.reason, 'SINGLE_ISSUER_EEXIST');
  });
  it('not refused (SQPOLL: the SQ thread is the single issuer, so another thread\'s NOP completes): warn SINGLE_ISSUER_UNENFORCED, not a pass', async (t) => {
    if (!(await requireSetupFlag(t, 'SINGLE_ISSUER', 'SQPOLL'))) return;
    const r = await addon.singleIssuerCrossThread({ extraFlags: abi().setupFlags['SQPOLL']! });
    assert.deepEqual(r.otherThread, { enterRes: 1, cqeRes: 0 });
    const j = judgeSingleIssuer(r);
    assert.equal(j.status, 'warn');
    assert.equal(j.reason, 'SINGLE_ISSUER_UNENFORCED');
  });
  it('an unknown flag next to SINGLE_ISSUER: EINVAL at setup, skip NOT_SUPPORTED', async () => {
    const j = judgeSingleIssuer(await addon.singleIssuerCrossThread({ extraFlags: 2 ** 31 }));
    assert.equal(j.status, 'skip');
    assert.equal(j.reason, 'NOT_SUPPORTED');
  });
  function abi(): AbiInfo {
    return addon.abi();
  }
});

describe('noMmapEntry: NO_MMAP counts as accepted only with memory and a NOP through it', () => {
  const addon = loadAddon();
  it('this kernel: EFAULT alone (recognised), accepted with memory; before 6.5 EINVAL both ways, neither', async () => {
    const bit = addon.abi().setupFlags['NO_MMAP']!;
    const alone = await addon.trySetupFlags({ flags: bit });
    const withMemory = await addon.trySetupFlags({ flags: bit, userMemory: true });
    const j = noMmapEntry(alone, withMemory);
    const hasIt = (await missingSetupFlag('NO_MMAP')) === null;
    assert.equal(j.accepted, hasIt);
    assert.equal(j.entry.recognised, hasIt);
  });
  it('a flag the kernel does not know (bit 31 in place of NO_MMAP): EINVAL both ways, not accepted, not recognised', async () => {
    const alone = await addon.trySetupFlags({ flags: 2 ** 31 });
    const withMemory = await addon.trySetupFlags({ flags: 2 ** 31, userMemory: true });
    const j = noMmapEntry(alone, withMemory);
    assert.equal(j.accepted, false);
    assert.equal(j.entry.recognised, false);
    assert.deepEqual(j.entry.withMemory, { accepted: false, errno: 'EINVAL', nop: null });
  });
});

describe('judgeSingleIssuer with the kernel\'s refusals (a ring created R_DISABLED: io_uring_enter → EBADFD)', () => {
  const addon = loadAddon();
  it('the creating thread\'s own NOP refused: fail PROBE_ERROR, whatever the other thread got', async (t) => {
    if (!(await requireSetupFlag(t, 'SINGLE_ISSUER', 'R_DISABLED'))) return;
    const disabled = await addon.singleIssuerCrossThread({ extraFlags: addon.abi().setupFlags['R_DISABLED']! });
    assert.equal(disabled.sameThread.enterRes, -77);
    const j = judgeSingleIssuer(disabled);
    assert.equal(j.status, 'fail');
    assert.equal(j.reason, 'PROBE_ERROR');
    assert.equal(j.errno, errnoName(-77), 'EBADFD (node\'s errno table has no name for 77)');
  });
  it('the other thread refused with something else than EEXIST (EBADFD, from that real answer): fail PROBE_ERROR, not a pass', async (t) => {
    if (!(await requireSetupFlag(t, 'SINGLE_ISSUER', 'R_DISABLED'))) return;
    const normal = await addon.singleIssuerCrossThread();
    const disabled = await addon.singleIssuerCrossThread({ extraFlags: addon.abi().setupFlags['R_DISABLED']! });
    const j = judgeSingleIssuer({ ...normal, otherThread: disabled.otherThread });
    assert.equal(j.status, 'fail');
    assert.equal(j.reason, 'PROBE_ERROR');
    assert.equal(j.errno, errnoName(-77));
    assert.match(j.summary, /neither got EEXIST nor completed/);
  });
});

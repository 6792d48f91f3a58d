// Tests of the native addon's functions against this machine's real kernel (no mocks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errnoName } from '../src/errno.js';
import { OPCODE_SINCE, OPCODES } from '../src/kernel-abi.js';
import { addonCandidates, loadAddon, type AbiInfo, type LoopbackOptions } from '../src/native.js';
import {
  isRoot,
  kernelAtLeast,
  kernelRelease,
  missingFeature,
  missingRegisterIowqMaxWorkers,
  missingSetupFlag,
  notRoot,
  requireFeature,
  requireMultishotRecvmsg,
  requireSetupFlag,
  skipReason,
} from './helpers/require.js';

const addon = loadAddon();
const abi: AbiInfo = addon.abi();

const EINVAL = -22;
const EEXIST = -17;
const EPERM = -1;
const ETIME = -62;
const CLAMP = abi.setupFlags['CLAMP']!;
const COOP_TASKRUN = abi.setupFlags['COOP_TASKRUN']!;

/** The seed's first flag set where this kernel takes COOP_TASKRUN (5.19), else CLAMP alone. */
const SEED_FLAGS = (await missingSetupFlag('COOP_TASKRUN')) === null ? CLAMP | COOP_TASKRUN : CLAMP;

/** names of the bits of `value` that `table` knows */
function decode(table: Record<string, number>, value: number): string[] {
  return Object.entries(table)
    .filter(([, bit]) => bit !== 0 && (value & bit) >>> 0 === bit)
    .map(([name]) => name);
}

test('abi: struct sizes and constants come from our own header and match the kernel ABI', () => {
  assert.equal(abi.sqeSize, 64);
  assert.equal(abi.cqeSize, 16);
  assert.equal(abi.paramsSize, 120);
  assert.equal(abi.sqOffsetsSize, 40);
  assert.equal(abi.cqOffsetsSize, 40);
  assert.equal(abi.sqeOffsets['user_data'], 32);
  assert.equal(abi.sqeOffsets['msg_flags'], 28);
  assert.equal(abi.cqeOffsets['res'], 8);
  assert.equal(abi.opcodes['SENDMSG'], 9);
  assert.equal(abi.opcodes['RECVMSG'], 10);
  assert.equal(abi.opcodes['SEND_ZC'], 47);
  assert.equal(abi.opcodes['RECV_ZC'], 58);
  assert.equal(abi.registerOps['PROBE'], 8);
  assert.equal(abi.registerOps['IOWQ_MAX_WORKERS'], 19);
  assert.equal(abi.registerOps['PBUF_RING'], 22);
  assert.equal(CLAMP, 1 << 4);
  assert.equal(COOP_TASKRUN, 1 << 8);
  assert.equal(abi.setupFlags['CQE_MIXED'], 1 << 18);
  assert.equal(abi.features['SINGLE_MMAP'], 1);
  assert.equal(abi.features['NO_IOWAIT'], 1 << 17);
  assert.ok(abi.pageSize >= 4096);
});

test('send ring ladder: CLAMP|COOP_TASKRUN with 256 entries is accepted on the first attempt (CLAMP on the second where the kernel refuses COOP_TASKRUN)', async () => {
  const r = await addon.ringLadder({ kind: 'send' });
  assert.equal(r.res, 0);
  // what this kernel answers: COOP_TASKRUN is 5.19; before it the seed's ladder drops to CLAMP on EINVAL
  const refused = SEED_FLAGS === CLAMP ? [['setup', 256, CLAMP | COOP_TASKRUN, EINVAL]] : [];
  assert.deepEqual(
    r.attempts.map((a) => (a.res < 0 ? [a.stage, a.entries, a.flags, a.res] : [a.stage, a.entries, a.flags])),
    [
      ...refused,
      ['setup', 256, SEED_FLAGS],
      ['mmap', 256, SEED_FLAGS],
    ],
  );
  const [setup, mmap] = r.attempts.slice(refused.length);
  assert.ok(setup!.res >= 0, 'setup returned an fd');
  assert.equal(mmap!.res, 0);
  assert.ok(r.params);
  assert.equal(r.params.sqEntries, 256);
  assert.equal(r.params.cqEntries, 512);
  assert.equal(r.params.flags, SEED_FLAGS);
  const features = decode(abi.features, r.params.features);
  for (const f of ['SINGLE_MMAP', 'NODROP', 'EXT_ARG', 'FAST_POLL']) {
    // the ring reports a feature exactly when the kernel reports it for any ring
    assert.equal(features.includes(f), (await missingFeature(f)) === null, f);
  }
  assert.ok(r.mapping);
  assert.equal(r.mapping.strategy, 'separate');
  assert.equal(r.mapping.sqRingEntries, 256);
  assert.equal(r.mapping.sqRingMask, 255);
  assert.equal(r.mapping.cqRingEntries, 512);
  assert.equal(r.mapping.cqesAddrMod8, 0);
  assert.equal(r.mapping.sqesSize % abi.pageSize, 0);
  assert.ok(r.maxWorkers);
  assert.deepEqual(r.maxWorkers.requested, [4, 4]);
  if ((await missingRegisterIowqMaxWorkers()) === null) {
    assert.equal(r.maxWorkers.res, 0);
    assert.ok(r.maxWorkers.previous, 'the kernel wrote back the previous limits');
  } else {
    assert.equal(errnoName(r.maxWorkers.res), 'EINVAL', 'a kernel without IOWQ_MAX_WORKERS (5.15) refuses it with EINVAL');
    assert.equal(r.maxWorkers.previous, null);
  }
  assert.equal(r.recvPool, null);
});

test('recv ring ladder: entries follow the pool, one mapping with SINGLE_MMAP, every buffer queued', async () => {
  const r = await addon.ringLadder({ kind: 'recv' });
  assert.equal(r.res, 0);
  assert.equal(r.attempts[0]!.entries, 64);
  assert.ok(r.mapping);
  const singleMmap = (await missingFeature('SINGLE_MMAP')) === null;
  assert.equal(r.mapping.strategy, singleMmap ? 'single' : 'separate', 'one mapping exactly when the kernel has FEAT_SINGLE_MMAP (5.4)');
  if (singleMmap) assert.equal(r.mapping.sqRingSize, r.mapping.cqRingSize);
  // the kernel's count (io_uring_enter's result and its SQ head), not the SQEs we wrote
  assert.deepEqual(r.recvPool, {
    poolSize: 64,
    written: 64,
    entered: true,
    submitted: 64,
    sqHeadBefore: 0,
    sqHeadAfter: 64,
    queued: 64,
    submitRes: 0,
  });

  const capped = await addon.ringLadder({ kind: 'recv', poolSize: 5000 });
  assert.equal(capped.res, 0);
  assert.equal(capped.recvPool?.poolSize, 2048, 'pool capped at 2048 as in the seed');
  assert.equal(capped.attempts[0]!.entries, 2048);
});

test('ladder: an unknown flag set alone gives one -EINVAL attempt and then gives up', async () => {
  const r = await addon.ringLadder({ kind: 'send', flagSets: [2 ** 31] });
  assert.equal(r.res, EINVAL);
  assert.deepEqual(r.attempts, [{ stage: 'setup', entries: 256, flags: 2 ** 31, res: EINVAL }]);
  assert.equal(r.params, null);
  assert.equal(r.mapping, null);
  assert.equal(r.maxWorkers, null);
});

test('ladder: EINVAL falls back to the next flag set and records both attempts', async () => {
  const r = await addon.ringLadder({ kind: 'send', flagSets: [2 ** 31, CLAMP], registerMaxWorkers: false });
  assert.equal(r.res, 0);
  assert.deepEqual(
    r.attempts.map((a) => [a.stage, a.flags, a.res < 0 ? a.res : 'ok']),
    [
      ['setup', 2 ** 31, EINVAL],
      ['setup', CLAMP, 'ok'],
      ['mmap', CLAMP, 'ok'],
    ],
  );
  assert.equal(r.params?.flags, CLAMP);
  assert.equal(r.maxWorkers, null, 'not registered when asked not to');
});

test('mappingCompare: each NOP\'s CQE reads the same through the separate CQ mapping and the single mapping', async (t) => {
  if (!(await requireFeature(t, 'SINGLE_MMAP'))) return;
  const r = await addon.mappingCompare({ entries: 8 });
  assert.equal(r.res, 0);
  assert.equal(r.featSingleMmap, true);
  assert.equal(r.separate.res, 0);
  assert.equal(r.single.res, 0);
  assert.equal(r.separate.mapping?.strategy, 'separate');
  assert.equal(r.single.mapping?.strategy, 'single');
  assert.equal(r.separate.mapping?.sqRingEntries, r.single.mapping?.sqRingEntries);
  assert.deepEqual(
    r.nops.map((n) => [n.submittedThrough, n.enterRes]),
    [['separate', 1], ['single', 1]],
  );
  for (const n of r.nops) {
    assert.deepEqual(n.viaSeparate, { userData: n.userData, res: 0, flags: 0 }, `${n.submittedThrough}: through the separate CQ mapping`);
    assert.deepEqual(n.viaSingle, { userData: n.userData, res: 0, flags: 0 }, `${n.submittedThrough}: through the single mapping`);
  }
  assert.notEqual(r.nops[0]!.userData, r.nops[1]!.userData);
  assert.equal(r.agree, true);
});

test('mappingCompare with the single view on another ring: the kernel\'s CQEs disagree, and agree is false', async (t) => {
  if (!(await requireFeature(t, 'SINGLE_MMAP'))) return;
  const r = await addon.mappingCompare({ entries: 8, singleFromOtherRing: true });
  assert.equal(r.res, 0);
  assert.equal(r.nops[0]!.viaSingle, null, 'the NOP of ring A is not in ring B\'s CQ');
  assert.deepEqual(r.nops[0]!.viaSeparate, { userData: r.nops[0]!.userData, res: 0, flags: 0 });
  assert.equal(r.nops[1]!.viaSeparate, null);
  assert.equal(r.agree, false);
});

test('paramsLayout: io_uring_setup reads and writes 120 bytes of params, measured at an inaccessible page', async () => {
  const r = await addon.paramsLayout({ room: 112 });
  assert.equal(r.res, 0);
  assert.equal(r.copyIn, 120, 'the smallest room before an unmapped page that setup accepts');
  assert.equal(r.probeRoomRes, -14, 'with 112 bytes of room: EFAULT');
  assert.equal(r.copyOut, 120, 'the last byte the kernel wrote (canary past it untouched)');
  assert.ok(r.window);
  assert.deepEqual(r.window.slice(112, 120), [0, 0, 0, 0, 0, 0, 0, 0], 'cq_off.user_addr written as 0');
  assert.deepEqual(r.window.slice(120, 128), Array(8).fill(0xa5), 'past 120 bytes the canary is untouched');
  const u32 = (o: number): number => r.window![o]! | (r.window![o + 1]! << 8) | (r.window![o + 2]! << 16) | (r.window![o + 3]! << 24);
  assert.equal(u32(0), 8, 'sq_entries');
  assert.equal(u32(4), 16, 'cq_entries');
  assert.equal(u32(8), CLAMP, 'flags');
  assert.equal(u32(100) % 16, 0, 'cq_off.cqes');
  const full = await addon.paramsLayout({ room: 120 });
  assert.equal(full.probeRoomRes, 0, 'with 120 bytes of room setup works');
});

test('probeOpcodes: SENDMSG and RECVMSG are supported, the list ends at lastOp', async () => {
  const r = await addon.probeOpcodes();
  assert.equal(r.res, 0);
  const supported = new Set(r.ops.filter((o) => o.supported).map((o) => o.op));
  assert.ok(supported.has(abi.opcodes['SENDMSG']!));
  assert.ok(supported.has(abi.opcodes['RECVMSG']!));
  assert.ok(supported.has(abi.opcodes['NOP']!));
  assert.ok(r.ops.every((o) => o.op <= r.lastOp));
  assert.deepEqual(r.ops.map((o) => o.op), [...Array(r.lastOp + 1).keys()], 'one entry per op up to lastOp, in order');
});

test('probeOpcodes agrees with the release: every op the field notes date at or before this kernel is known and supported', async () => {
  const r = await addon.probeOpcodes();
  assert.equal(r.res, 0);
  const supported = new Set(r.ops.filter((o) => o.supported).map((o) => o.op));
  const dated = Object.entries(OPCODE_SINCE);
  assert.ok(dated.length >= 10 && dated.some(([name]) => name === 'RECV_ZC'), 'the field notes date the ops the tool names');
  const due = dated.filter(([, since]) => kernelAtLeast(since));
  assert.ok(due.length > 0, `kernel ${kernelRelease()} is older than every dated op`);
  for (const [name, since] of due) {
    const op = OPCODES.indexOf(name);
    assert.ok(op >= 0, name);
    assert.ok(op <= r.lastOp, `kernel ${kernelRelease()} (${since}+ brought ${name}) lists ops only up to ${r.lastOp} (${OPCODES[r.lastOp] ?? '?'}), not ${name} (${op})`);
    assert.ok(supported.has(op), `kernel ${kernelRelease()} knows ${name} (${since}+) but reports it unsupported`);
  }
  // the newest op this kernel's release is due to have bounds lastOp from below (6.18: RECV_ZC, 6.1: SENDMSG_ZC)
  const newest = Math.max(...due.map(([name]) => OPCODES.indexOf(name)));
  assert.ok(r.lastOp >= newest, `lastOp ${r.lastOp} >= ${OPCODES[newest]} (${newest})`);
});

test('multishotRecvmsg: one multishot RECVMSG with a provided buffer ring receives every datagram', async (t) => {
  if (!(await requireMultishotRecvmsg(t))) return;
  const r = await addon.multishotRecvmsg({ timeoutMs: 2000 });
  const { terminated, finalRes, cancel, ...rest } = r as typeof r & { terminated?: boolean; finalRes?: number; cancel?: Record<string, unknown> };
  assert.deepEqual(rest, {
    res: 0,
    stage: 'done',
    packetsSent: 3,
    completions: 3,
    moreFlag: true,
    bufferFlag: true,
    payloadOk: true,
  });
  // issue 12 point 5: the request was cancelled and its final CQE awaited before its buffers went
  assert.equal(terminated, true, 'the multishot request\'s final CQE (no IORING_CQE_F_MORE) was reaped');
  assert.equal(finalRes, -125, 'it ended with -ECANCELED');
  assert.equal(cancel?.['awaited'], 1);
  assert.equal(cancel?.['leaked'], false);
});

test('trySetupFlags NO_MMAP: EFAULT with null ring addresses, accepted with memory of ours and a NOP through it (EINVAL both ways before 6.5)', async () => {
  const noMmap = abi.setupFlags['NO_MMAP']!;
  // an unknown flag next to it is EINVAL, memory or not
  assert.equal((await addon.trySetupFlags({ flags: noMmap + 2 ** 31, userMemory: true })).res, EINVAL);
  const alone = await addon.trySetupFlags({ flags: noMmap });
  assert.equal(alone.nop, null);
  const withMemory = await addon.trySetupFlags({ flags: noMmap, userMemory: true });
  assert.equal(withMemory.userMemory, true);
  if ((await missingSetupFlag('NO_MMAP')) === null) {
    assert.equal(alone.res, -14, 'the kernel knows the flag and faults on the null address');
    assert.equal(withMemory.res, 0);
    assert.deepEqual(withMemory.nop, { enterRes: 1, cqeRes: 0 });
  } else {
    // a kernel without NO_MMAP (6.5) does not know the flag: EINVAL, and nothing submitted
    assert.equal(alone.res, EINVAL);
    assert.equal(withMemory.res, EINVAL);
    assert.equal(withMemory.nop, null);
  }
});

test('trySetupFlags: what the kernel accepts alone (CLAMP, CQSIZE) or refuses (an unknown flag)', async () => {
  const clamp = await addon.trySetupFlags({ flags: CLAMP });
  assert.equal(clamp.res, 0);
  assert.equal(clamp.sqEntries, 8);

  const unknown = await addon.trySetupFlags({ flags: 2 ** 31 });
  assert.equal(unknown.res, EINVAL);
  assert.equal(unknown.features, 0);

  const cqsize = await addon.trySetupFlags({ flags: abi.setupFlags['CQSIZE']!, entries: 8 });
  assert.equal(cqsize.res, 0);
  assert.equal(cqsize.cqEntries, 16, 'CQSIZE defaults to 2 * entries');
  const cq64 = await addon.trySetupFlags({ flags: abi.setupFlags['CQSIZE']!, entries: 8, cqEntries: 64 });
  assert.equal(cq64.cqEntries, 64);
});

test('trySetupFlags DEFER_TASKRUN: refused alone, accepted with SINGLE_ISSUER', async (t) => {
  const defer = abi.setupFlags['DEFER_TASKRUN']!;
  const single = abi.setupFlags['SINGLE_ISSUER']!;
  // alone it is EINVAL on every kernel: it needs SINGLE_ISSUER, and before 6.1 it is unknown
  assert.equal((await addon.trySetupFlags({ flags: defer })).res, EINVAL, 'DEFER_TASKRUN needs SINGLE_ISSUER');
  if (!(await requireSetupFlag(t, 'DEFER_TASKRUN'))) return;
  assert.equal((await addon.trySetupFlags({ flags: defer | single })).res, 0);
});

test('trySetupFlags SQPOLL: root may create SQPOLL rings, and anyone from 5.13', async (t) => {
  const sqpoll = await addon.trySetupFlags({ flags: abi.setupFlags['SQPOLL']! });
  if (isRoot || kernelAtLeast('5.13')) {
    assert.equal(sqpoll.res, 0, isRoot ? 'root may create SQPOLL rings' : 'unprivileged SQPOLL since 5.13');
    return;
  }
  // before 5.13 an unprivileged user is refused (CAP_SYS_NICE from 5.11, root before)
  assert.equal(sqpoll.res, EPERM);
  t.skip((await missingSetupFlag('SQPOLL')) ?? 'SQPOLL refused');
});

test('singleIssuerCrossThread: the creating thread may submit, another thread gets -EEXIST', async (t) => {
  if (!(await requireSetupFlag(t, 'SINGLE_ISSUER'))) return;
  const r = await addon.singleIssuerCrossThread();
  assert.equal(r.flags, abi.setupFlags['SINGLE_ISSUER']! | CLAMP);
  assert.equal(r.setupRes, 0);
  assert.deepEqual(r.sameThread, { enterRes: 1, cqeRes: 0 });
  assert.deepEqual(r.otherThread, { enterRes: EEXIST, cqeRes: null });
});

test('singleIssuerCrossThread with SQPOLL: the SQ thread is the one issuer, so another thread\'s submit is not refused', async (t) => {
  if (!(await requireSetupFlag(t, 'SINGLE_ISSUER', 'SQPOLL'))) return;
  const r = await addon.singleIssuerCrossThread({ extraFlags: abi.setupFlags['SQPOLL']! });
  assert.equal(r.setupRes, 0);
  assert.deepEqual(r.sameThread, { enterRes: 1, cqeRes: 0 });
  assert.deepEqual(r.otherThread, { enterRes: 1, cqeRes: 0 });
});

for (const family of [4, 6] as const) {
  test(`loopback IPv${family}: every datagram arrives with every byte, length and source intact`, async () => {
    const max = family === 4 ? 65507 : 65527;
    const r = await addon.loopback({ family, sizes: [8, 64, 1400, 9000, max], batch: 64, timeoutMs: 2000 });
    assert.deepEqual(r.mismatches, []);
    assert.equal(r.res, 0);
    assert.equal(r.stage, 'done');
    assert.equal(r.expected, 69);
    assert.equal(r.received, 69);
    assert.equal(r.bytesOk, true);
    assert.equal(r.lengthsOk, true);
    assert.equal(r.sourceOk, true);
    assert.deepEqual(r.sendmsg, { calls: 5, bytes: 8 + 64 + 1400 + 9000 + max, errors: 0, firstErrno: 0 });
    assert.equal(r.batch.calls, 1);
    assert.equal(r.batch.entries, 64);
    assert.equal(r.batch.errors, 0);
    assert.equal(r.sendRing?.entries, 256);
    assert.equal(r.sendRing?.flags, SEED_FLAGS, 'the seed\'s first flag set this kernel takes');
    assert.equal(r.recvRing?.queued, 64);
    // the seed's synchronous Recvmsg on the send ring took the datagram sent back to the sender
    assert.deepEqual(r.recvmsg, { calls: 1, bytes: 1400, errors: 0, firstErrno: 0, ok: true });
  });
}

test('loopback: a batch larger than the send ring still goes through (ring-full wait)', async () => {
  const r = await addon.loopback({ family: 4, sizes: [], batch: 600, timeoutMs: 2000 });
  assert.equal(r.batch.errors, 0);
  assert.equal(r.batch.bytes, 600 * 64);
  assert.equal(r.received, 600);
  assert.equal(r.res, 0);
});

test('loopback: datagrams the socket drops end in a bounded wait (-ETIME), not a hang', async () => {
  // 1000 datagrams of 64 KiB are far more than the receive buffer holds: the kernel drops some.
  const r = await addon.loopback({ family: 4, sizes: [65507], batch: 1000, timeoutMs: 200 });
  assert.equal(r.batch.errors, 0, 'every send was accepted by the kernel');
  assert.ok(r.received < r.expected, `received ${r.received} of ${r.expected}`);
  assert.equal(r.res, ETIME);
  assert.equal(r.stage, 'receive');
  assert.ok(r.mismatches.some((m) => m.includes('datagrams arrived')));
  assert.equal(r.bytesOk, true, 'what did arrive is intact');
});

// The poll() wait is what kernels without FEAT_EXT_ARG (< 5.11) get; `forcePollWait` takes that
// path on this kernel too.
type PollLoopback = LoopbackOptions & { forcePollWait: true };

test('loopback with poll() waits (the pre-EXT_ARG path): every datagram arrives intact', async () => {
  const opts: PollLoopback = { family: 4, sizes: [64, 1400], batch: 300, timeoutMs: 2000, forcePollWait: true };
  const r = await addon.loopback(opts);
  assert.deepEqual(r.mismatches, []);
  assert.equal(r.res, 0);
  assert.equal(r.received, 302);
  assert.equal(r.bytesOk && r.lengthsOk && r.sourceOk, true);
  assert.equal(r.recvmsg.ok, true, 'Recvmsg completes through the poll() wait too');
});

test('loopback with poll() waits: dropped datagrams still end in -ETIME within the bound', async () => {
  const opts: PollLoopback = { family: 6, sizes: [], batch: 1000, timeoutMs: 200, forcePollWait: true };
  const r = await addon.loopback({ ...opts, sizes: [65527] });
  assert.ok(r.received < r.expected);
  assert.equal(r.res, ETIME);
  assert.equal(r.stage, 'receive');
});

test('bad arguments reject with a TypeError naming the option', async () => {
  await assert.rejects(addon.loopback({ family: 5 as 4, sizes: [64], batch: 1 }), {
    name: 'TypeError',
    message: /family/,
  });
  await assert.rejects(addon.loopback({ family: 4, sizes: [4], batch: 1 }), { name: 'TypeError', message: /sizes\[0\]/ });
  await assert.rejects(addon.ringLadder({ kind: 'both' as 'send' }), { name: 'TypeError', message: /kind/ });
  await assert.rejects(addon.ringLadder({ kind: 'send', flagSets: [] }), { name: 'TypeError', message: /flagSets/ });
  await assert.rejects(addon.trySetupFlags({} as { flags: number }), { name: 'TypeError', message: /flags/ });
  await assert.rejects(addon.multishotRecvmsg({ timeoutMs: -1 }), { name: 'TypeError', message: /timeoutMs/ });
});

test('an option getter that throws rejects with its own error (the addon does not read on or crash)', async () => {
  const throwing = <T extends object>(base: T, key: string): T =>
    Object.defineProperty({ ...base }, key, {
      enumerable: true,
      get() {
        throw new RangeError(`getter ${key}`);
      },
    });
  await assert.rejects(addon.ringLadder(throwing({ kind: 'send' as const }, 'entries')), { name: 'RangeError', message: 'getter entries' });
  await assert.rejects(addon.ringLadder(throwing({ kind: 'recv' as const }, 'poolSize')), { name: 'RangeError', message: 'getter poolSize' });
  await assert.rejects(addon.mappingCompare(throwing({ entries: 8 }, 'entries')), { name: 'RangeError', message: 'getter entries' });
  await assert.rejects(addon.trySetupFlags(throwing({ flags: 0 }, 'cqEntries')), { name: 'RangeError', message: 'getter cqEntries' });
  await assert.rejects(addon.loopback(throwing({ family: 4 as const, sizes: [64], batch: 1 }, 'forcePollWait')), {
    name: 'RangeError',
    message: 'getter forcePollWait',
  });
  // the addon still works afterwards
  assert.equal((await addon.ringLadder({ kind: 'send' })).res, 0);
});

test('a refused thread (pids cgroup limit) is an EAGAIN result, not an aborted process', (t) => {
  // A child warms the libuv pool, moves itself into a pids cgroup capped at its current thread
  // count, then asks the addon for work that starts native threads.
  const pidsRoot = '/sys/fs/cgroup/pids';
  const skip = skipReason(
    notRoot('moves a process into a pids cgroup'),
    !existsSync(join(pidsRoot, 'cgroup.procs')) && `no cgroup v1 pids hierarchy at ${pidsRoot} on this host`,
  );
  if (skip) {
    t.skip(skip);
    return;
  }
  const addonPath = addonCandidates()[0]!;
  const script = `
    const fs = require('node:fs');
    const addon = require(${JSON.stringify(addonPath)});
    (async () => {
      await addon.probeOpcodes();
      const threads = Number(/Threads:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      const dir = ${JSON.stringify(pidsRoot)} + '/uring-probe-test-' + process.pid;
      fs.mkdirSync(dir);
      fs.writeFileSync(dir + '/pids.max', String(threads));
      fs.writeFileSync(dir + '/cgroup.procs', String(process.pid));
      const out = {};
      try { await addon.singleIssuerCrossThread(); out.single = 'resolved'; }
      catch (e) { out.single = { code: e.code, errno: e.errno, syscall: e.syscall }; }
      const run = await addon.bench.run({ mode: 'syscall', durationMs: 50 });
      out.run = { res: run.res, stage: run.stage };
      const ping = await addon.bench.pingPong({ mode: 'seed', durationMs: 50 });
      out.ping = { res: ping.res, stage: ping.stage };
      fs.writeFileSync(${JSON.stringify(pidsRoot)} + '/cgroup.procs', String(process.pid));
      fs.rmdirSync(dir);
      console.log(JSON.stringify(out));
    })();`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(child.signal, null, `the child died of ${String(child.signal)}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout.trim()), {
    single: { code: 'EAGAIN', errno: -11, syscall: 'pthread_create' },
    run: { res: -11, stage: 'thread' },
    ping: { res: -11, stage: 'thread' },
  });
});

test('an internal failure rejects with a Node-style error (code, errno, syscall)', async () => {
  // A child whose descriptor table is full: the receive-ring ladder cannot create its UDP socket.
  const addonPath = addonCandidates()[0]!;
  const script = `
    const fs = require('node:fs');
    const addon = require(${JSON.stringify(addonPath)});
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    addon.ringLadder({ kind: 'recv' }).then(
      (r) => { console.log(JSON.stringify({ resolved: r.res })); },
      (e) => { console.log(JSON.stringify({ name: e.name, message: e.message, code: e.code, errno: e.errno, syscall: e.syscall })); },
    );`;
  const child = spawnSync('sh', ['-c', 'ulimit -n 128 && exec "$0" -e "$1"', process.execPath, script], {
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim()) as Record<string, unknown>;
  assert.deepEqual(out, {
    name: 'Error',
    message: 'socket: Too many open files',
    code: 'EMFILE',
    errno: -24,
    syscall: 'socket',
  });
});

test('one source of io_uring names: the C++ constants agree with src/kernel-abi.ts', async () => {
  // every setup flag, feature bit and opcode the addon defines has the same value in the TS table
  const { SETUP_FLAGS, FEATURES, OPCODES, bitOf } = await import('../src/kernel-abi.js');
  const abi = loadAddon().abi();
  for (const [name, bit] of Object.entries(abi.setupFlags)) assert.equal(bitOf(SETUP_FLAGS, name), bit, `IORING_SETUP_${name}`);
  for (const [name, bit] of Object.entries(abi.features)) assert.equal(bitOf(FEATURES, name), bit, `IORING_FEAT_${name}`);
  for (const [name, op] of Object.entries(abi.opcodes)) assert.equal(OPCODES.indexOf(name), op, `IORING_OP_${name}`);
  assert.ok(Object.keys(abi.setupFlags).length >= 10 && Object.keys(abi.opcodes).length >= 40, 'the addon exports its tables');
});

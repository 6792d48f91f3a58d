// Probe `ring-setup`: the seed's setup ladder for both rings (send ring, receive-pool ring), every attempt recorded.
import { FEATURES, namesOfBits, SETUP_FLAGS, bitOf } from '../kernel-abi.js';
import { errnoName, errnoOfResult } from '../errno.js';
import { loadAddon, type AbiInfo, type NativeAttempt, type RingLadderResult } from '../native.js';
import type { FactValue, Facts, ProbeResult, ReasonCode, SetupAttempt } from '../types.js';
import { refusalContextFrom } from './environment.js';
import { setupRefusalReason } from './reasons.js';
import { remediationInContext } from './remediation.js';
import { hex, probeResult, resultName } from './result.js';
import type { ProbeSpec } from './spec.js';

/** The seed's minEntries: the ladder never halves below it. */
export const MIN_ENTRIES = 8;
/** The seed's defaults: send ring 256 entries; receive ring sized to its pool of 64. */
export const SEND_ENTRIES = 256;
export const RECV_POOL_SIZE = 64;

/** What the seed does after an attempt, read off the attempt that followed it. */
function nextStep(attempt: NativeAttempt, following: NativeAttempt | undefined): SetupAttempt['next'] {
  // An accepted io_uring_setup is followed by mapping its rings; the mmap attempt decides.
  if (attempt.res >= 0) return following?.stage === 'mmap' ? 'map' : 'accept';
  if (!following) return 'give-up';
  if (following.entries < attempt.entries) return 'halve';
  if (following.flags !== attempt.flags) return 'drop-flags';
  return 'give-up';
}

export function ladderAttempts(ring: 'send' | 'recv', native: NativeAttempt[], abi: AbiInfo): SetupAttempt[] {
  return native.map((a, i) => ({
    ring,
    stage: a.stage,
    entries: a.entries,
    flags: namesOfBits(a.flags, SETUP_FLAGS),
    flagsRaw: a.flags,
    ok: a.res >= 0,
    errno: errnoOfResult(a.res),
    next: nextStep(a, native[i + 1]),
  }));
}

/** One of the seed's two rings, as its setup ladder left it. */
export type RingFacts = {
  requestedEntries: number;
  /** 'ok' or the errno that ended the ladder */
  result: string;
  finalEntries: number | null;
  sqEntries: number | null;
  cqEntries: number | null;
  /** setup flags of the accepted attempt, by name */
  flags: string[] | null;
  flagsRaw: string | null;
  /** IORING_FEAT_* bits the kernel reported, by name */
  features: string[] | null;
  featuresRaw: string | null;
  offsets: FactValue;
  mapping: FactValue;
  /** the seed's IORING_REGISTER_IOWQ_MAX_WORKERS {4,4} after setup */
  maxWorkers: { result: string; requested: number[]; previous: number[] | null } | null;
  /** receive ring only: the pool of queued RECVMSG, as the kernel took it */
  pool?: { poolSize: number; written: number; submitted: number | string; sqHeadMoved: number; queued: number } | null;
};

/** Facts of the `ring-setup` probe. */
export type RingSetupFacts = {
  send: RingFacts;
  recv: RingFacts;
  /** the fallbacks the seed had to take, by reason code */
  fallbacks?: string[];
};

function ringFacts(kind: 'send' | 'recv', requested: number, r: RingLadderResult, abi: AbiInfo): RingFacts {
  const p = r.params;
  const facts: RingFacts = {
    requestedEntries: requested,
    result: resultName(r.res),
    finalEntries: p ? p.sqEntries : null,
    sqEntries: p ? p.sqEntries : null,
    cqEntries: p ? p.cqEntries : null,
    flags: p ? namesOfBits(p.flags, SETUP_FLAGS) : null,
    flagsRaw: p ? hex(p.flags) : null,
    features: p ? namesOfBits(p.features, FEATURES) : null,
    featuresRaw: p ? hex(p.features) : null,
    offsets: p ? (p.offsets as unknown as FactValue) : null,
    mapping: r.mapping ? (r.mapping as unknown as FactValue) : null,
    maxWorkers: r.maxWorkers
      ? {
          result: resultName(r.maxWorkers.res),
          requested: r.maxWorkers.requested,
          previous: r.maxWorkers.previous,
        }
      : null,
  };
  if (kind === 'recv') {
    const pool = r.recvPool;
    facts.pool = pool
      ? {
          poolSize: pool.poolSize,
          // RECVMSG SQEs written into the SQ ring (our tail)
          written: pool.written,
          // io_uring_enter's answer: how many of them the kernel took, or its errno
          submitted: pool.submitted < 0 ? errnoName(pool.submitted) : pool.submitted,
          // the kernel's SQ head across that call
          sqHeadMoved: (pool.sqHeadAfter - pool.sqHeadBefore) >>> 0,
          queued: pool.queued,
        }
      : null;
  }
  return facts;
}

/** The errnos of io_uring_enter that say "refused to this process", attributed like io_uring_setup's. */
const ENTER_REFUSALS = new Set(['EPERM', 'ENOSYS', 'EACCES', 'EOPNOTSUPP']);

/** "the kernel took 32 of 64 pooled RECVMSG (io_uring_enter returned 32, SQ head moved 32)". */
export function poolTakenText(pool: NonNullable<RingLadderResult['recvPool']>): string {
  const moved = (pool.sqHeadAfter - pool.sqHeadBefore) >>> 0;
  const written = pool.written !== pool.queued ? `; ${pool.written} written` : '';
  return `the kernel took ${pool.queued} of ${pool.poolSize} pooled RECVMSG (io_uring_enter returned ${pool.submitted < 0 ? errnoName(pool.submitted) : pool.submitted}, SQ head moved ${moved}${written})`;
}

/** The requested entries of a ring, as the seed computes them. */
function requestedEntries(kind: 'send' | 'recv'): number {
  return kind === 'send' ? SEND_ENTRIES : Math.max(RECV_POOL_SIZE, MIN_ENTRIES);
}

/** "the pair needs 36 KiB, limit 32 KiB" from the memlock probe, when it found the user charged. */
export function memlockNote(memlock: ProbeResult | undefined): string | null {
  const f = memlock?.facts;
  if (!f || f.charged !== true || typeof f.pairBytes !== 'number') return null;
  const limit = f.softLimitBytes === 'infinity' ? 'unlimited' : typeof f.softLimitBytes === 'number' ? `${Math.ceil(f.softLimitBytes / 1024)} KiB` : '?';
  const inUse = typeof f.inUseBytes === 'number' && f.inUseBytes > 0 ? `, ${Math.ceil(f.inUseBytes / 1024)} KiB already in use` : '';
  return `the ring pair needs ${Math.ceil(f.pairBytes / 1024)} KiB of locked memory, limit ${limit}${inUse}`;
}

export const ringSetupProbe: ProbeSpec = {
  id: 'ring-setup',
  title: 'Ring setup (the seed\'s ladder)',
  kernel: true,
  dependsOn: [],
  async run(ctx): Promise<ProbeResult> {
    const addon = loadAddon();
    const abi = addon.abi();
    const send = await addon.ringLadder({ kind: 'send' });
    // The seed holds its send ring while it sets up the receive ring: their memory is charged together.
    const recv = await addon.ringLadder({ kind: 'recv', holdSendRing: true });
    const attempts = [...ladderAttempts('send', send.attempts, abi), ...ladderAttempts('recv', recv.attempts, abi)];
    const facts: RingSetupFacts = {
      send: ringFacts('send', requestedEntries('send'), send, abi),
      recv: ringFacts('recv', requestedEntries('recv'), recv, abi),
    };
    const spec = ringSetupProbe;

    // Refused: the ladder ended in an error on either ring.
    for (const [kind, r] of [['send', send], ['recv', recv]] as const) {
      if (r.res < 0) {
        const errno = errnoName(r.res);
        const last = r.attempts[r.attempts.length - 1];
        const atMinimum = !last || last.entries <= MIN_ENTRIES;
        let reason: ReasonCode = setupRefusalReason(errno, refusalContextFrom(ctx.results.get('environment')), atMinimum);
        if (reason === 'RING_SHRUNK') reason = 'UNKNOWN'; // ENOMEM above the minimum ends the ladder only via mmap errors
        const memlock = memlockNote(ctx.results.get('memlock'));
        return probeResult(spec, {
          status: 'fail',
          summary:
            reason === 'ABI_MISMATCH'
              ? `the ${kind} ring's geometry as the kernel reported it (entries, masks, offsets or layout flags) failed the addon's check (${errno}, ABI_MISMATCH${r.geometry ? `: ${r.geometry.field} = ${r.geometry.value}, rule ${r.geometry.rule}, bound ${r.geometry.bound}` : ''}); the ring was unmapped and closed`
              : `io_uring refused: the ${kind} ring's setup failed with ${errno} (${reason})${reason === 'MEMLOCK_LIMIT' && memlock ? `: ${memlock}` : ''}`,
          reason,
          errno,
          facts,
          attempts,
          remediation: remediationInContext(reason, ctx.options.context, ctx.results.get('environment'), ctx.results.get('memlock')),
        });
      }
    }

    // The receive ring's pool: the seed's fillRecvQueue returns io_uring_enter's error, so a refused
    // enter means its receive path cannot queue anything.
    const pool = recv.recvPool;
    if (pool && pool.submitRes < 0) {
      const errno = errnoName(pool.submitRes);
      const reason: ReasonCode = ENTER_REFUSALS.has(errno)
        ? setupRefusalReason(errno, refusalContextFrom(ctx.results.get('environment')))
        : 'UNKNOWN';
      return probeResult(spec, {
        status: 'fail',
        summary: `io_uring refused: the recv ring's io_uring_enter (submitting the pool's RECVMSG) failed with ${errno} (${reason}): ${poolTakenText(pool)}`,
        reason,
        errno,
        facts,
        attempts,
        remediation: remediationInContext(reason, ctx.options.context, ctx.results.get('environment'), ctx.results.get('memlock')),
      });
    }

    // Accepted: note every fallback the ladder had to take.
    const warnings: Array<{ reason: ReasonCode; text: string }> = [];
    const coop = bitOf(SETUP_FLAGS, 'COOP_TASKRUN') ?? 0;
    for (const [kind, r] of [['send', send], ['recv', recv]] as const) {
      const flags = r.params?.flags ?? 0;
      if (coop !== 0 && (flags & coop) === 0 && r.attempts.some((a) => (a.flags & coop) !== 0 && a.res < 0)) {
        warnings.push({ reason: 'FLAGS_FALLBACK', text: `${kind} ring: COOP_TASKRUN refused, running with CLAMP alone` });
      }
      const requested = requestedEntries(kind);
      const final = r.params?.sqEntries ?? requested;
      if (final < requested) {
        const memlock = memlockNote(ctx.results.get('memlock'));
        warnings.push({ reason: 'RING_SHRUNK', text: `${kind} ring shrunk to ${final} of ${requested} entries (ENOMEM${memlock ? `; ${memlock}` : ''})` });
      }
    }
    if (pool && pool.queued < pool.poolSize) {
      warnings.push({ reason: 'POOL_TRUNCATED', text: `receive ring: ${poolTakenText(pool)}` });
    }
    const describeRing = (r: RingLadderResult): string =>
      `${r.params?.sqEntries ?? '?'} entries ${namesOfBits(r.params?.flags ?? 0, SETUP_FLAGS).join('|') || 'no flags'}`;
    const accepted = `send ${describeRing(send)}, recv ${describeRing(recv)}`;
    if (warnings.length === 0) {
      return probeResult(spec, { status: 'pass', summary: `first attempt accepted: ${accepted}`, facts, attempts });
    }
    // The most consequential fallback names the result; every one is in the summary and facts.
    const order: ReasonCode[] = ['RING_SHRUNK', 'POOL_TRUNCATED', 'FLAGS_FALLBACK'];
    const main = order.find((code) => warnings.some((w) => w.reason === code)) ?? 'FLAGS_FALLBACK';
    facts.fallbacks = warnings.map((w) => w.reason);
    const failedAttempt = [...send.attempts, ...recv.attempts].find((a) => a.res < 0);
    return probeResult(spec, {
      status: 'warn',
      remediation: remediationInContext(main, ctx.options.context, ctx.results.get('environment'), ctx.results.get('memlock')),
      summary: `${warnings.map((w) => w.text).join('; ')} (${accepted})`,
      reason: main,
      errno: failedAttempt ? errnoName(failedAttempt.res) : null,
      facts,
      attempts,
    });
  },
};

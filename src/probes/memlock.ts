// Probe `memlock`: what the seed's ring pair costs in locked memory on this kernel, whether the
// service's user is charged for it, the limit, and what that user already has locked. Measured by
// the kernel's own answers (native/probes/memlock.h), never inferred from the kernel version.
import { errnoName } from '../errno.js';
import { loadAddon, type MemlockProbeResult } from '../native.js';
import type { Facts, FactValue, ProbeResult } from '../types.js';
import { refusalContextFrom } from './environment.js';
import { setupRefusalReason } from './reasons.js';
import { probeResult } from './result.js';
import { MIN_ENTRIES, RECV_POOL_SIZE, SEND_ENTRIES } from './ring-setup.js';
import type { ProbeSpec } from './spec.js';

/** Apply the service's RLIMIT_MEMLOCK to this (probe child) process. */
export function applyMemlock(memlock: { soft: string; hard: string }): void {
  const r = loadAddon().setMemlock(memlock.soft, memlock.hard);
  if (r < 0) throw new Error(`could not set RLIMIT_MEMLOCK to ${memlock.soft}:${memlock.hard} (${errnoName(r)})`);
}

export function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KiB`;
}

function limitText(v: number | 'infinity'): string {
  return v === 'infinity' ? 'unlimited' : kib(v);
}

/** The figures, in bytes; null where the measurement could not tell. */
export interface MemlockFigures {
  charged: boolean | null;
  sendBytes: number | null;
  recvBytes: number | null;
  pairBytes: number | null;
  /** 'scan' = measured at the kernel's ENOMEM boundary; 'geometry' = the kernel's ring offsets, rounded to pages */
  costSource: 'scan' | 'geometry' | null;
  /** locked memory the user already had (other processes of the same user count) */
  inUseBytes: number | null;
  softLimit: number | 'infinity';
  hardLimit: number | 'infinity';
}

export function memlockFigures(m: MemlockProbeResult): MemlockFigures {
  const page = m.pageSize;
  const charged = m.chargeTestRes === -12 ? true : m.chargeTestRes === 0 ? false : null;
  let send: number | null = null;
  let recv: number | null = null;
  let inUse: number | null = null;
  let source: MemlockFigures['costSource'] = null;
  if (m.scanned && m.scanRes === 0) {
    send = (m.thirdThreshold - m.pairThreshold) * page;
    recv = (m.pairThreshold - m.sendThreshold) * page;
    inUse = (m.sendThreshold * page) - send;
    source = 'scan';
  } else if (m.sendGeometryPages > 0 && m.recvGeometryPages > 0) {
    send = m.sendGeometryPages * page;
    recv = m.recvGeometryPages * page;
    source = 'geometry';
    // A found send threshold still tells the use: threshold = use + send cost.
    if (m.scanned && m.sendThreshold > 0) inUse = m.sendThreshold * page - send;
  }
  return {
    charged,
    sendBytes: send,
    recvBytes: recv,
    pairBytes: send !== null && recv !== null ? send + recv : null,
    costSource: source,
    inUseBytes: inUse,
    softLimit: m.softLimit,
    hardLimit: m.hardLimit,
  };
}

/** The LimitMEMLOCK= value that fits the pair next to what the user already locks, rounded up to 64 KiB. */
export function suggestedLimit(f: MemlockFigures): number | null {
  if (f.pairBytes === null) return null;
  const need = f.pairBytes + (f.inUseBytes ?? 0);
  return Math.ceil(need / 65536) * 65536;
}

function memlockRemediation(f: MemlockFigures, who: string): string {
  const suggested = suggestedLimit(f);
  const parts = [
    `On this kernel ring memory is charged to ${who}'s RLIMIT_MEMLOCK (measured: the seed's ring pair needs ${f.pairBytes !== null ? kib(f.pairBytes) : 'an unknown amount'}` +
      `${f.inUseBytes !== null ? `, and ${who} already has ${kib(f.inUseBytes)} locked` : ''}; the limit is ${limitText(f.softLimit)}).`,
  ];
  if (suggested !== null) {
    parts.push(
      `Raise it to at least ${kib(suggested)}: systemd LimitMEMLOCK=${Math.ceil(suggested / 1024)}K, docker/podman --ulimit memlock=${suggested}:${suggested}, ` +
        `or /etc/security/limits.conf memlock; granting CAP_IPC_LOCK (AmbientCapabilities=CAP_IPC_LOCK) stops the charging.`,
    );
  }
  return parts.join(' ');
}

/** Facts of the `memlock` probe. */
export type MemlockFacts = {
  /** ring memory is charged to the user's RLIMIT_MEMLOCK (null: io_uring refused before any accounting) */
  charged: boolean | null;
  /** the 1-entry ring at a zero limit: 'accepted at a zero limit' or the errno */
  chargeTest: string;
  softLimitBytes: number | 'infinity';
  hardLimitBytes: number | 'infinity';
  sendRingBytes: number | null;
  recvRingBytes: number | null;
  pairBytes: number | null;
  /** 'scan' = measured at the kernel's ENOMEM boundary; 'geometry' = the kernel's ring offsets */
  costSource: 'scan' | 'geometry' | null;
  /** locked memory the user already had (its other processes count) */
  inUseBytes: number | null;
  suggestedLimitBytes: number | null;
  scan: {
    ran: boolean;
    result: string | null;
    attempts: number;
    limitPages: number;
    thresholdsPages: number[];
    ms: number;
  };
  geometryPages: { send: number; recv: number };
  pageSize: number;
  /** the measurement itself failed: 'stage: errno' */
  error?: string;
};

export const memlockProbe: ProbeSpec = {
  id: 'memlock',
  title: 'Locked memory for the ring pair',
  kernel: true,
  dependsOn: [],
  async run(ctx): Promise<ProbeResult> {
    const spec = memlockProbe;
    const addon = loadAddon();
    const m = await addon.memlockProbe({ sendEntries: SEND_ENTRIES, recvEntries: Math.max(RECV_POOL_SIZE, MIN_ENTRIES) });
    // The measurement ran under the inherited limit; from here on the probes run under the service's.
    const target = ctx.options.context?.memlock ?? null;
    if (target) applyMemlock(target);
    const f = memlockFigures(m);
    if (target) {
      f.softLimit = target.soft === 'infinity' ? 'infinity' : Number(target.soft);
      f.hardLimit = target.hard === 'infinity' ? 'infinity' : Number(target.hard);
    }
    const ids = ctx.options.context?.ids;
    const who = ids ? ids.name ?? `uid ${ids.uid}` : 'this user';
    const facts: MemlockFacts = {
      charged: f.charged,
      chargeTest: m.chargeTestRes === 0 ? 'accepted at a zero limit' : errnoName(m.chargeTestRes),
      softLimitBytes: f.softLimit,
      hardLimitBytes: f.hardLimit,
      sendRingBytes: f.sendBytes,
      recvRingBytes: f.recvBytes,
      pairBytes: f.pairBytes,
      costSource: f.costSource,
      inUseBytes: f.inUseBytes,
      suggestedLimitBytes: f.charged ? suggestedLimit(f) : null,
      scan: {
        ran: m.scanned,
        result: m.scanned ? (m.scanRes === 0 ? 'ok' : errnoName(m.scanRes)) : null,
        attempts: m.attempts,
        limitPages: m.scanLimitPages,
        thresholdsPages: [m.sendThreshold, m.pairThreshold, m.thirdThreshold],
        ms: Math.round(m.scanUs / 100) / 10,
      },
      geometryPages: { send: m.sendGeometryPages, recv: m.recvGeometryPages },
      pageSize: m.pageSize,
    };
    if (m.res < 0) {
      facts.error = `${m.stage}: ${errnoName(m.res)}`;
      return probeResult(spec, {
        status: 'fail',
        summary: `the measurement could not run: ${m.stage} failed with ${errnoName(m.res)}`,
        reason: 'PROBE_ERROR',
        errno: errnoName(m.res),
        facts,
      });
    }
    if (f.charged === null) {
      const errno = errnoName(m.chargeTestRes);
      const reason = setupRefusalReason(errno, refusalContextFrom(ctx.results.get('environment')));
      return probeResult(spec, {
        status: 'skip',
        summary: `io_uring_setup was refused with ${errno} before any memory was charged: nothing to measure (see ring-setup)`,
        reason,
        errno,
        facts,
      });
    }
    const pair = f.pairBytes !== null ? `the seed's ring pair (send ${SEND_ENTRIES}, recv ${Math.max(RECV_POOL_SIZE, MIN_ENTRIES)} entries) needs ${kib(f.pairBytes)}` : 'the ring pair cost could not be measured';
    if (!f.charged) {
      const capLock = (refusalContextFrom(ctx.results.get('environment')).capabilities ?? []).includes('CAP_IPC_LOCK');
      const why = capLock ? `${who} holds CAP_IPC_LOCK` : 'this kernel does not charge ring memory to RLIMIT_MEMLOCK';
      return probeResult(spec, { status: 'pass', summary: `not charged: ${why}; ${pair}`, facts });
    }
    const soft = f.softLimit;
    const fits = soft === 'infinity' || (f.pairBytes !== null && f.pairBytes + (f.inUseBytes ?? 0) <= soft);
    const softBytes = soft === 'infinity' ? Number.POSITIVE_INFINITY : soft;
    const use = f.inUseBytes !== null ? `, ${kib(f.inUseBytes)} already locked by ${who}` : '';
    const summary = `charged to ${who}: ${pair} (${f.costSource === 'scan' ? 'measured' : 'from the ring geometry'}); limit ${limitText(soft)}${use}`;
    if (fits) return probeResult(spec, { status: 'pass', summary: `${summary}: fits`, facts });
    // The pair does not fit. How the seed's ladder copes (a smaller send ring, a smaller receive
    // ring, or giving up) is what ring-setup finds out for real; here: can even one ring of the
    // ladder's minimum size be created (one page of ring and one of SQEs)?
    const minimumFits = 2 * m.pageSize + (f.inUseBytes ?? 0) <= softBytes;
    return probeResult(spec, {
      status: minimumFits ? 'warn' : 'fail',
      summary: minimumFits
        ? `${summary}: does not fit, so the seed's ladder has to halve its rings or give up (ring-setup shows which)`
        : `${summary}: not even one ${MIN_ENTRIES}-entry ring fits`,
      reason: 'MEMLOCK_LIMIT',
      errno: 'ENOMEM',
      facts,
      remediation: memlockRemediation(f, who),
    });
  },
};

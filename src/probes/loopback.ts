// Probe `loopback`: datagrams through the seed's send ring and receive pool over 127.0.0.1 (and ::1), every byte checked.
import { networkInterfaces } from 'node:os';
import { errnoName } from '../errno.js';
import { loadAddon, type AbiInfo, type LoopbackResult } from '../native.js';
import type { FactValue, ProbeResult, ReasonCode } from '../types.js';
import { probeResult, resultName } from './result.js';
import { namesOfBits, SETUP_FLAGS } from '../kernel-abi.js';
import type { ProbeSpec } from './spec.js';
import { refusalContextFrom } from './environment.js';
import { setupRefusalReason } from './reasons.js';
import { remediationInContext } from './remediation.js';

/** One datagram of each size through Sendmsg (8 = the addon's header of magic + sequence; 65507 = the largest IPv4 UDP payload), then a batch. */
export const LOOPBACK_SIZES = [8, 64, 512, 1400, 8000, 65507];
export const LOOPBACK_BATCH = 32;

/** errnos that mean "there is no usable loopback", not "io_uring got it wrong". */
const NO_LOOPBACK_ERRNOS = new Set(['EADDRNOTAVAIL', 'ENETUNREACH', 'ENODEV', 'ENETDOWN', 'EAFNOSUPPORT', 'EHOSTUNREACH']);

export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addrs) =>
    (addrs ?? []).some((a) => a.family === 'IPv6' && a.address === '::1'),
  );
}

type SendCounters = { calls: number; bytes: number; errors: number; firstErrno: string | null };

/** One address family's run of the `loopback` probe. */
export type LoopbackFamilyFacts = {
  result: string;
  /** where it stopped: socket | bind | send-ring | recv-ring | sendmsg | sendmsg-batch | receive | recvmsg | done */
  stage: string;
  sendRing: { entries: number; flags: string[] } | null;
  recvRing: { entries: number; flags: string[]; queued: number } | null;
  sendmsg: SendCounters;
  batch: SendCounters & { entries: number };
  recvmsg: SendCounters & { ok: boolean };
  received: number;
  expected: number;
  bytesOk: boolean;
  lengthsOk: boolean;
  sourceOk: boolean;
  mismatches: string[];
  elapsedUs: number;
};

/** Facts of the `loopback` probe. */
export type LoopbackFacts = {
  sizes: number[];
  batch: number;
  ipv4?: LoopbackFamilyFacts;
  ipv6?: LoopbackFamilyFacts;
  /** why IPv6 was not tried */
  ipv6Note?: string;
};

function familyFacts(r: LoopbackResult, abi: AbiInfo): LoopbackFamilyFacts {
  return {
    result: resultName(r.res),
    stage: r.stage,
    sendRing: r.sendRing ? { entries: r.sendRing.entries, flags: namesOfBits(r.sendRing.flags, SETUP_FLAGS) } : null,
    recvRing: r.recvRing
      ? { entries: r.recvRing.entries, flags: namesOfBits(r.recvRing.flags, SETUP_FLAGS), queued: r.recvRing.queued }
      : null,
    sendmsg: { ...r.sendmsg, firstErrno: r.sendmsg.firstErrno ? errnoName(r.sendmsg.firstErrno) : null },
    batch: { ...r.batch, firstErrno: r.batch.firstErrno ? errnoName(r.batch.firstErrno) : null },
    recvmsg: { ...r.recvmsg, firstErrno: r.recvmsg.firstErrno ? errnoName(r.recvmsg.firstErrno) : null },
    received: r.received,
    expected: r.expected,
    bytesOk: r.bytesOk,
    lengthsOk: r.lengthsOk,
    sourceOk: r.sourceOk,
    mismatches: r.mismatches,
    elapsedUs: r.elapsedUs,
  };
}

interface Judgement {
  reason: ReasonCode | null;
  errno: string | null;
  text: string;
}

/** What one family's run says: null reason = everything came back intact. */
function judge(family: 4 | 6, r: LoopbackResult, refusal: (errno: string) => ReasonCode): Judgement {
  const name = family === 4 ? '127.0.0.1' : '[::1]';
  const firstErrno = r.res < 0 ? errnoName(r.res) : r.sendmsg.firstErrno ? errnoName(r.sendmsg.firstErrno) : r.batch.firstErrno ? errnoName(r.batch.firstErrno) : null;
  if (firstErrno && NO_LOOPBACK_ERRNOS.has(firstErrno) && (r.stage === 'socket' || r.stage === 'bind' || r.stage === 'sendmsg' || r.stage === 'sendmsg-batch' || r.received === 0)) {
    return { reason: 'NO_LOOPBACK', errno: firstErrno, text: `${name}: ${r.stage} failed with ${firstErrno}` };
  }
  if (r.res < 0 && (r.stage === 'send-ring' || r.stage === 'recv-ring')) {
    // The same refusal ring-setup attributes (a ring of the seed's ladder could not be created).
    return { reason: refusal(firstErrno ?? 'E?'), errno: firstErrno, text: `${name}: ${r.stage} failed with ${firstErrno ?? '?'}` };
  }
  if (r.res < 0 && (r.stage === 'socket' || r.stage === 'bind')) {
    return { reason: 'UNKNOWN', errno: firstErrno, text: `${name}: ${r.stage} failed with ${firstErrno ?? '?'}` };
  }
  const intact =
    r.received === r.expected && r.bytesOk && r.lengthsOk && r.sourceOk && r.sendmsg.errors === 0 && r.batch.errors === 0 && r.recvmsg.ok;
  if (r.res < 0 || !intact) {
    const what = [
      r.received !== r.expected ? `${r.received}/${r.expected} datagrams arrived` : null,
      r.bytesOk ? null : 'bytes differ',
      r.lengthsOk ? null : 'lengths differ',
      r.sourceOk ? null : 'source address wrong',
      r.sendmsg.errors + r.batch.errors > 0 ? `${r.sendmsg.errors + r.batch.errors} send errors` : null,
      r.recvmsg.ok || r.res < 0 ? null : 'Recvmsg on the send ring came back wrong',
      r.res < 0 ? `${r.stage} failed with ${firstErrno ?? '?'}` : null,
    ].filter((s): s is string => s !== null);
    return { reason: 'DATA_MISMATCH', errno: firstErrno, text: `${name}: ${what.join(', ')}` };
  }
  return { reason: null, errno: null, text: `${name}: ${r.received}/${r.expected} datagrams intact, Recvmsg ok` };
}

export const loopbackProbe: ProbeSpec = {
  id: 'loopback',
  title: 'UDP loopback through the seed\'s rings',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(ctx): Promise<ProbeResult> {
    const spec = loopbackProbe;
    const addon = loadAddon();
    const abi = addon.abi();
    const timeoutMs = Math.max(200, Math.min(2000, Math.floor(ctx.options.timeoutMs / 3)));
    const families: Array<4 | 6> = hasIpv6Loopback() ? [4, 6] : [4];
    const facts: LoopbackFacts = { sizes: LOOPBACK_SIZES, batch: LOOPBACK_BATCH };
    if (!families.includes(6)) facts.ipv6Note = 'no IPv6 loopback (::1 not configured)';
    const verdicts: Judgement[] = [];
    const refusal = (errno: string): ReasonCode => setupRefusalReason(errno, refusalContextFrom(ctx.results.get('environment')));
    for (const family of families) {
      const r = await addon.loopback({ family, sizes: LOOPBACK_SIZES, batch: LOOPBACK_BATCH, timeoutMs });
      facts[family === 4 ? 'ipv4' : 'ipv6'] = familyFacts(r, abi);
      verdicts.push(judge(family, r, refusal));
    }
    // A wrong datagram anywhere is the decisive finding; "no loopback" only leaves it unchecked.
    const mismatch = verdicts.find((v) => v.reason === 'DATA_MISMATCH' || v.reason === 'UNKNOWN' || v.reason === 'MEMLOCK_LIMIT' || v.reason === 'SECCOMP_BLOCKED');
    const decisive = mismatch ?? verdicts.find((v) => v.reason !== null);
    const summary = verdicts.map((v) => v.text).join('; ');
    if (decisive) {
      return probeResult(spec, {
        status: 'fail',
        summary,
        reason: decisive.reason,
        errno: decisive.errno,
        facts,
        remediation: remediationInContext(decisive.reason, ctx.options.context, ctx.results.get('environment'), ctx.results.get('memlock')),
      });
    }
    return probeResult(spec, { status: 'pass', summary: `${summary} (Sendmsg of sizes ${LOOPBACK_SIZES.join('/')}, SendmsgBatch of ${LOOPBACK_BATCH}, receive pool; Recvmsg of 1400)`, facts });
  },
};

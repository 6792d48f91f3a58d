// Probe `single-issuer`: with IORING_SETUP_SINGLE_ISSUER, the creating thread's NOP must complete, and a submit from another thread should get EEXIST.
import { errnoName } from '../errno.js';
import { loadAddon, type SingleIssuerResult } from '../native.js';
import type { FactValue, ProbeResult, ProbeStatus, ReasonCode } from '../types.js';
import { probeResult, resultName } from './result.js';
import type { ProbeSpec } from './spec.js';

const EEXIST = -17;

function show(res: number | null): string | number | null {
  return res === null ? null : res < 0 ? errnoName(res) : res;
}

export interface SingleIssuerJudgement {
  status: ProbeStatus;
  reason: ReasonCode | null;
  errno: string | null;
  summary: string;
  /** null: the kernel refused the flag itself (the caller reports that as a skip) */
  remediation?: string | null;
}

/** A NOP that went through: io_uring_enter took 1 SQE and its CQE came back with res 0. */
function completed(n: SingleIssuerResult['sameThread']): boolean {
  return n.enterRes === 1 && n.cqeRes === 0;
}

/** The probe's conclusion from a singleIssuerCrossThread result (pure: the kernel's answers in). */
export function judgeSingleIssuer(r: SingleIssuerResult): SingleIssuerJudgement {
  if (r.setupRes < 0) {
    const errno = errnoName(r.setupRes);
    // Only EINVAL says the kernel does not know the flag; ENOMEM (memlock) or EPERM say nothing about it.
    const unknownFlag = errno === 'EINVAL';
    return {
      status: 'skip',
      summary: unknownFlag
        ? `SINGLE_ISSUER refused by io_uring_setup (EINVAL: this kernel does not know the flag, which came in 6.0): nothing to check`
        : `an 8-entry SINGLE_ISSUER ring could not be created (${errno}): nothing to check`,
      reason: unknownFlag ? 'NOT_SUPPORTED' : errno === 'ENOMEM' ? 'MEMLOCK_LIMIT' : 'PROBE_ERROR',
      errno,
      remediation: unknownFlag ? null : undefined,
    };
  }
  // Without a working submit from the ring's own thread, another thread's answer means nothing.
  if (!completed(r.sameThread)) {
    const failed = r.sameThread.enterRes < 0 ? r.sameThread.enterRes : r.sameThread.cqeRes !== null && r.sameThread.cqeRes < 0 ? r.sameThread.cqeRes : null;
    const what =
      r.sameThread.enterRes < 0
        ? `io_uring_enter failed with ${errnoName(r.sameThread.enterRes)}`
        : r.sameThread.enterRes !== 1
          ? `io_uring_enter took ${r.sameThread.enterRes} SQEs, not 1`
          : r.sameThread.cqeRes === null
            ? 'its CQE did not arrive within 1 s'
            : `its CQE has res ${show(r.sameThread.cqeRes)}`;
    return {
      status: 'fail',
      summary: `the creating thread's own NOP on the SINGLE_ISSUER ring did not complete (${what}): whether other threads are refused cannot be told`,
      reason: 'PROBE_ERROR',
      errno: failed !== null ? errnoName(failed) : null,
    };
  }
  const other = r.otherThread;
  if (other.enterRes === EEXIST || other.cqeRes === EEXIST) {
    return {
      status: 'pass',
      summary:
        'the creating thread\'s NOP completed and a submit from another thread fails with EEXIST: the kernel enforces SINGLE_ISSUER, which is why the seed leaves the flag out (Go moves goroutines between threads)',
      reason: 'SINGLE_ISSUER_EEXIST',
      errno: 'EEXIST',
    };
  }
  if (completed(other)) {
    return {
      status: 'warn',
      summary:
        'a NOP from another thread completed on a SINGLE_ISSUER ring: this kernel accepts the flag but does not enforce it (the seed\'s reason for leaving it out, EEXIST, does not hold here)',
      reason: 'SINGLE_ISSUER_UNENFORCED',
      errno: null,
    };
  }
  // Refused, but not with EEXIST (or not completed either way): no answer to the question.
  const errno = other.enterRes < 0 ? errnoName(other.enterRes) : other.cqeRes !== null && other.cqeRes < 0 ? errnoName(other.cqeRes) : null;
  return {
    status: 'fail',
    summary: `the other thread's submit neither got EEXIST nor completed (enter ${String(show(other.enterRes))}, cqe ${String(show(other.cqeRes))}): whether SINGLE_ISSUER is enforced cannot be told`,
    reason: 'PROBE_ERROR',
    errno,
  };
}

/** One submit of the single-issuer probe: io_uring_enter's result and the NOP's completion (errno names for refusals). */
export type SubmitFacts = { enter: string | number | null; cqe: string | number | null };

/** Facts of the `single-issuer` probe. */
export type SingleIssuerFacts = {
  /** io_uring_setup with SINGLE_ISSUER: 'ok' or its errno */
  setup: string;
  sameThread: SubmitFacts;
  otherThread: SubmitFacts;
};

export const singleIssuerProbe: ProbeSpec = {
  id: 'single-issuer',
  title: 'SINGLE_ISSUER across threads',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = singleIssuerProbe;
    const r = await loadAddon().singleIssuerCrossThread();
    const facts: SingleIssuerFacts = {
      setup: resultName(r.setupRes),
      sameThread: { enter: show(r.sameThread.enterRes), cqe: show(r.sameThread.cqeRes) },
      otherThread: { enter: show(r.otherThread.enterRes), cqe: show(r.otherThread.cqeRes) },
    };
    const j = judgeSingleIssuer(r);
    return probeResult(spec, {
      status: j.status,
      summary: j.summary,
      reason: j.reason,
      errno: j.errno,
      facts,
      ...(j.remediation !== undefined ? { remediation: j.remediation } : {}),
    });
  },
};

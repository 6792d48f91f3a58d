// Small helpers to build ProbeResults: typed construction, dependency skips, internal errors, timing.
import type { Facts, ProbeResult, ProbeStatus, ReasonCode, SetupAttempt } from '../types.js';
import type { ProbeContext, ProbeSpec } from './spec.js';
import { errnoName } from '../errno.js';
import { remediationFor } from './reasons.js';

export interface ResultFields {
  status: ProbeStatus;
  summary: string;
  reason?: ReasonCode | null;
  errno?: string | null;
  facts?: Facts;
  /** default: the reason's remediation text when status is not pass, else null */
  remediation?: string | null;
  attempts?: SetupAttempt[];
}

/** Facts of a probe that was not run because a probe it depends on failed. */
export type DependencySkipFacts = { dependsOn: string[]; failed: string[] };

/** Facts of a probe that threw (or returned no result of its own): PROBE_ERROR. */
export type ProbeErrorFacts = { error: string; errorCode?: string };

/**
 * Facts of a probe whose process ended before it returned a result (src/check.ts): killed by a
 * signal (PROBE_KILLED, or SECCOMP_BLOCKED for SIGSYS in io_uring_setup/enter), past its time bound
 * (PROBE_TIMEOUT), or exited without a result (PROBE_ERROR).
 */
export type ProbeDeathFacts = {
  signal: string | null;
  exitCode: number | null;
  /** the last syscall the native wrappers recorded before the signal (breadcrumb page) */
  lastSyscall?: string | null;
  /** SIGSYS: 'kill-process', or 'kill-thread' when only the kernel thread was killed */
  seccompAction?: string;
  stderr?: string;
  unparsedOutput?: string[];
  timeoutMs?: number | null;
  error?: string;
};

/** A ProbeResult for `spec`; durationMs is filled in by runProbe. */
export function probeResult(spec: Pick<ProbeSpec, 'id' | 'title'>, fields: ResultFields): ProbeResult {
  const reason = fields.reason ?? null;
  const result: ProbeResult = {
    id: spec.id,
    title: spec.title,
    status: fields.status,
    summary: fields.summary,
    reason,
    errno: fields.errno ?? null,
    facts: fields.facts ?? {},
    remediation:
      fields.remediation !== undefined
        ? fields.remediation
        : fields.status === 'pass' || (fields.status === 'skip' && reason === null)
          ? null
          : remediationFor(reason),
    durationMs: 0,
  };
  if (fields.attempts) result.attempts = fields.attempts;
  return result;
}

/** A probe did not produce a result because it did not work (threw, bad addon, bad output). */
export function probeErrorResult(spec: Pick<ProbeSpec, 'id' | 'title'>, err: unknown): ProbeResult {
  const message = err instanceof Error ? err.message : String(err);
  const facts: ProbeErrorFacts = { error: message };
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') facts.errorCode = code;
  return probeResult(spec, {
    status: 'fail',
    summary: `the probe could not run: ${message.split('\n')[0] ?? message}`,
    reason: 'PROBE_ERROR',
    facts,
  });
}

function dependencyBroken(result: ProbeResult | undefined): boolean {
  if (!result) return false;
  return result.status === 'fail' || (result.status === 'skip' && result.reason === 'DEPENDENCY_FAILED');
}

/** The skip result when a probe `spec` depends on has failed (or was itself skipped for that), else null. */
export function dependencySkip(spec: ProbeSpec, results: ReadonlyMap<string, ProbeResult>): ProbeResult | null {
  const broken = spec.dependsOn.filter((id) => dependencyBroken(results.get(id)));
  if (broken.length === 0) return null;
  return probeResult(spec, {
    status: 'skip',
    summary: `not run: ${broken.join(', ')} failed`,
    reason: 'DEPENDENCY_FAILED',
    facts: { dependsOn: spec.dependsOn, failed: broken } satisfies DependencySkipFacts,
  });
}

/** Run one probe in this process: dependency skip, exceptions become PROBE_ERROR, durationMs measured. */
export async function runProbe(spec: ProbeSpec, ctx: ProbeContext): Promise<ProbeResult> {
  const skipped = dependencySkip(spec, ctx.results);
  if (skipped) return skipped;
  const started = performance.now();
  let result: ProbeResult;
  try {
    result = await spec.run(ctx);
    if (!result || typeof result !== 'object' || result.id !== spec.id) {
      throw new Error(`probe ${spec.id} returned no result of its own`);
    }
  } catch (err) {
    result = probeErrorResult(spec, err);
  }
  result.durationMs = Math.round((performance.now() - started) * 10) / 10;
  return result;
}

/** Facts of an earlier probe's result, as a plain object ({} if it did not run). */
export function factsOf(results: ReadonlyMap<string, ProbeResult>, id: string): Facts {
  return results.get(id)?.facts ?? {};
}

export function asNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function asString(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** 'ok' for a `>= 0` result (fd, count, 0), else the errno name of a `-errno` result. */
export function resultName(res: number): string {
  return res >= 0 ? 'ok' : errnoName(res);
}

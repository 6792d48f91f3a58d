// The verdict of a report from its probe results, and the exit code that goes with it.
import { EXIT, type ProbeResult, type ReasonCode, type Verdict } from './types.js';

/** Fails that mean "we could not check", not "the kernel says no". */
const INCONCLUSIVE: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'PROBE_KILLED',
  'PROBE_TIMEOUT',
  'PROBE_ERROR',
  'NO_LOOPBACK',
]);

/** incompatible (a real fail) > unknown (a fail that could not check) > degraded (any warn) > compatible. */
export function computeVerdict(probes: readonly ProbeResult[]): Verdict {
  let incompatible = false;
  let unknown = false;
  let degraded = false;
  for (const p of probes) {
    if (p.status === 'fail') {
      if (p.reason !== null && INCONCLUSIVE.has(p.reason)) unknown = true;
      else incompatible = true;
    } else if (p.status === 'warn') {
      degraded = true;
    }
  }
  if (incompatible) return 'incompatible';
  if (unknown) return 'unknown';
  if (degraded) return 'degraded';
  return 'compatible';
}

export function exitCodeFor(verdict: Verdict): number {
  return EXIT[verdict];
}

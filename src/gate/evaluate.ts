// Gating: check a report against requirements, list each unmet one with what the host has instead.
import type { GateOutcome, Report, Verdict } from '../types.js';
import { EXIT } from '../types.js';
import { computeVerdict } from '../verdict.js';
import { hostCapabilities, type HostCapabilities, type Measured, type SetupFlagOutcome } from './host-capabilities.js';
import { CAPABILITIES, ownEntry, parseRequirement, type Requirement } from './names.js';
import { floorOutcome, type FloorOutcome } from '../probes/throughput.js';

/** What a run is gated on: from --require/--min-pps/--min-ratio/--strict and/or a policy file. */
export interface GatePolicy {
  requirements: Requirement[];
  strict: boolean;
  minPps: number | null;
  minRatio: number | null;
}

export const EMPTY_POLICY: GatePolicy = { requirements: [], strict: false, minPps: null, minRatio: null };

/** True when the policy asks for anything at all. */
export function policyIsActive(policy: GatePolicy): boolean {
  return policy.requirements.length > 0 || policy.strict || policy.minPps !== null || policy.minRatio !== null;
}

function kernelOf(report: Report): string {
  return `kernel ${report.host.kernelRelease}`;
}

function since(req: Requirement): string {
  return req.since ? `; it came in Linux ${req.since}` : '';
}

function refusal(outcome: SetupFlagOutcome): string {
  return outcome.errno ? `refused with ${outcome.errno}` : 'refused';
}

function formatPps(pps: number): string {
  return `${Math.round(pps).toLocaleString('en-US')} pkt/s`;
}

/** null when met; otherwise what the host has instead. */
function checkRequirement(req: Requirement, caps: HostCapabilities): string | null {
  const report = caps.report;
  const unknown = (m: Measured<unknown>): string => (m.known ? 'not measured' : `not measured: ${m.why}`);
  switch (req.kind) {
    case 'flag': {
      if (!caps.setupFlags.known) return unknown(caps.setupFlags);
      const outcome = caps.setupFlags.value.get(req.name);
      if (!outcome) return `${req.name} was not tried on this host`;
      if (outcome.accepted) return null;
      // For the ladder's own flags, say what the rings fell back to.
      const ringFlags = caps.rings.send?.flags ?? [];
      const rings = ['CLAMP', 'COOP_TASKRUN'].includes(req.name) && ringFlags.length > 0 ? `; the seed's rings run with ${ringFlags.join('|')}` : '';
      return `${req.name} ${refusal(outcome)} by ${kernelOf(report)}${since(req)}${rings}`;
    }
    case 'feature': {
      if (!caps.features.known) return unknown(caps.features);
      if (caps.features.value.has(req.name)) return null;
      const have = [...caps.features.value].join(' ') || 'none';
      return `${kernelOf(report)} does not report FEAT_${req.name}${since(req)}; its features: ${have}`;
    }
    case 'op': {
      if (!caps.ops.known) return unknown(caps.ops);
      if (caps.ops.value.get(req.name) === true) return null;
      return `${req.name} is not supported by ${kernelOf(report)}${since(req)}`;
    }
    case 'register': {
      const m = req.name === 'PROBE' ? caps.opcodeProbe : caps.workerLimit;
      if (!m.known) return unknown(m);
      if (m.value.accepted) return null;
      const consequence = req.name === 'IOWQ_MAX_WORKERS' ? ': io-wq workers stay unbounded' : ': opcodes cannot be listed';
      return `IORING_REGISTER_${req.name} ${refusal(m.value)} by ${kernelOf(report)}${since(req)}${consequence}`;
    }
    case 'capability': {
      const m = caps.multishotRecvmsg;
      if (!m.known) return unknown(m);
      if (m.value) return null;
      const meaning = ownEntry(CAPABILITIES, req.name)?.meaning ?? req.name;
      const where = caps.multishotFailure ? `, failed at ${caps.multishotFailure}` : '';
      return `${meaning.replace(/ delivered datagrams$/, '')} did not work on ${kernelOf(report)}${where}${since(req)}`;
    }
    case 'probe': {
      const p = caps.probes.get(req.name);
      if (!p) return `the ${req.name} probe is not in this report${req.name === 'throughput' ? ' (the check ran with --no-bench)' : ''}`;
      if (p.status === 'pass') return null;
      return `${req.name} ${p.status}${p.reason ? ` (${p.reason})` : ''}: ${p.summary}`;
    }
  }
}

/** Reasons of the probes that make a report degraded, e.g. "ring-setup FLAGS_FALLBACK". */
function degradedBecause(report: Report): string {
  const warned = report.probes.filter((p) => p.status === 'warn').map((p) => `${p.id} ${p.reason ?? 'warn'}`);
  return warned.length > 0 ? warned.join(', ') : 'no probe warned';
}

/**
 * The verdict of a report before any gate was applied to it, always recomputed from its probes:
 * a report's own `verdict` field is not trusted (gate, fleet and diff all judge through here).
 */
export function ungatedVerdict(report: Report): Verdict {
  return computeVerdict(report.probes);
}

/** The verdict a report stands for: from its probes, with its own gate (if any) applied again. */
export function judgedVerdict(report: Report, gate: GateOutcome | null = report.gate ?? null): Verdict {
  return gate ? applyGate(report, gate).verdict : ungatedVerdict(report);
}

/** Check one report against a policy. Pure: reads the report, never the kernel. */
export function evaluateGate(report: Report, policy: GatePolicy): GateOutcome {
  const caps = hostCapabilities(report);
  const unmet: GateOutcome['unmet'] = [];
  for (const req of policy.requirements) {
    const have = checkRequirement(req, caps);
    if (have !== null) unmet.push({ requirement: req.canonical, have });
  }
  // A throughput floor is unmet when the measured interval lies below it, and inconclusive when the
  // interval straddles it: that counts as unmet only with --strict.
  const inconclusive: GateOutcome['unmet'] = [];
  const floor = (requirement: string, outcome: FloorOutcome, have: string): void => {
    if (outcome === 'below') unmet.push({ requirement, have });
    else if (outcome === 'inconclusive') inconclusive.push({ requirement, have: `${have}: inconclusive` });
  };
  if (policy.minPps !== null) {
    const t = caps.throughput;
    const requirement = `min-pps ${policy.minPps}`;
    if (!t.known) unmet.push({ requirement, have: `no throughput figure: ${t.why}` });
    else if (t.value.seedPps === null) unmet.push({ requirement, have: 'the throughput probe has no seed-mode figure' });
    else {
      const { seedPps, seedPpsLow, seedPpsHigh } = t.value;
      const low = seedPpsLow ?? seedPps;
      const high = seedPpsHigh ?? seedPps;
      const range = low === high ? '' : ` (interval ${formatPps(low)} to ${formatPps(high)})`;
      floor(requirement, floorOutcome(low, high, policy.minPps), `seed mode received ${formatPps(seedPps)}${range}`);
    }
  }
  if (policy.minRatio !== null) {
    const t = caps.throughput;
    const requirement = `min-ratio ${policy.minRatio}`;
    if (!t.known) unmet.push({ requirement, have: `no throughput figure: ${t.why}` });
    else if (t.value.ratio === null) unmet.push({ requirement, have: 'the throughput probe has no seed/syscall ratio' });
    else {
      const { ratio, ratioLow, ratioHigh } = t.value;
      const low = ratioLow ?? ratio;
      const high = ratioHigh ?? ratio;
      const range = low === high ? '' : `, interval ${low.toFixed(2)} to ${high.toFixed(2)}`;
      const parts = [t.value.seedPps, t.value.syscallPps].every((x) => x !== null)
        ? ` (seed ${formatPps(t.value.seedPps!)}, syscall ${formatPps(t.value.syscallPps!)}${range})`
        : range ? ` (${range.slice(2)})` : '';
      floor(requirement, floorOutcome(low, high, policy.minRatio), `seed/syscall ratio ${ratio.toFixed(2)}${parts}`);
    }
  }
  if (policy.strict) unmet.push(...inconclusive);
  if (policy.strict && ungatedVerdict(report) === 'degraded') {
    unmet.push({ requirement: 'strict', have: `verdict degraded: ${degradedBecause(report)}` });
  }
  return {
    requirements: policy.requirements.map((r) => r.canonical),
    strict: policy.strict,
    minPps: policy.minPps,
    minRatio: policy.minRatio,
    unmet,
    inconclusive,
    passed: unmet.length === 0,
  };
}

/**
 * The report with `gate` set. An unmet gate makes the verdict incompatible (exit 2) whatever it
 * was; a passed gate leaves the probes' verdict (a report gated before is re-judged from its
 * probes), except that an inconclusive throughput floor makes a compatible report degraded, as the
 * throughput probe's own warning does in `check`.
 */
export function applyGate(report: Report, outcome: GateOutcome): Report {
  const base = ungatedVerdict(report);
  const inconclusive = (outcome.inconclusive ?? []).length > 0;
  const verdict: Verdict = !outcome.passed ? 'incompatible' : inconclusive && base === 'compatible' ? 'degraded' : base;
  return { ...report, verdict, exitCode: EXIT[verdict], gate: outcome };
}

/** Convenience for tests and callers holding names: parse then evaluate. */
export function gateOnNames(report: Report, names: string[], extra: Partial<Omit<GatePolicy, 'requirements'>> = {}): GateOutcome {
  return evaluateGate(report, { ...EMPTY_POLICY, ...extra, requirements: names.map(parseRequirement) });
}

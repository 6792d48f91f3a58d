// JSON renderer: one document, an explicit projection of the typed Report (field order as in types.ts).
import { jsonText } from './terminal-safe.js';
import type {
  ErrorDocument,
  FactValue,
  Facts,
  GateOutcome,
  HostInfo,
  ProbeResult,
  Report,
  SetupAttempt,
} from '../types.js';

function projectFact(v: FactValue | undefined): FactValue {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => projectFact(x));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, FactValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = projectFact(x);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

function projectFacts(facts: Facts): Facts {
  return projectFact(facts) as Facts;
}

function projectAttempt(a: SetupAttempt): SetupAttempt {
  return {
    ring: a.ring,
    stage: a.stage,
    entries: a.entries,
    flags: [...a.flags],
    flagsRaw: a.flagsRaw,
    ok: a.ok,
    errno: a.errno,
    next: a.next,
  };
}

export function projectProbe(p: ProbeResult): ProbeResult {
  const out: ProbeResult = {
    id: p.id,
    title: p.title,
    status: p.status,
    summary: p.summary,
    reason: p.reason,
    errno: p.errno,
    facts: projectFacts(p.facts),
    remediation: p.remediation,
    durationMs: p.durationMs,
  };
  if (p.attempts) out.attempts = p.attempts.map(projectAttempt);
  return out;
}

function projectHost(h: HostInfo): HostInfo {
  return {
    hostname: h.hostname,
    machineIdHash: h.machineIdHash,
    kernelRelease: h.kernelRelease,
    kernelVersion: h.kernelVersion,
    arch: h.arch,
    distribution: h.distribution,
  };
}

function projectGate(g: GateOutcome): GateOutcome {
  return {
    requirements: [...g.requirements],
    strict: g.strict,
    minPps: g.minPps,
    minRatio: g.minRatio,
    unmet: g.unmet.map((u) => ({ requirement: u.requirement, have: u.have })),
    ...(g.inconclusive ? { inconclusive: g.inconclusive.map((u) => ({ requirement: u.requirement, have: u.have })) } : {}),
    passed: g.passed,
  };
}

export function projectReport(r: Report): Report {
  const out: Report = {
    schemaVersion: 1,
    tool: { name: r.tool.name, version: r.tool.version },
    host: projectHost(r.host),
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    verdict: r.verdict,
    exitCode: r.exitCode,
    ...(r.context ? { context: projectFact(r.context as unknown as FactValue) as unknown as Report['context'] } : {}),
    probes: r.probes.map(projectProbe),
  };
  if (r.gate) out.gate = projectGate(r.gate);
  if (r.seedFindings) out.seedFindings = [...r.seedFindings];
  return out;
}

/** The report as exactly one JSON document, newline-terminated. */
export function renderJson(report: Report): string {
  return `${jsonText(projectReport(report))}\n`;
}

/** The document printed in JSON mode when there is no report (usage or internal error). */
export function renderErrorDocument(doc: ErrorDocument): string {
  const out: ErrorDocument = {
    schemaVersion: 1,
    tool: { name: doc.tool.name, version: doc.tool.version },
    error: { code: doc.error.code, message: doc.error.message },
    exitCode: doc.exitCode,
  };
  return `${jsonText(out)}\n`;
}

// `check` orchestration: environment in-process, kernel probes in a child process (restarted after a death), the Report.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildRequest } from './child/probe-child.js';
import { collectHostInfo, toolInfo } from './host.js';
import { probesFor } from './probes/index.js';
import { killedProbeReason } from './probes/reasons.js';
import { dependencySkip, probeResult, runProbe } from './probes/result.js';
import type { CheckOptions, ProbeSpec } from './probes/spec.js';
import type { ProbeResult, Report } from './types.js';
import { computeVerdict, exitCodeFor } from './verdict.js';

const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'child', 'probe-child.js');
const STDERR_TAIL_CHARS = 2000;

/** How one child process ended, and what it delivered. */
interface ChildOutcome {
  results: ProbeResult[];
  /** the probe that had started without a result when the child ended, if any */
  runningId: string | null;
  runningSince: number | null;
  done: boolean;
  signal: string | null;
  exitCode: number | null;
  timedOut: boolean;
  timeoutMs: number | null;
  spawnError: string | null;
  stderr: string;
  garbage: string[];
}

function timeoutOf(spec: ProbeSpec | undefined, options: CheckOptions): number {
  return spec?.timeoutMs ?? options.timeoutMs;
}

/** Run `specs` in order in one child; resolves when it exits (normally, by a signal, or killed at a time bound). */
function runChild(specs: ProbeSpec[], options: CheckOptions, soFar: ProbeResult[]): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const outcome: ChildOutcome = {
      results: [],
      runningId: null,
      runningSince: null,
      done: false,
      signal: null,
      exitCode: null,
      timedOut: false,
      timeoutMs: null,
      spawnError: null,
      stderr: '',
      garbage: [],
    };
    const byId = new Map(specs.map((s) => [s.id, s]));
    const child = spawn(process.execPath, [CHILD_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let timer: NodeJS.Timeout | null = null;
    const arm = (ms: number): void => {
      if (timer) clearTimeout(timer);
      outcome.timeoutMs = ms;
      timer = setTimeout(() => {
        outcome.timedOut = true;
        child.kill('SIGKILL');
      }, ms);
    };
    // Until the first 'start' the bound covers node's start-up and loading the addon.
    arm(timeoutOf(specs[0], options));

    const handle = (line: string): void => {
      if (line.trim() === '') return;
      let message: ChildMessage;
      try {
        message = JSON.parse(line) as ChildMessage;
      } catch {
        outcome.garbage.push(line.slice(0, 200));
        return;
      }
      if (message.type === 'start') {
        outcome.runningId = message.id;
        outcome.runningSince = performance.now();
        arm(timeoutOf(byId.get(message.id), options));
      } else if (message.type === 'result') {
        const r = message.result;
        const id = outcome.runningId;
        if (!r || typeof r !== 'object' || r.id !== id || typeof r.status !== 'string') {
          outcome.garbage.push(line.slice(0, 200));
          return;
        }
        outcome.results.push(r);
        outcome.runningId = null;
        outcome.runningSince = null;
        const next = specs[specs.findIndex((s) => s.id === r.id) + 1];
        arm(timeoutOf(next, options));
      } else if (message.type === 'done') {
        outcome.done = true;
      }
    };

    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      outcome.stderr = (outcome.stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on('error', (err) => {
      outcome.spawnError = err.message;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (buffered) handle(buffered);
      outcome.exitCode = code;
      outcome.signal = signal;
      resolve(outcome);
    });
    child.stdin.on('error', () => {
      /* the child died before reading its request: reported through 'close' */
    });
    const request: ChildRequest = { probeIds: specs.map((s) => s.id), options, results: soFar };
    child.stdin.end(JSON.stringify(request));
  });
}

/** The failure result of the probe that was running (or about to run) when its child ended badly. */
function deathResult(spec: ProbeSpec, outcome: ChildOutcome): ProbeResult {
  const stderr = outcome.stderr.trim();
  const facts: Record<string, string | number | null | string[]> = {
    signal: outcome.signal,
    exitCode: outcome.exitCode,
  };
  if (stderr) facts.stderr = stderr;
  if (outcome.garbage.length) facts.unparsedOutput = outcome.garbage.slice(-5);
  let result: ProbeResult;
  if (outcome.timedOut) {
    facts.timeoutMs = outcome.timeoutMs;
    result = probeResult(spec, {
      status: 'fail',
      summary: `no answer within ${String(outcome.timeoutMs)} ms: the probe process was killed (SIGKILL)`,
      reason: 'PROBE_TIMEOUT',
      facts,
    });
  } else if (outcome.signal) {
    const reason = killedProbeReason(spec.id, outcome.signal);
    result = probeResult(spec, {
      status: 'fail',
      summary:
        reason === 'SECCOMP_BLOCKED'
          ? `the probe process was killed by ${outcome.signal} during io_uring setup: a seccomp filter kills io_uring_setup`
          : `the probe process died of ${outcome.signal}`,
      reason,
      facts,
    });
  } else {
    if (outcome.spawnError) facts.error = outcome.spawnError;
    const why = outcome.spawnError
      ? `could not start the probe process: ${outcome.spawnError}`
      : outcome.garbage.length
        ? 'the probe process wrote output that is not a result'
        : `the probe process exited with code ${String(outcome.exitCode)} without a result`;
    result = probeResult(spec, { status: 'fail', summary: why, reason: 'PROBE_ERROR', facts });
  }
  result.durationMs =
    outcome.runningSince !== null ? Math.round((performance.now() - outcome.runningSince) * 10) / 10 : 0;
  return result;
}

/** Run a contiguous run of kernel probes: one child, and a new one after each death, until every probe has a result. */
async function runKernelProbes(specs: ProbeSpec[], options: CheckOptions, results: Map<string, ProbeResult>): Promise<void> {
  let remaining = [...specs];
  while (remaining.length > 0) {
    // Probes whose dependency already failed are skipped here, without a process.
    const first = remaining[0]!;
    const skipped = dependencySkip(first, results);
    if (skipped) {
      results.set(first.id, skipped);
      remaining = remaining.slice(1);
      continue;
    }
    const outcome = await runChild(remaining, options, [...results.values()]);
    for (const r of outcome.results) results.set(r.id, r);
    remaining = remaining.filter((s) => !results.has(s.id));
    if (remaining.length === 0) break;
    // The child ended before finishing: the running probe (or, if none had started, the next one) takes the blame.
    const victim = remaining.find((s) => s.id === outcome.runningId) ?? remaining[0]!;
    results.set(victim.id, deathResult(victim, outcome));
    remaining = remaining.filter((s) => s.id !== victim.id);
  }
}

/** Run every probe of this check and build the report. Never throws for a probe's failure. */
export async function runCheck(options: CheckOptions): Promise<Report> {
  const startedAt = new Date();
  const started = performance.now();
  const specs = probesFor(options);
  const results = new Map<string, ProbeResult>();
  for (let i = 0; i < specs.length; ) {
    const spec = specs[i]!;
    if (!spec.kernel) {
      results.set(spec.id, await runProbe(spec, { options, results }));
      i++;
      continue;
    }
    let end = i;
    while (end < specs.length && specs[end]!.kernel) end++;
    await runKernelProbes(specs.slice(i, end), options, results);
    i = end;
  }
  const probes = specs.map((s) => results.get(s.id)!);
  const verdict = computeVerdict(probes);
  return {
    schemaVersion: 1,
    tool: toolInfo(),
    host: collectHostInfo(),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    verdict,
    exitCode: exitCodeFor(verdict),
    probes,
  };
}

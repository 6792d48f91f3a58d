// `check` orchestration: environment in-process, kernel probes in a child process (restarted after a death), the Report.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildMessage, ChildRequest } from './child/probe-child.js';
import { trackProbeChild } from './child-registry.js';
import type { ContextReport } from './context/service-context.js';
import { collectHostInfo, toolInfo } from './host.js';
import { probesFor } from './probes/index.js';
import { killedProbeReason } from './probes/reasons.js';
import { remediationInContext } from './probes/remediation.js';
import { dependencySkip, probeResult, runProbe, type ProbeDeathFacts } from './probes/result.js';
import type { CheckOptions, ProbeSpec } from './probes/spec.js';
import { probeChildCommand } from './runtime.js';
import { SEED_FINDINGS } from './seed/findings.js';
import type { ProbeResult, Report } from './types.js';
import { computeVerdict, exitCodeFor } from './verdict.js';

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
  /** what the breadcrumb page said after the child ended (native/breadcrumb.h) */
  lastSyscall: string | null;
  threadKilled: boolean;
}

/**
 * The breadcrumb page: a small file the child maps as fd 3 and writes the number of each syscall
 * its kernel code makes into, so that after a seccomp kill the parent can say which syscall it was.
 */
class Breadcrumb {
  private constructor(private readonly dir: string, private readonly path: string, readonly fd: number) {}

  /** A new page in a private temporary directory; null when none can be made (then kills are named without the syscall). */
  static open(): Breadcrumb | null {
    let dir: string | null = null;
    try {
      dir = mkdtempSync(join(tmpdir(), 'uring-probe-'));
      const path = join(dir, 'breadcrumb');
      writeFileSync(path, Buffer.alloc(4096), { mode: 0o600 });
      return new Breadcrumb(dir, path, openSync(path, 'r+'));
    } catch {
      if (dir) rmSync(dir, { recursive: true, force: true });
      return null;
    }
  }

  reset(): void {
    try {
      writeFileSync(this.path, Buffer.alloc(4096));
    } catch {
      /* a stale page only costs the syscall's name */
    }
  }

  read(): { lastSyscall: string | null; threadKilled: boolean } {
    let page: Buffer;
    try {
      page = readFileSync(this.path);
    } catch {
      return { lastSyscall: null, threadKilled: false };
    }
    if (page.length < 16 || page.readUInt32LE(0) !== BREADCRUMB_MAGIC) return { lastSyscall: null, threadKilled: false };
    const nr = page.readInt32LE(4);
    return { lastSyscall: nr < 0 ? null : syscallName(nr), threadKilled: page.readUInt32LE(12) === 1 };
  }

  dispose(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const BREADCRUMB_MAGIC = 0x75726e67;

/** Names of the syscalls the native wrappers record (syscalls.h), by the running architecture's numbers. */
const SYSCALL_NAMES: Record<string, Record<number, string>> = {
  x64: { 425: 'io_uring_setup', 426: 'io_uring_enter', 427: 'io_uring_register', 41: 'socket', 49: 'bind', 51: 'getsockname', 54: 'setsockopt', 44: 'sendto', 46: 'sendmsg', 47: 'recvmsg', 7: 'poll', 9: 'mmap' },
  arm64: { 425: 'io_uring_setup', 426: 'io_uring_enter', 427: 'io_uring_register', 198: 'socket', 200: 'bind', 204: 'getsockname', 208: 'setsockopt', 206: 'sendto', 211: 'sendmsg', 212: 'recvmsg', 73: 'ppoll', 222: 'mmap' },
};

export function syscallName(nr: number): string {
  return SYSCALL_NAMES[process.arch]?.[nr] ?? `syscall ${nr}`;
}

function timeoutOf(spec: ProbeSpec | undefined, options: CheckOptions): number {
  return spec?.timeoutMs ?? options.timeoutMs;
}

/** Run `specs` in order in one child; resolves when it exits (normally, by a signal, or killed at a time bound). */
function runChild(specs: ProbeSpec[], options: CheckOptions, soFar: ProbeResult[], crumb: Breadcrumb | null): Promise<ChildOutcome> {
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
      lastSyscall: null,
      threadKilled: false,
    };
    crumb?.reset();
    const byId = new Map(specs.map((s) => [s.id, s]));
    const childCommand = probeChildCommand(); // node dist/src/child/probe-child.js, or the single executable
    const child = spawn(childCommand.command, childCommand.args, { stdio: ['pipe', 'pipe', 'pipe', crumb ? crumb.fd : 'ignore'] }) as ChildProcessWithoutNullStreams;
    trackProbeChild(child); // the signal handler (src/cli/signals.ts) stops it with the CLI
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
      if (signal && crumb) Object.assign(outcome, crumb.read());
      resolve(outcome);
    });
    child.stdin.on('error', () => {
      /* the child died before reading its request: reported through 'close' */
    });
    const request: ChildRequest = { probeIds: specs.map((s) => s.id), options, results: soFar };
    // One line, and stdin stays open: the child takes its closing (this process gone, even by SIGKILL) as its cue to die.
    child.stdin.write(`${JSON.stringify(request)}\n`);
  });
}

/** The failure result of the probe that was running (or about to run) when its child ended badly. */
function deathResult(spec: ProbeSpec, outcome: ChildOutcome, options: CheckOptions, results: Map<string, ProbeResult>): ProbeResult {
  const stderr = outcome.stderr.trim();
  const facts: ProbeDeathFacts = {
    signal: outcome.signal,
    exitCode: outcome.exitCode,
  };
  if (outcome.signal) {
    facts.lastSyscall = outcome.lastSyscall;
    if (outcome.signal === 'SIGSYS') facts.seccompAction = outcome.threadKilled ? 'kill-thread' : 'kill-process';
  }
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
    const reason = killedProbeReason(spec.id, outcome.signal, outcome.lastSyscall);
    const where = outcome.lastSyscall ? ` in ${outcome.lastSyscall}` : '';
    const who = outcome.threadKilled ? 'its kernel thread (seccomp KILL_THREAD; the tool ended the probe process)' : 'the probe process';
    result = probeResult(spec, {
      status: 'fail',
      summary:
        reason === 'SECCOMP_BLOCKED'
          ? `${who} was killed by ${outcome.signal}${where}: a seccomp filter kills ${outcome.lastSyscall ?? 'an io_uring syscall'}`
          : `the probe process died of ${outcome.signal}${where}`,
      reason,
      errno: null,
      facts,
      remediation: remediationInContext(reason, options.context, results.get('environment')),
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
async function runKernelProbes(
  specs: ProbeSpec[],
  options: CheckOptions,
  results: Map<string, ProbeResult>,
  crumb: Breadcrumb | null,
): Promise<void> {
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
    const outcome = await runChild(remaining, options, [...results.values()], crumb);
    for (const r of outcome.results) results.set(r.id, r);
    remaining = remaining.filter((s) => !results.has(s.id));
    if (remaining.length === 0) break;
    // The child ended before finishing: the running probe (or, if none had started, the next one) takes the blame.
    const victim = remaining.find((s) => s.id === outcome.runningId) ?? remaining[0]!;
    results.set(victim.id, deathResult(victim, outcome, options, results));
    remaining = remaining.filter((s) => s.id !== victim.id);
  }
}

/** Run every probe of this check and build the report. Never throws for a probe's failure. */
export async function runCheck(options: CheckOptions, context?: ContextReport): Promise<Report> {
  const startedAt = new Date();
  const started = performance.now();
  const specs = probesFor(options);
  const results = new Map<string, ProbeResult>();
  const crumb = Breadcrumb.open();
  try {
    await runAll(specs, options, results, crumb);
  } finally {
    crumb?.dispose();
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
    ...(context ? { context } : {}),
    probes,
    seedFindings: SEED_FINDINGS.map((f) => f.id),
  };
}

async function runAll(specs: ProbeSpec[], options: CheckOptions, results: Map<string, ProbeResult>, crumb: Breadcrumb | null): Promise<void> {
  for (let i = 0; i < specs.length; ) {
    const spec = specs[i]!;
    if (!spec.kernel) {
      results.set(spec.id, await runProbe(spec, { options, results }));
      i++;
      continue;
    }
    let end = i;
    while (end < specs.length && specs[end]!.kernel) end++;
    await runKernelProbes(specs.slice(i, end), options, results, crumb);
    i = end;
  }
}

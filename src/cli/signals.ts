// SIGINT / SIGTERM / SIGHUP for the CLI: stop the probe children, remove half-written --output
// temporaries, give the terminal its cursor back, say so in one line on stderr, exit 130 / 143 / 129.
//
// The handler is synchronous from the signal to process.exit(): once it runs, the command's own
// code gets no further turn of the event loop, so it cannot restart a killed probe child, write a
// report to stdout, or rename a report into place behind it. The only exception is output that
// was already handed to stdout before the signal and is still draining into a slow pipe: that
// (complete) document is let finish, for a bounded time, rather than cut in half.
import { readFileSync, writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { closeProbeChildren } from '../child-registry.js';
import { removePendingTemporaries } from '../report/atomic-write.js';

/** The exit code for each handled signal: 128 + its number, as a shell reports a death by it. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

/** How long the probe children get to die of the forwarded signal before SIGKILL, and after it. */
const CHILD_GRACE_MS = 500;
const CHILD_KILL_WAIT_MS = 500;
/** How long output already handed to stdout before the signal gets to drain. */
const STDOUT_DRAIN_MS = 2000;

const SHOW_CURSOR = '\x1b[?25h';

let installed = false;
let handling: HandledSignal | null = null;

/** Install the handlers (once; later calls do nothing). */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as HandledSignal[]) {
    process.on(signal, () => onSignal(signal));
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Whether `pid` (a child of ours) has ended. While this handler runs the event loop cannot reap
 * it, so a dead child is a zombie: state Z (or X) in /proc/PID/stat; no such file: reaped, gone.
 * Unreadable otherwise: not known to be gone.
 */
function hasEnded(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Wait (synchronously, at most `ms`) until every pid has ended; returns those still running. */
function waitForEnd(pids: number[], ms: number): number[] {
  const deadline = performance.now() + ms;
  let running = pids.filter((pid) => !hasEnded(pid));
  while (running.length > 0 && performance.now() < deadline) {
    sleepSync(10);
    running = running.filter((pid) => !hasEnded(pid));
  }
  return running;
}

/**
 * Forward `signal` to every live probe child, give them CHILD_GRACE_MS to die of it, then SIGKILL
 * what is left and wait up to CHILD_KILL_WAIT_MS more. Never throws; bounded by the two waits.
 */
export function stopProbeChildren(signal: NodeJS.Signals): void {
  const pids = closeProbeChildren()
    .map((c: ChildProcess) => c.pid)
    .filter((pid): pid is number => typeof pid === 'number');
  if (pids.length === 0) return;
  signalAll(pids, signal);
  const left = waitForEnd(pids, CHILD_GRACE_MS);
  if (left.length === 0) return;
  signalAll(left, 'SIGKILL');
  waitForEnd(left, CHILD_KILL_WAIT_MS);
}

/** Write to stderr now (synchronously where the fd allows it); never throws. */
function stderrNow(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    try {
      process.stderr.write(text);
    } catch {
      /* nowhere left to say it */
    }
  }
}

/** From now on process.stdout.write drops what it is given (what was already queued still drains). */
function muteStdout(): void {
  const drop = (_chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  };
  try {
    process.stdout.write = drop as typeof process.stdout.write;
  } catch {
    /* not replaceable: the handler exits right after anyway */
  }
}

function onSignal(signal: HandledSignal): void {
  const code = SIGNAL_EXIT_CODES[signal];
  if (handling !== null) {
    // A second signal while a started document drains: stop waiting.
    process.exit(SIGNAL_EXIT_CODES[handling]);
  }
  handling = signal;
  // Whatever the command does from here on, the exit code is the signal's.
  process.exitCode = code;
  process.on('exit', () => {
    process.exitCode = code;
  });
  const draining = process.stdout.writableLength > 0;
  muteStdout();
  stopProbeChildren(signal);
  removePendingTemporaries();
  // cli-progress (bench) hides the cursor and draws its bar without a newline: show the cursor
  // again and clear the bar's line, whoever drew it.
  const tty = process.stderr.isTTY === true;
  const say = (what: string): void => stderrNow(`${tty ? `${SHOW_CURSOR}\r\x1b[K` : ''}uring-probe: interrupted (${signal}); ${what}\n`);
  if (!draining) {
    say('no report was written');
    process.exit(code);
  }
  // A document handed to stdout before the signal is still draining into its pipe: let it finish
  // (bounded), then say which way it went.
  const deadline = performance.now() + STDOUT_DRAIN_MS;
  let stdoutBroken = false;
  process.stdout.once('error', () => {
    stdoutBroken = true;
  });
  const poll = setInterval(() => {
    const flushed = process.stdout.writableLength === 0 && !stdoutBroken;
    if (!flushed && !stdoutBroken && performance.now() < deadline) return;
    clearInterval(poll);
    say(
      flushed
        ? 'the output already on its way to stdout was finished first'
        : `stdout's reader did not take the rest of the output within ${STDOUT_DRAIN_MS / 1000} s: it is incomplete`,
    );
    process.exit(code);
  }, 10);
}

// The probe child processes that are alive right now (src/check.ts spawns them), for the signal
// handler (src/cli/signals.ts) that must not leave one running when the CLI is interrupted.
// Side-effect free: importing it installs nothing.
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let closed = false;

/**
 * Track `child` until it exits. After closeProbeChildren() (the CLI is being interrupted) a new
 * child is not tracked but killed at once (SIGKILL), so that nothing is started behind the handler.
 */
export function trackProbeChild(child: ChildProcess): void {
  if (closed) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* never started */
    }
    return;
  }
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  live.add(child);
  const forget = (): void => {
    live.delete(child);
  };
  child.once('exit', forget);
  child.once('error', forget);
}

/** The tracked children that have not exited yet (as far as the event loop has seen). */
export function liveProbeChildren(): ChildProcess[] {
  return [...live];
}

/** Stop tracking: returns the live children, and from now on trackProbeChild() kills new ones. */
export function closeProbeChildren(): ChildProcess[] {
  closed = true;
  const children = [...live];
  live.clear();
  return children;
}

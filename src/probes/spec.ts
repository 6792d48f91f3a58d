// The contract every probe implements, and the options a check run passes to them.
import type { ContextApply } from '../context/service-context.js';
import type { ProbeResult } from '../types.js';

/** Options of one `check` run; plain data, so it can cross into the probe child process. */
export interface CheckOptions {
  /** upper bound for one kernel probe, in ms (the child is killed past it) */
  timeoutMs: number;
  /** run the throughput probe (false with --no-bench) */
  bench: boolean;
  /** duration of each throughput measurement, in ms */
  benchDurationMs: number;
  /** gate: fail the throughput probe below this many received packets/s (seed mode) */
  minPps: number | null;
  /** gate: fail the throughput probe when seed pps / syscall pps is below this */
  minRatio: number | null;
  /** the service's context the kernel probes run under (--user, --memlock, --seccomp-profile, --systemd-unit); null = as invoked */
  context: ContextApply | null;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  timeoutMs: 5000,
  bench: true,
  benchDurationMs: 600,
  minPps: null,
  minRatio: null,
  context: null,
};

export interface ProbeContext {
  options: CheckOptions;
  /** results of the probes that ran before this one, by id (environment always first) */
  results: ReadonlyMap<string, ProbeResult>;
}

export interface ProbeSpec {
  id: string;
  title: string;
  /** true: touches io_uring or sockets, so it runs in the probe child process */
  kernel: boolean;
  /** ids whose failure makes this probe a skip with reason DEPENDENCY_FAILED */
  dependsOn: string[];
  /** per-probe time bound override (ms), e.g. for the throughput probe */
  timeoutMs?: number;
  /** false: left out of this run (e.g. throughput with --no-bench) */
  enabled?(options: CheckOptions): boolean;
  run(ctx: ProbeContext): Promise<ProbeResult>;
}

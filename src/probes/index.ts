// The probe registry: every ProbeSpec of `check`, in the order they run (one line per probe).
import { cqeAlignmentProbe } from './cqe-alignment.js';
import { environmentProbe } from './environment.js';
import { loopbackProbe } from './loopback.js';
import { memlockProbe } from './memlock.js';
import { opcodesProbe } from './opcodes.js';
import { ringSetupProbe } from './ring-setup.js';
import { setupFlagsProbe } from './setup-flags.js';
import { singleIssuerProbe } from './single-issuer.js';
import { singleMmapProbe } from './single-mmap.js';
import { throughputProbe } from './throughput.js';
import type { CheckOptions, ProbeSpec } from './spec.js';
import { workerLimitProbe } from './worker-limit.js';

export const PROBES: readonly ProbeSpec[] = [
  environmentProbe,
  memlockProbe,
  ringSetupProbe,
  singleMmapProbe,
  cqeAlignmentProbe,
  workerLimitProbe,
  opcodesProbe,
  setupFlagsProbe,
  singleIssuerProbe,
  loopbackProbe,
  throughputProbe,
];

/** The probes of one run: those enabled by the options, in registry order. */
export function probesFor(options: CheckOptions): ProbeSpec[] {
  return PROBES.filter((p) => p.enabled?.(options) ?? true);
}

export function probeById(id: string): ProbeSpec | undefined {
  return PROBES.find((p) => p.id === id);
}

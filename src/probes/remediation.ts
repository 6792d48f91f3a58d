// Remediation for a refusal, in the terms of where the service runs: its systemd unit, its
// container profile or runtime, or the bare host (reasons.ts has the bare-host texts).
import { containerRemediation, type ContainerInfo, type ContainerRuntime } from '../context/container.js';
import type { ContextApply } from '../context/service-context.js';
import type { ProbeResult, ReasonCode } from '../types.js';
import { asRecord } from './result.js';
import { remediationFor } from './reasons.js';

const SYSCALLS = 'io_uring_setup, io_uring_enter and io_uring_register';

/** The container as the environment probe recorded it. */
export function containerFrom(environment: ProbeResult | undefined): ContainerInfo | null {
  const c = asRecord(environment?.facts.container);
  if (!c) return null;
  const detected = c.detected;
  return {
    inContainer: detected === true ? true : detected === false ? false : null,
    runtime: typeof c.runtime === 'string' ? (c.runtime as ContainerRuntime) : null,
    orchestrator: c.orchestrator === 'kubernetes' ? 'kubernetes' : null,
    cgroupVersion: c.cgroupVersion === 1 || c.cgroupVersion === 2 ? c.cgroupVersion : null,
    cgroupPath: null,
    containerId: typeof c.containerId === 'string' ? c.containerId : null,
    evidence: Array.isArray(c.hints) ? c.hints.filter((h): h is string => typeof h === 'string') : [],
    cannotTell: typeof c.cannotTell === 'string' ? c.cannotTell : null,
  };
}

function seccompRemediation(context: ContextApply | null, container: ContainerInfo | null): string | null {
  if (context?.seccompSource === 'systemd-unit') {
    return (
      `The unit's SystemCallFilter= (${context.seccompPath ?? 'the unit'}) does not allow ${SYSCALLS}. ` +
      'Add `SystemCallFilter=io_uring_setup io_uring_enter io_uring_register` (or @aio, which has them on systemd 252) in a drop-in ' +
      '(systemctl edit UNIT), and remove them from any ~ deny list.'
    );
  }
  if (context?.seccompSource === 'oci-profile') {
    const path = context.seccompPath ?? 'PROFILE.json';
    // Probing a container's profile from the host: give the container forms anyway.
    const info: ContainerInfo = container?.inContainer
      ? container
      : { inContainer: null, runtime: null, orchestrator: null, cgroupVersion: null, cgroupPath: null, containerId: null, evidence: [], cannotTell: null };
    const how = (containerRemediation(info, 'seccomp') ?? '')
      .replace(/^Could not tell whether this is a container; if it is:\s*/, '')
      .replaceAll('<current profile>', path);
    return `The seccomp profile ${path} does not allow ${SYSCALLS}. ${how}`.trim();
  }
  if (container && container.inContainer !== false) return containerRemediation(container, 'seccomp');
  return null;
}

/** The remediation text for `reason`, for where this service runs; null = none. */
export function remediationInContext(
  reason: ReasonCode | null,
  context: ContextApply | null,
  environment: ProbeResult | undefined,
  memlock?: ProbeResult,
): string | null {
  const base = remediationFor(reason);
  const container = containerFrom(environment);
  switch (reason) {
    case 'SECCOMP_BLOCKED':
      return seccompRemediation(context, container) ?? base;
    case 'MEMLOCK_LIMIT':
    case 'RING_SHRUNK':
    case 'POOL_TRUNCATED': {
      const measured = memlock?.remediation && memlock.status !== 'pass' ? memlock.remediation : base;
      const there = container && container.inContainer === true ? containerRemediation(container, 'memlock') : null;
      return there ? `${measured} ${there}` : measured;
    }
    case 'SYSCTL_DISABLED':
    case 'NOT_IN_GROUP': {
      const there = container && container.inContainer === true ? containerRemediation(container, 'sysctl') : null;
      return there ? `${base} ${there}` : base;
    }
    case 'SANDBOX_BLOCKED':
    case 'NOT_BUILT': {
      const there = container ? containerRemediation(container, 'sandbox') : null;
      return there ?? base;
    }
    default:
      return base;
  }
}

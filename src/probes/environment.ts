// Probe `environment`: kernel, distribution, container/VM hints, seccomp, io_uring sysctls, identity, caps, memlock, LSMs.
import { existsSync } from 'node:fs';
import { machine, release, version } from 'node:os';
import { readDistribution, readTextOrNull } from '../host.js';
import type { Facts, FactValue, ProbeResult } from '../types.js';
import type { RefusalContext } from './reasons.js';
import { asNumber, asRecord, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';
import { CAPABILITY_NAMES, decodeCapabilities } from '../context/capabilities.js';
import { detectContainer } from '../context/container.js';
import type { ContextApply } from '../context/service-context.js';

export { decodeCapabilities };

/** `Key:\tvalue` lines of /proc/self/status. */
function procStatus(): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of (readTextOrNull('/proc/self/status') ?? '').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) map.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return map;
}

function intOrNull(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const n = Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) ? n : null;
}

function sysctl(name: string): number | null {
  return intOrNull(readTextOrNull(`/proc/sys/${name.replace(/\./g, '/')}`));
}

/** RLIMIT_MEMLOCK soft/hard in bytes ('unlimited' kept as a string), from /proc/self/limits. */
function memlockLimits(): { soft: number | string | null; hard: number | string | null } {
  const line = (readTextOrNull('/proc/self/limits') ?? '').split('\n').find((l) => l.startsWith('Max locked memory'));
  if (!line) return { soft: null, hard: null };
  const fields = line.slice('Max locked memory'.length).trim().split(/\s+/);
  const parse = (v: string | undefined): number | string | null =>
    v === undefined ? null : v === 'unlimited' ? 'unlimited' : intOrNull(v);
  return { soft: parse(fields[0]), hard: parse(fields[1]) };
}

function vmHints(): string[] {
  const hints: string[] = [];
  const cpuinfo = readTextOrNull('/proc/cpuinfo') ?? '';
  if (/^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) hints.push('cpuinfo flag hypervisor');
  for (const f of ['sys_vendor', 'product_name']) {
    const v = readTextOrNull(`/sys/class/dmi/id/${f}`)?.trim();
    if (v && /(kvm|qemu|vmware|virtualbox|xen|microsoft|amazon ec2|google|bochs|hyper-v|openstack|firecracker)/i.test(v)) {
      hints.push(`dmi ${f}: ${v}`);
    }
  }
  if (existsSync('/proc/xen')) hints.push('/proc/xen exists');
  if (existsSync('/sys/hypervisor/type')) {
    const t = readTextOrNull('/sys/hypervisor/type')?.trim();
    if (t) hints.push(`/sys/hypervisor/type: ${t}`);
  }
  return hints;
}

/** Active LSMs from securityfs, else inferred from SELinux/AppArmor files; null when we cannot tell. */
function activeLsms(): { lsms: string[] | null; source: string } {
  const listed = readTextOrNull('/sys/kernel/security/lsm');
  if (listed !== null) return { lsms: listed.trim().split(',').filter(Boolean), source: '/sys/kernel/security/lsm' };
  const inferred: string[] = [];
  let known = false;
  const enforce = readTextOrNull('/sys/fs/selinux/enforce');
  if (enforce !== null) {
    known = true;
    inferred.push('selinux');
  }
  const apparmor = readTextOrNull('/sys/module/apparmor/parameters/enabled');
  if (apparmor !== null) {
    known = true;
    if (apparmor.trim() === 'Y') inferred.push('apparmor');
  }
  return known ? { lsms: inferred, source: 'inferred' } : { lsms: null, source: 'securityfs not mounted' };
}

/** RLIMIT_MEMLOCK in bytes, or 'unlimited'; null when /proc/self/limits could not tell. */
export type MemlockLimit = number | string | null;

/** Who the kernel probes run as, when a service context changed it: the invoking shell's values. */
export type InvokerFacts = {
  uid: number | null;
  gid: number | null;
  groups: number[];
  capabilities: string[] | null;
  seccompMode: number | null;
  memlockSoft: MemlockLimit;
  memlockHard: MemlockLimit;
};

/** Facts of the `environment` probe. */
export type EnvironmentFacts = {
  kernelRelease: string;
  kernelVersion: string;
  arch: string;
  distribution: string | null;
  container: {
    /** null: cannot tell */
    detected: boolean | null;
    runtime: string | null;
    orchestrator: string | null;
    cgroupVersion: number | null;
    containerId: string | null;
    hints: string[];
    cannotTell: string | null;
  };
  vm: { detected: boolean | null; hints: string[] };
  /** Seccomp: of /proc/self/status (0 none, 1 strict, 2 filter), the service's when a filter is applied */
  seccompMode: number | null;
  seccompFilters: number | null;
  ioUringDisabled: number | null;
  ioUringGroup: number | null;
  ioUringSysctls: string;
  uid: number | null;
  gid: number | null;
  groups: number[];
  capEff: string | null;
  capabilities: string[] | null;
  memlockSoft: MemlockLimit;
  memlockHard: MemlockLimit;
  lsms: string[] | null;
  lsmSource: string;
  selinuxEnforce: number | null;
  apparmorEnabled: boolean | null;
  selinuxContext: string | null;
  invoker?: InvokerFacts;
};

function capsFromMask(mask: string): string[] {
  const m = BigInt(mask);
  return CAPABILITY_NAMES.filter((_, bit) => (m >> BigInt(bit)) & 1n);
}

/**
 * Collect every environment fact; plain data, "could not tell" is null. With a service context
 * (--user, --memlock, --seccomp-profile, --systemd-unit) the identity, capability, memlock and
 * seccomp facts are the service's, as its kernel thread will have them; the invoking shell's are
 * kept under `invoker`.
 */
export function collectEnvironmentFacts(context: ContextApply | null = null): EnvironmentFacts {
  const status = procStatus();
  const capEff = status.get('CapEff') ?? null;
  const groups = (status.get('Groups') ?? '').split(/\s+/).filter(Boolean).map(Number);
  const ioUringDisabled = sysctl('kernel.io_uring_disabled');
  const ioUringGroup = sysctl('kernel.io_uring_group');
  const sysctlPresent = existsSync('/proc/sys/kernel/io_uring_disabled');
  const { soft, hard } = memlockLimits();
  const { lsms, source } = activeLsms();
  const container = detectContainer();
  const vm = vmHints();
  const selinuxEnforce = intOrNull(readTextOrNull('/sys/fs/selinux/enforce'));
  const apparmorEnabled = readTextOrNull('/sys/module/apparmor/parameters/enabled');
  const selinuxContext = selinuxEnforce !== null ? readTextOrNull('/proc/self/attr/current')?.replace(/\0/g, '').trim() ?? null : null;
  const facts: EnvironmentFacts = {
    kernelRelease: release(),
    kernelVersion: version(),
    arch: machine(),
    distribution: readDistribution(),
    container: {
      detected: container.inContainer,
      runtime: container.runtime,
      orchestrator: container.orchestrator,
      cgroupVersion: container.cgroupVersion,
      containerId: container.containerId,
      hints: container.evidence,
      cannotTell: container.cannotTell,
    },
    vm: { detected: vm.length > 0 ? true : null, hints: vm },
    seccompMode: intOrNull(status.get('Seccomp')),
    seccompFilters: intOrNull(status.get('Seccomp_filters')),
    ioUringDisabled,
    ioUringGroup,
    ioUringSysctls: sysctlPresent ? 'present' : 'not on this kernel (< 6.6)',
    uid: process.getuid?.() ?? null,
    gid: process.getgid?.() ?? null,
    groups,
    capEff,
    capabilities: capEff !== null ? decodeCapabilities(capEff) : null,
    memlockSoft: soft,
    memlockHard: hard,
    lsms,
    lsmSource: source,
    selinuxEnforce,
    apparmorEnabled: apparmorEnabled === null ? null : apparmorEnabled.trim() === 'Y',
    selinuxContext,
  };
  if (context) {
    facts.invoker = {
      uid: facts.uid,
      gid: facts.gid,
      groups: facts.groups,
      capabilities: facts.capabilities,
      seccompMode: facts.seccompMode,
      memlockSoft: facts.memlockSoft,
      memlockHard: facts.memlockHard,
    };
    if (context.ids) {
      facts.uid = context.ids.uid;
      facts.gid = context.ids.gid;
      facts.groups = context.ids.groups;
    }
    if (context.capsMask !== null) {
      facts.capEff = BigInt(context.capsMask).toString(16).padStart(16, '0');
      facts.capabilities = capsFromMask(context.capsMask);
    }
    if (context.bpfBase64 !== null) {
      facts.seccompMode = 2;
      facts.seccompFilters = (facts.seccompFilters ?? 0) + 1;
    }
    if (context.memlock) {
      const n = (v: string): number | string => (v === 'infinity' ? 'unlimited' : Number(v));
      facts.memlockSoft = n(context.memlock.soft);
      facts.memlockHard = n(context.memlock.hard);
    }
  }
  return facts;
}

/** The view reasons.ts needs, read back from the environment probe's facts. */
export function refusalContextFrom(environment: ProbeResult | undefined): RefusalContext {
  const f = environment?.facts ?? {};
  return {
    ioUringDisabled: asNumber(f.ioUringDisabled),
    ioUringGroup: asNumber(f.ioUringGroup),
    gid: asNumber(f.gid),
    groups: Array.isArray(f.groups) ? f.groups.filter((g): g is number => typeof g === 'number') : [],
    capabilities: Array.isArray(f.capabilities) ? f.capabilities.filter((c): c is string => typeof c === 'string') : null,
    seccompMode: asNumber(f.seccompMode),
  };
}

function describe(facts: Facts): { status: 'pass' | 'warn'; summary: string } {
  const parts = [`Linux ${String(facts.kernelRelease)} ${String(facts.arch)}`];
  const container = asRecord(facts.container);
  const vm = asRecord(facts.vm);
  if (container?.detected === true) {
    const runtime = typeof container.runtime === 'string' ? container.runtime : null;
    const orchestrator = typeof container.orchestrator === 'string' ? container.orchestrator : null;
    parts.push(`container${runtime ? ` (${[runtime, orchestrator].filter(Boolean).join(', ')})` : ', runtime unknown'}`);
  }
  if (vm?.detected === true) parts.push('VM');
  const seccomp = asNumber(facts.seccompMode);
  parts.push(seccomp === null ? 'seccomp unknown' : seccomp === 2 ? `seccomp filter (${String(facts.seccompFilters)})` : seccomp === 1 ? 'seccomp strict' : 'no seccomp');
  const disabled = asNumber(facts.ioUringDisabled);
  parts.push(disabled === null ? 'no io_uring_disabled sysctl' : `io_uring_disabled=${disabled}`);
  const soft = facts.memlockSoft;
  parts.push(`memlock ${typeof soft === 'number' ? `${Math.round(soft / 1024)} KiB` : String(soft)}`);
  if (disabled === 2) return { status: 'warn', summary: `${parts.join(', ')}: io_uring is disabled by sysctl` };
  return { status: 'pass', summary: parts.join(', ') };
}

export const environmentProbe: ProbeSpec = {
  id: 'environment',
  title: 'Host environment',
  kernel: false,
  dependsOn: [],
  async run(ctx): Promise<ProbeResult> {
    const facts = collectEnvironmentFacts(ctx.options.context);
    const { status, summary } = describe(facts);
    return probeResult(environmentProbe, {
      status,
      summary,
      reason: status === 'warn' ? 'SYSCTL_DISABLED' : null,
      facts,
    });
  },
};

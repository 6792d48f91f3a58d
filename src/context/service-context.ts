// The service's context that `check` probes under (--user, --group, --groups, --memlock,
// --seccomp-profile, --systemd-unit): resolved once in the parent into plain data. `apply` goes to
// the probe child (which applies it to its kernel thread, native/run_context.h); `report` goes
// into the report's `context` object.
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { errnoName } from '../errno.js';
import { readTextOrNull } from '../host.js';
import { loadAddon } from '../native.js';
import { CAPABILITY_NAMES, decodeCapabilities } from './capabilities.js';
import { UsageError } from '../usage-error.js';
import { detectContainer, type ContainerInfo } from './container.js';
import { describeAction, type FilterSpec, type SyscallVerdict } from './filter-spec.js';
import { ioUringVerdicts, loadSeccompProfile } from './seccomp-profile.js';
import { loadSystemdUnit, type UnitContext } from './systemd-unit.js';

/** What the command line asked for (all optional; none = the tool's own context). */
export interface ServiceContextRequest {
  user?: string;
  group?: string;
  groups?: string;
  memlock?: string;
  seccompProfile?: string;
  systemdUnit?: string;
}

/** What the probe child applies to its kernel thread and process. Plain data. */
export interface ContextApply {
  ids: { uid: number; gid: number; groups: number[]; name: string | null } | null;
  /** effective = permitted capability mask, decimal u64; null = leave as the tool runs */
  capsMask: string | null;
  /** compiled seccomp program (struct sock_filter[]) in base64; null = no filter */
  bpfBase64: string | null;
  /** RLIMIT_MEMLOCK in bytes (decimal) or 'infinity'; null = inherited */
  memlock: { soft: string; hard: string } | null;
  /** where the filter came from, for remediation text */
  seccompSource: 'oci-profile' | 'systemd-unit' | null;
  seccompPath: string | null;
}

export interface SeccompContextReport {
  source: 'oci-profile' | 'systemd-unit';
  path: string;
  defaultAction: string;
  defaultOrigin: string;
  ioUring: Array<{ syscall: string; action: string; by: SyscallVerdict['by']; rules: string[]; otherwise: string | null }>;
  applied: boolean;
  library: string | null;
  unknownSyscalls: string[];
  skipped: string[];
  notes: string[];
}

/** The report's `context` object. */
export interface ContextReport {
  /** true: no option put the probe in another context; it ran as the tool was invoked */
  asInvoked: boolean;
  user: { name: string | null; uid: number; gid: number; groups: number[]; source: string };
  capabilities: string[] | null;
  memlock: { soft: number | 'infinity'; hard: number | 'infinity'; source: string } | null;
  seccomp: SeccompContextReport | null;
  systemdUnit: {
    path: string;
    dropIns: string[];
    user: string | null;
    group: string | null;
    supplementaryGroups: string[];
    limitMemlock: string | null;
    systemCallFilter: string[];
    noNewPrivileges: boolean | null;
    ambientCapabilities: string[] | null;
    capabilityBoundingSet: string[] | null;
    notes: string[];
  } | null;
  container: ContainerInfo;
  notes: string[];
}

export interface ResolvedContext {
  apply: ContextApply;
  report: ContextReport;
}

// ---------------------------------------------------------------------------
// users and groups, through NSS (getent), so LDAP/SSSD users resolve as the service's would
// ---------------------------------------------------------------------------
interface PasswdEntry { name: string; uid: number; gid: number }

function getent(db: 'passwd' | 'group', key: string): string[] | null {
  try {
    const out = execFileSync('getent', [db, key], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const line = out.split('\n').find((l) => l.trim() !== '');
    return line ? line.split(':') : null;
  } catch {
    return null; // exit 2: not found (and getent missing: the same for us)
  }
}

const ID_PATTERN = /^\d{1,10}$/;

function passwdEntry(spec: string): PasswdEntry | null {
  const f = getent('passwd', spec);
  if (!f || f.length < 4) return null;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  return Number.isInteger(uid) && Number.isInteger(gid) ? { name: f[0]!, uid, gid } : null;
}

function groupId(spec: string, option: string): number {
  const f = getent('group', spec);
  if (f && f.length >= 3 && Number.isInteger(Number(f[2]))) return Number(f[2]);
  if (ID_PATTERN.test(spec)) return Number(spec);
  throw new UsageError(`${option} '${spec}' is not a group of this host`, 'give a group name from /etc/group or a numeric gid');
}

/** Supplementary groups as the login would get them (initgroups), through `id -G`. */
function initGroups(name: string): number[] {
  try {
    const out = execFileSync('id', ['-G', name], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim().split(/\s+/).filter(Boolean).map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// memlock values: bytes with an optional K/M/G/T suffix (1024-based, as systemd and prlimit), or infinity
// ---------------------------------------------------------------------------
export function parseMemlock(value: string, option = '--memlock'): bigint | 'infinity' {
  const v = value.trim();
  if (/^(infinity|unlimited)$/i.test(v)) return 'infinity';
  const m = /^(\d{1,19})\s*([KMGT]i?B?|B)?$/i.exec(v);
  if (!m) {
    throw new UsageError(`${option} '${value}' is not a size`, `give bytes (65536), a size with K, M or G (64K, 8M), or infinity`);
  }
  const unit = (m[2] ?? '').toUpperCase().charAt(0);
  const shift = ({ '': 0n, B: 0n, K: 10n, M: 20n, G: 30n, T: 40n } as Record<string, bigint>)[unit] ?? 0n;
  const bytes = BigInt(m[1]!) << shift;
  if (bytes > 0xffff_ffff_ffff_fffen) throw new UsageError(`${option} '${value}' is too large`, 'give at most 16 EiB, or infinity');
  return bytes;
}

function memlockString(v: bigint | 'infinity'): string {
  return v === 'infinity' ? 'infinity' : v.toString();
}

function memlockNumber(v: string): number | 'infinity' {
  return v === 'infinity' ? 'infinity' : Number(v);
}

/** The hard RLIMIT_MEMLOCK of this process, from /proc/self/limits. */
function ownMemlockHard(): bigint | 'infinity' {
  const line = (readTextOrNull('/proc/self/limits') ?? '').split('\n').find((l) => l.startsWith('Max locked memory'));
  const hard = line?.slice('Max locked memory'.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === 'unlimited' || !/^\d+$/.test(hard) ? 'infinity' : BigInt(hard);
}

// ---------------------------------------------------------------------------
// capabilities
// ---------------------------------------------------------------------------
function capsMask(names: string[]): string {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITY_NAMES.indexOf(name);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask.toString();
}

/** The capabilities a systemd service ends up with (systemd.exec(5)): root keeps the bounding set; others only ambient ∩ bounding. */
function unitCapabilities(unit: UnitContext, uid: number): string[] {
  const bounding = unit.capabilityBoundingSet ?? [...CAPABILITY_NAMES];
  if (uid === 0) return bounding.filter((c) => CAPABILITY_NAMES.includes(c));
  const ambient = unit.ambientCapabilities ?? [];
  return ambient.filter((c) => bounding.includes(c));
}

function currentCapabilities(set: 'CapEff' | 'CapBnd' = 'CapEff'): string[] {
  const m = new RegExp(`^${set}:\\s*([0-9a-f]+)`, 'm').exec(readTextOrNull('/proc/self/status') ?? '');
  return m ? decodeCapabilities(m[1]!) : [];
}

// ---------------------------------------------------------------------------
// seccomp
// ---------------------------------------------------------------------------
function compileFilter(spec: FilterSpec, optionName: string): { bpfBase64: string; report: Omit<SeccompContextReport, 'source' | 'path' | 'defaultAction' | 'defaultOrigin' | 'ioUring' | 'notes'> } {
  const compiled = loadAddon().compileSeccomp(spec);
  if (compiled.res < 0 || !compiled.bpf) {
    const missing = compiled.res === -2;
    throw new UsageError(
      `${optionName} ${spec.path}: the filter could not be compiled (${compiled.error || errnoName(compiled.res)})`,
      missing
        ? 'install libseccomp (Debian/Ubuntu: apt-get install libseccomp2; RHEL: dnf install libseccomp), which applies it as container runtimes do'
        : 'fix the profile: the same error would stop the container runtime',
    );
  }
  return {
    bpfBase64: compiled.bpf.toString('base64'),
    report: { applied: true, library: compiled.library || null, unknownSyscalls: compiled.unknownSyscalls, skipped: compiled.skipped },
  };
}

function seccompReport(spec: FilterSpec, compiled: ReturnType<typeof compileFilter>['report']): SeccompContextReport {
  return {
    source: spec.source,
    path: spec.path,
    defaultAction: describeAction(spec.defaultAction, errnoName),
    defaultOrigin: spec.defaultOrigin,
    ioUring: ioUringVerdicts(spec).map((v) => ({
      syscall: v.syscall,
      action: describeAction(v.action, errnoName),
      by: v.by,
      rules: v.rules,
      otherwise: v.otherwise ? describeAction(v.otherwise, errnoName) : null,
    })),
    ...compiled,
    notes: spec.notes,
  };
}

// ---------------------------------------------------------------------------
// the whole context
// ---------------------------------------------------------------------------
function requested(req: ServiceContextRequest): boolean {
  return Object.values(req).some((v) => v !== undefined);
}

/** Resolve the command line into what the child applies and what the report says. Throws UsageError. */
export function resolveServiceContext(req: ServiceContextRequest): ResolvedContext {
  const notes: string[] = [];
  const isRoot = process.getuid?.() === 0;
  const unit = req.systemdUnit !== undefined ? loadSystemdUnit(req.systemdUnit) : null;

  // Who: --user beats the unit's User=; --group/--groups beat Group=/SupplementaryGroups=.
  const userSpec = req.user ?? unit?.user ?? undefined;
  const userSource = req.user !== undefined ? '--user' : unit?.user ? `User= of ${unit.path}` : 'as invoked';
  let ids: ContextApply['ids'] = null;
  let userReport: ContextReport['user'];
  if (userSpec !== undefined || req.group !== undefined || req.groups !== undefined || unit?.group || (unit?.supplementaryGroups.length ?? 0) > 0) {
    if (!isRoot) {
      throw new UsageError(
        `${req.user !== undefined ? '--user' : req.systemdUnit !== undefined ? '--systemd-unit with User=/Group=' : '--group/--groups'} needs root: the probe switches its kernel thread to that user`,
        'run it with sudo, or leave the option out to probe as yourself',
      );
    }
    let entry: PasswdEntry | null = null;
    if (userSpec !== undefined) {
      entry = passwdEntry(userSpec);
      if (!entry && !ID_PATTERN.test(userSpec)) {
        throw new UsageError(`${userSource} '${userSpec}' is not a user of this host`, 'give a user name from /etc/passwd (getent passwd) or a numeric uid');
      }
    }
    const uid = entry?.uid ?? (userSpec !== undefined ? Number(userSpec) : process.getuid!());
    const groupSpec = req.group ?? unit?.group ?? undefined;
    let gid: number;
    if (groupSpec !== undefined) gid = groupId(groupSpec, req.group !== undefined ? '--group' : 'Group=');
    else if (entry) gid = entry.gid;
    else if (userSpec !== undefined) {
      throw new UsageError(`uid ${userSpec} has no passwd entry, so its group is unknown`, 'add --group GROUP');
    } else gid = process.getgid!();
    let groups: number[];
    if (req.groups !== undefined) {
      groups = req.groups.split(',').map((g) => g.trim()).filter(Boolean).map((g) => groupId(g, '--groups'));
    } else {
      groups = entry ? initGroups(entry.name) : [];
      for (const g of unit?.supplementaryGroups ?? []) groups.push(groupId(g, 'SupplementaryGroups='));
    }
    if (!groups.includes(gid)) groups.unshift(gid);
    groups = [...new Set(groups)];
    ids = { uid, gid, groups, name: entry?.name ?? null };
    userReport = { name: entry?.name ?? null, uid, gid, groups, source: userSource };
  } else {
    userReport = {
      name: passwdEntry(String(process.getuid?.() ?? -1))?.name ?? null,
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
      groups: process.getgroups?.() ?? [],
      source: 'as invoked',
    };
  }
  if (unit?.dynamicUser) notes.push('DynamicUser=yes: systemd allocates a uid at start; probed as the given or invoking user instead');

  // Capabilities: from the unit; a non-root --user has none (no file capabilities: we do not exec).
  let capabilities: string[] | null = null;
  if (unit && (unit.ambientCapabilities !== null || unit.capabilityBoundingSet !== null || ids)) {
    capabilities = unitCapabilities(unit, ids?.uid ?? process.getuid!());
  } else if (ids && ids.uid !== 0) {
    capabilities = [];
  }
  if (capabilities !== null) {
    // A thread can only keep capabilities the tool itself holds.
    const held = currentCapabilities();
    const lacking = capabilities.filter((c) => !held.includes(c));
    if (lacking.length) notes.push(`the service would hold ${lacking.join(', ')}, which this tool does not: probed without them`);
    capabilities = capabilities.filter((c) => held.includes(c));
  }

  // Memlock: --memlock beats LimitMEMLOCK=.
  let memlock: ContextApply['memlock'] = null;
  let memlockReport: ContextReport['memlock'] = null;
  if (req.memlock !== undefined) {
    const v = memlockString(parseMemlock(req.memlock));
    memlock = { soft: v, hard: v };
    memlockReport = { soft: memlockNumber(v), hard: memlockNumber(v), source: '--memlock' };
  } else if (unit?.memlock) {
    memlock = { soft: memlockString(unit.memlock.soft), hard: memlockString(unit.memlock.hard) };
    memlockReport = { soft: memlockNumber(memlock.soft), hard: memlockNumber(memlock.hard), source: `LimitMEMLOCK= of ${unit.path}` };
  }
  if (memlock && memlock.soft !== 'infinity' && memlock.hard !== 'infinity' && BigInt(memlock.soft) > BigInt(memlock.hard)) {
    throw new UsageError('the memlock soft limit is above the hard limit', 'give soft <= hard');
  }
  if (memlock && memlockReport) {
    // Raising a hard limit needs CAP_SYS_RESOURCE. Without it (some containers' root), keep our
    // hard limit: the kernel checks ring memory against the soft limit only.
    const ownHard = ownMemlockHard();
    const above = (v: string): boolean => ownHard !== 'infinity' && (v === 'infinity' || BigInt(v) > ownHard);
    if (above(memlock.hard) && !currentCapabilities().includes('CAP_SYS_RESOURCE')) {
      if (above(memlock.soft)) {
        throw new UsageError(
          `the memlock limit ${memlock.soft} is above this tool's own hard limit (${String(ownHard)} bytes), and raising it needs CAP_SYS_RESOURCE, which this tool does not hold`,
          'run it where root holds CAP_SYS_RESOURCE, or probe with a limit up to the hard limit',
        );
      }
      notes.push(`memlock hard limit kept at ${String(ownHard)} bytes instead of ${memlock.hard}: raising it needs CAP_SYS_RESOURCE; the kernel checks the soft limit`);
      memlock = { soft: memlock.soft, hard: String(ownHard) };
      memlockReport.hard = Number(ownHard);
    }
  }

  // Seccomp: a profile, or the unit's SystemCallFilter= (one filter: the two do not come together in practice).
  let seccomp: SeccompContextReport | null = null;
  let bpfBase64: string | null = null;
  // Docker and runc judge a profile's includes/excludes.caps by the container's BOUNDING set (moby
  // setupSeccomp), whatever the user: ours, or the unit's CapabilityBoundingSet=.
  const filterCaps = unit?.capabilityBoundingSet ?? currentCapabilities('CapBnd');
  if (req.seccompProfile !== undefined && unit?.systemCallFilter) {
    throw new UsageError('both --seccomp-profile and a unit with SystemCallFilter= were given', 'give one of them: a container profile or the systemd unit');
  }
  if (req.seccompProfile !== undefined) {
    const spec = loadSeccompProfile(req.seccompProfile, { arch: process.arch, kernelRelease: release(), capabilities: filterCaps });
    const compiled = compileFilter(spec, '--seccomp-profile');
    bpfBase64 = compiled.bpfBase64;
    seccomp = seccompReport(spec, compiled.report);
  } else if (unit?.systemCallFilter) {
    const compiled = compileFilter(unit.systemCallFilter, '--systemd-unit');
    bpfBase64 = compiled.bpfBase64;
    seccomp = seccompReport(unit.systemCallFilter, compiled.report);
  }

  return {
    apply: {
      ids,
      capsMask: capabilities !== null ? capsMask(capabilities) : null,
      bpfBase64,
      memlock,
      seccompSource: seccomp?.source ?? null,
      seccompPath: seccomp?.path ?? null,
    },
    report: {
      asInvoked: !requested(req),
      user: userReport,
      capabilities,
      memlock: memlockReport,
      seccomp,
      systemdUnit: unit
        ? {
            path: unit.path,
            dropIns: unit.dropIns,
            user: unit.user,
            group: unit.group,
            supplementaryGroups: unit.supplementaryGroups,
            limitMemlock: unit.memlock ? `${memlockString(unit.memlock.soft)}:${memlockString(unit.memlock.hard)}` : null,
            systemCallFilter: unit.systemCallFilterLines,
            noNewPrivileges: unit.noNewPrivileges,
            ambientCapabilities: unit.ambientCapabilities,
            capabilityBoundingSet: unit.capabilityBoundingSet,
            notes: unit.notes,
          }
        : null,
      container: detectContainer(),
      notes,
    },
  };
}

/** The context of a run without options: nothing to apply. */
export function invokedContext(): ResolvedContext {
  return resolveServiceContext({});
}

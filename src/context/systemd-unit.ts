// A systemd service unit, read the way systemd 252 reads it, reduced to what decides whether the
// service can use io_uring: identity (User=, Group=, SupplementaryGroups=, DynamicUser=),
// LimitMEMLOCK=, NoNewPrivileges=, the capability sets, and the seccomp filter built from
// SystemCallFilter= / SystemCallErrorNumber= (as a normalised FilterSpec, see filter-spec.ts).
//
// Sources (systemd 252, Debian 12): systemd.exec(5), systemd.unit(5), systemd.syntax(7), and
// where the man page is silent, systemd's own parser (src/core/load-fragment.c
// config_parse_syscall_filter, src/shared/seccomp-util.c seccomp_parse_syscall_filter,
// src/core/execute.c apply_syscall_filter). What this module does not reproduce is said in
// UnitContext.notes rather than silently dropped.
import { CAPABILITY_NAMES } from './capabilities.js';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { MiB, readRegularFile } from '../bounded-read.js';
import { basename, dirname, join, resolve } from 'node:path';
import { errnoNumber } from '../errno.js';
import { UsageError } from '../usage-error.js';
import type { FilterRule, FilterSpec, SeccompAction } from './filter-spec.js';

export interface UnitContext {
  /** the unit file read */
  path: string;
  /** drop-in files applied, in order */
  dropIns: string[];
  /** User= (null: not set, i.e. root, or DynamicUser=) */
  user: string | null;
  /** Group= */
  group: string | null;
  /** SupplementaryGroups= (accumulates; an empty assignment resets) */
  supplementaryGroups: string[];
  /** DynamicUser= (reported; an allocated uid cannot be reproduced) */
  dynamicUser: boolean;
  /** LimitMEMLOCK= in bytes; null = not set (the service inherits systemd's DefaultLimitMEMLOCK=) */
  memlock: { soft: bigint | 'infinity'; hard: bigint | 'infinity' } | null;
  /** NoNewPrivileges= as written; null = not set (see notes for when systemd implies it) */
  noNewPrivileges: boolean | null;
  /** AmbientCapabilities= ('CAP_…' names in capability-number order); null = not set */
  ambientCapabilities: string[] | null;
  /** CapabilityBoundingSet= ('CAP_…' names in capability-number order); null = not set (all caps) */
  capabilityBoundingSet: string[] | null;
  /** built from SystemCallFilter= + SystemCallErrorNumber=; null = no filter */
  systemCallFilter: FilterSpec | null;
  /** the SystemCallFilter=/SystemCallErrorNumber=/SystemCallLog= assignments as written, each with
   *  its place: 'SystemCallFilter=@system-service (line 12)' */
  systemCallFilterLines: string[];
  /** what could not be reproduced or was decided, for the report (the filter's own notes included) */
  notes: string[];
}

/** Where systemd 252 looks for system units, highest precedence first (systemd.unit(5), "System
 *  Unit Search Path"; the generator/transient/attached directories are left out). On merged-/usr
 *  systems /lib is a symlink to /usr/lib, so the last two are the same directory. */
export const SYSTEM_UNIT_DIRS: readonly string[] = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
];

const UNIT_TYPES = [
  'service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'slice', 'scope',
];

/** linux/capability.h names, by number. */
const CAPABILITIES = CAPABILITY_NAMES;

/** [Service] settings that matter to an io_uring UDP service but are not reproduced by the probe. */
const NOT_REPRODUCED: Record<string, string> = {
  RestrictAddressFamilies: 'socket() for families not allowed fails with EAFNOSUPPORT',
  PrivateNetwork: 'the service sees only a private loopback device',
  NetworkNamespacePath: 'the service runs in another network namespace',
  IPAddressDeny: 'BPF packet filters drop traffic to/from the listed addresses',
  IPAddressAllow: 'BPF packet filters (with IPAddressDeny=) drop traffic',
  SocketBindDeny: 'BPF hook makes bind() fail for the listed ports',
  SocketBindAllow: 'BPF hook (with SocketBindDeny=) makes bind() fail',
  RestrictNamespaces: 'adds a seccomp filter on clone/unshare/setns',
  MemoryDenyWriteExecute: 'adds a seccomp filter on mmap/mprotect with PROT_EXEC',
  PrivateUsers: 'the service runs in a user namespace',
  SystemCallArchitectures: 'only the native ABI is probed anyway',
};

// ---------------------------------------------------------------------------------------------
// File lookup

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** systemd treats a unit file that is a link to /dev/null, or empty, as masked. */
function isMasked(path: string): boolean {
  if (!existsSync(path)) return false;
  if (realOrSelf(path) === '/dev/null') return true;
  try {
    const st = statSync(path);
    return st.isFile() && st.size === 0;
  } catch {
    return false;
  }
}

function hasUnitSuffix(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && UNIT_TYPES.includes(name.slice(dot + 1));
}

/**
 * FILE (contains '/' or names an existing file) or NAME (looked up in the system unit directories,
 * highest precedence first, '.service' added when the name has no unit-type suffix; an instance
 * 'foo@bar.service' falls back to its template 'foo@.service', as systemd does).
 * The path returned is absolute; UsageError when nothing is found, listing where it looked.
 */
export function resolveUnitPath(nameOrPath: string, unitDirs: readonly string[] = SYSTEM_UNIT_DIRS): string {
  if (nameOrPath.trim() === '') {
    throw new UsageError('the systemd unit name is empty', 'pass a unit name such as nginx.service, or a path to a unit file');
  }
  if (nameOrPath.includes('/')) {
    if (isFile(nameOrPath)) return resolve(nameOrPath);
    throw new UsageError(
      `no systemd unit file '${nameOrPath}'${existsSync(nameOrPath) ? ' (not a regular file)' : ''}`,
      'pass the path of a unit file, or a unit name to look up in the systemd unit directories',
    );
  }
  if (isFile(nameOrPath)) return resolve(nameOrPath);
  const name = hasUnitSuffix(nameOrPath) ? nameOrPath : `${nameOrPath}.service`;
  const candidates = [name];
  const at = name.indexOf('@');
  const dot = name.lastIndexOf('.');
  if (at > 0 && at + 1 < dot) candidates.push(`${name.slice(0, at + 1)}${name.slice(dot)}`);
  for (const candidate of candidates) {
    for (const dir of unitDirs) {
      const path = join(dir, candidate);
      if (isMasked(path)) {
        throw new UsageError(
          `systemd unit ${path} is masked (a link to /dev/null or an empty file)`,
          'unmask the unit (systemctl unmask), or pass the path of a unit file',
        );
      }
      if (isFile(path)) return path;
    }
  }
  throw new UsageError(
    `no systemd unit '${candidates.join("' or '")}' in ${unitDirs.length ? unitDirs.join(', ') : '(no directories)'}`,
    'pass a unit name installed on this host, or the path of the unit file',
  );
}

/** Drop-in directory names for a unit, most specific first (systemd.unit(5)): the unit's own
 *  'foo-bar@x.service.d', its template's 'foo-bar@.service.d', then the dash prefixes
 *  'foo-.service.d' of the (template) name. */
function dropInDirNames(unitName: string): string[] {
  const dot = unitName.lastIndexOf('.');
  const suffix = dot > 0 ? unitName.slice(dot) : '';
  const stem = dot > 0 ? unitName.slice(0, dot) : unitName;
  const names = [unitName];
  const at = stem.indexOf('@');
  const prefixStem = at >= 0 ? stem.slice(0, at) : stem;
  if (at >= 0 && stem.length > at + 1) names.push(`${stem.slice(0, at + 1)}${suffix}`);
  for (let i = prefixStem.length - 1; i > 0; i--) {
    if (prefixStem[i] === '-' && i < prefixStem.length - 1) names.push(`${prefixStem.slice(0, i + 1)}${suffix}`);
  }
  return [...new Set(names)].map((n) => `${n}.d`);
}

/**
 * The drop-in '.conf' files systemd applies to the unit at `unitPath`, in the order it applies
 * them. Directories, highest precedence first: the unit file's own directory when it is not one of
 * `unitDirs` (an ad-hoc unit file: its sibling 'foo.service.d/' counts most), then `unitDirs`
 * (/etc over /run over /usr/lib, systemd.unit(5)); within one directory the unit's own '.d' over
 * its template's over the dash prefixes; the type-wide 'service.d/' last. A file name found in
 * several of these directories is taken from the highest-precedence one only; the files kept are
 * applied in lexical order of their names, whichever directory they are in.
 */
export function findDropIns(unitPath: string, unitDirs: readonly string[] = SYSTEM_UNIT_DIRS): string[] {
  const unitName = basename(unitPath);
  const standard = unitDirs.map(realOrSelf);
  const searchDirs: string[] = [];
  const seen = new Set<string>();
  const own = dirname(resolve(unitPath));
  for (const dir of standard.includes(realOrSelf(own)) ? unitDirs : [own, ...unitDirs]) {
    const real = realOrSelf(dir);
    if (!seen.has(real)) {
      seen.add(real);
      searchDirs.push(dir);
    }
  }
  const dot = unitName.lastIndexOf('.');
  const typeDir = dot > 0 ? `${unitName.slice(dot + 1)}.d` : null;
  const dropDirs: string[] = [];
  for (const dir of searchDirs) for (const name of dropInDirNames(unitName)) dropDirs.push(join(dir, name));
  if (typeDir) for (const dir of searchDirs) dropDirs.push(join(dir, typeDir));

  const byName = new Map<string, string>();
  for (const dir of dropDirs) {
    if (!isDirectory(dir)) continue;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`cannot read drop-in directory ${dir}: ${code}`, 'check its permissions');
    }
    for (const entry of entries) {
      if (!entry.endsWith('.conf') || byName.has(entry)) continue;
      const path = join(dir, entry);
      if (isFile(path) || realOrSelf(path) === '/dev/null') byName.set(entry, path);
    }
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!);
}

/** A unit file or drop-in is a few KiB; past this it is not one (and must not exhaust memory). */
export const MAX_UNIT_FILE_BYTES = 1 * MiB;

/** A unit file's or drop-in's text: a regular file of at most 1 MiB (a drop-in linked to /dev/null is empty). */
function readUnitFile(path: string): string {
  if (realOrSelf(path) === '/dev/null') return '';
  const read = readRegularFile(path, MAX_UNIT_FILE_BYTES);
  if (!read.ok) {
    const hint = read.code === 'E2BIG' ? 'pass a systemd unit file (a unit is a few KiB)' : 'check the path and its permissions';
    throw new UsageError(`cannot read systemd unit file ${path}: ${read.code === 'E2BIG' || read.code === 'ENOTREG' ? read.why : read.code}`, hint);
  }
  return read.text;
}

/** Resolve, read (with drop-ins) and parse a unit. `unitDirs` replaces the system unit
 *  directories (tests pass [] so the host's drop-ins stay out). */
export function loadSystemdUnit(
  nameOrPath: string,
  opts: { expandGroup?: (group: string) => string[]; unitDirs?: readonly string[] } = {},
): UnitContext {
  const unitDirs = opts.unitDirs ?? SYSTEM_UNIT_DIRS;
  const path = resolveUnitPath(nameOrPath, unitDirs);
  if (isMasked(path)) {
    throw new UsageError(
      `systemd unit ${path} is masked (a link to /dev/null or an empty file)`,
      'unmask the unit (systemctl unmask), or pass the path of a unit file',
    );
  }
  const dropIns = findDropIns(path, unitDirs).map((p) => ({ path: p, text: readUnitFile(p) }));
  return parseSystemdUnit(readUnitFile(path), path, dropIns, opts.expandGroup ?? expandSyscallGroup);
}

// ---------------------------------------------------------------------------------------------
// Syntax (systemd.syntax(7))

interface Assignment {
  key: string;
  value: string;
  /** the file it is in */
  file: string;
  /** 1-based line of its first physical line */
  line: number;
  /** for people: 'line 12' in the unit file, '10-memlock.conf line 3' in a drop-in */
  place: string;
}

/**
 * The [Service] assignments of one file, in order. Comments are lines whose first non-blank
 * character is '#' or ';'; a line ending in '\' continues on the next one (the backslash becomes a
 * space, and comment lines inside a continuation are skipped); whitespace around '=' is dropped.
 * Other sections ([Unit], [Install], …) are read and ignored.
 */
function serviceAssignments(text: string, file: string, placePrefix: string, notes: string[]): Assignment[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: Assignment[] = [];
  let section: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let logical = lines[i]!.trim();
    if (logical === '' || logical.startsWith('#') || logical.startsWith(';')) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = `${logical.slice(0, -1)} `;
      i++;
      while (i < lines.length && /^\s*[#;]/.test(lines[i]!)) i++;
      if (i >= lines.length) break;
      logical += lines[i]!.trim();
    }
    if (logical.endsWith('\\')) logical = logical.slice(0, -1);
    logical = logical.trim();
    const place = `${placePrefix}line ${first}`;
    if (logical.startsWith('[')) {
      if (!logical.endsWith(']')) notes.push(`${file}:${first}: invalid section header ${logical}, ignored`);
      section = logical.endsWith(']') ? logical.slice(1, -1) : section;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = logical.indexOf('=');
    if (eq <= 0) {
      notes.push(`${file}:${first}: no '=' in '${logical}' (${place}), ignored as systemd does`);
      continue;
    }
    out.push({ key: logical.slice(0, eq).trim(), value: logical.slice(eq + 1).trim(), file, line: first, place });
  }
  return out;
}

function words(value: string): string[] {
  return value.split(/\s+/).filter((w) => w !== '').map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
}

/** systemd's parse_boolean(). */
function parseBoolean(a: Assignment): boolean {
  const v = a.value.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  throw new UsageError(
    `${a.file}:${a.line}: ${a.key}=${a.value} is not a boolean`,
    `write ${a.key}=yes or ${a.key}=no`,
  );
}

// ---------------------------------------------------------------------------------------------
// LimitMEMLOCK= (systemd's rlimit_parse(): 'soft:hard' or one value for both; each 'infinity' or a
// parse_size(…, 1024) size: digits, optional '.fraction', optional B/K/M/G/T/P/E suffix, several
// such components add up, e.g. '1G 512M')

const SIZE_FACTORS: Record<string, bigint> = {
  '': 1n, B: 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n, P: 1n << 50n, E: 1n << 60n,
};
const RLIM_INFINITY = (1n << 64n) - 1n;

function parseRlimitSize(text: string): bigint | 'infinity' | null {
  const t = text.trim();
  if (t === 'infinity') return 'infinity';
  if (t === '') return null;
  let rest = t;
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d+)(?:\.(\d+))?\s*([BKMGTPE]?)\s*/.exec(rest);
    if (!m || m[0] === '') return null;
    const factor = SIZE_FACTORS[m[3] ?? '']!;
    total += BigInt(m[1]!) * factor;
    if (m[2]) total += (BigInt(m[2]) * factor) / 10n ** BigInt(m[2].length);
    rest = rest.slice(m[0].length);
  }
  return total >= RLIM_INFINITY ? null : total;
}

/** A LimitMEMLOCK= value: '64K', '8M', 'infinity', '64K:1M'. Null when it is not valid. */
export function parseMemlockLimit(value: string): { soft: bigint | 'infinity'; hard: bigint | 'infinity' } | null {
  const colon = value.indexOf(':');
  const soft = parseRlimitSize(colon >= 0 ? value.slice(0, colon) : value);
  const hard = colon >= 0 ? parseRlimitSize(value.slice(colon + 1)) : soft;
  if (soft === null || hard === null) return null;
  if (hard !== 'infinity' && (soft === 'infinity' || soft > hard)) return null;
  return { soft, hard };
}

// ---------------------------------------------------------------------------------------------
// Capabilities (systemd's config_parse_capability_set(): '~' inverts; the first assignment, an
// assignment while the set still has its initial value, or one that names nothing ('' or '~')
// replaces the set; later ones add to it, or with '~' remove from it. CapabilityBoundingSet starts
// as all capabilities, AmbientCapabilities as none.)

function capabilityName(word: string, a: Assignment): string {
  let name: string | undefined;
  if (/^\d+$/.test(word)) name = CAPABILITIES[Number(word)];
  else {
    const upper = word.toUpperCase();
    const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    name = (CAPABILITIES as readonly string[]).includes(full) ? full : undefined;
  }
  if (name === undefined) {
    throw new UsageError(
      `${a.file}:${a.line}: unknown capability '${word}' in ${a.key}=`,
      'use names from capabilities(7), e.g. CAP_NET_BIND_SERVICE or CAP_IPC_LOCK',
    );
  }
  return name;
}

function applyCapabilitySet(current: Set<string> | null, initial: ReadonlySet<string>, a: Assignment): Set<string> {
  const invert = a.value.startsWith('~');
  const named = new Set(words(invert ? a.value.slice(1) : a.value).map((w) => capabilityName(w, a)));
  const state = current ?? new Set(initial);
  const isInitial = state.size === initial.size && [...state].every((c) => initial.has(c));
  if (named.size === 0 || isInitial) {
    return invert ? new Set(CAPABILITIES.filter((c) => !named.has(c))) : named;
  }
  for (const c of named) {
    if (invert) state.delete(c);
    else state.add(c);
  }
  return state;
}

function capabilityList(set: Set<string> | null): string[] | null {
  return set === null ? null : CAPABILITIES.filter((c) => set.has(c));
}

// ---------------------------------------------------------------------------------------------
// SystemCallFilter= (systemd.exec(5) and systemd 252's config_parse_syscall_filter /
// seccomp_parse_syscall_filter):
// - the first assignment decides: no '~' = allow-list (everything else gets the error action),
//   '~' = deny-list (everything else is allowed); an empty assignment resets the filter;
// - in an allow-list, systemd adds the '@default' set when the list is created: "the execve(),
//   exit(), exit_group(), getrlimit(), rt_sigreturn(), sigreturn() system calls and the system calls
//   for querying time and sleeping are implicitly allow-listed" (systemd.exec(5), 252);
// - later assignments of the same kind add names; of the other kind remove them, except that in an
//   allow-list '~name:ERRNO' keeps the name and makes it fail with ERRNO (systemd >= 248, PR #18921);
// - 'name:ERRNO' / '@group:ERRNO' (ERRNO a name or 0…4095, or 'kill') is only valid after '~';
//   systemd ignores such a word without '~' ("Allow-listed system calls cannot take error number");
// - SystemCallErrorNumber= (an errno, or 'kill'; unset or empty = kill the process) is the action
//   for what the filter denies without its own ERRNO.

const ERRNO_NONE = -1;
const ERRNO_KILL = -2;

/** systemd's seccomp_parse_errno_or_action() for a per-name ':ERRNO': a name, 0…4095, or 'kill'. */
function parseErrnoOrKill(text: string): number | null {
  if (text === 'kill') return ERRNO_KILL;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n <= 4095 ? n : null;
  }
  return /^E[A-Z0-9]+$/.test(text) ? errnoNumber(text) : null;
}

function actionOf(errno: number): SeccompAction {
  return errno === ERRNO_KILL ? { kind: 'kill-process' } : { kind: 'errno', data: errno };
}

interface FilterEntry {
  errno: number;
  origin: string;
}

function defaultGroupOrigin(): string {
  return 'SystemCallFilter= allow-list: @default, always permitted by systemd (systemd.exec(5))';
}

class SyscallFilterState {
  mode: 'allow' | 'deny' | null = null;
  entries = new Map<string, FilterEntry>();
  errorAction: SeccompAction = { kind: 'kill-process' };
  errorOrigin: string | null = null;
  lines: string[] = [];
  notes: string[] = [];

  constructor(private readonly expandGroup: (group: string) => string[]) {}

  private expand(group: string, a: Assignment): string[] {
    try {
      return this.expandGroup(group);
    } catch (error) {
      if (error instanceof UsageError) {
        throw new UsageError(`${a.file}:${a.line}: ${a.key}=${a.value}: ${error.message}`, error.hint);
      }
      throw error;
    }
  }

  filter(a: Assignment): void {
    this.lines.push(`SystemCallFilter=${a.value} (${a.place})`);
    if (a.value === '') {
      this.mode = null;
      this.entries.clear();
      return;
    }
    const invert = a.value.startsWith('~');
    const origin = `SystemCallFilter=${a.value} (${a.place})`;
    if (this.mode === null) {
      this.mode = invert ? 'deny' : 'allow';
      if (this.mode === 'allow') {
        for (const name of this.expand('@default', a)) this.entries.set(name, { errno: ERRNO_NONE, origin: defaultGroupOrigin() });
      }
    }
    const allowList = this.mode === 'allow';
    for (const word of words(invert ? a.value.slice(1) : a.value)) {
      const colon = word.indexOf(':');
      const name = colon >= 0 ? word.slice(0, colon) : word;
      let errno = ERRNO_NONE;
      if (colon >= 0) {
        const parsed = parseErrnoOrKill(word.slice(colon + 1));
        if (parsed === null || name === '') {
          this.notes.push(`${origin}: '${word}' is not name:errno, ignored as systemd does`);
          continue;
        }
        errno = parsed;
      }
      if (!invert && errno !== ERRNO_NONE) {
        this.notes.push(`${origin}: '${word}': allow-listed system calls cannot take an error number, ignored as systemd does`);
        continue;
      }
      if (name === '') continue;
      const names = name.startsWith('@') ? this.expand(name, a) : [name];
      const keep = !invert === allowList || (invert && allowList && errno !== ERRNO_NONE);
      for (const n of names) {
        if (keep) {
          // a name already present keeps its position (systemd updates its hashmap entry)
          this.entries.set(n, { errno, origin });
        } else {
          this.entries.delete(n);
        }
      }
    }
  }

  errorNumber(a: Assignment): void {
    this.lines.push(`SystemCallErrorNumber=${a.value} (${a.place})`);
    if (a.value === '' || a.value === 'kill') {
      this.errorAction = { kind: 'kill-process' };
      this.errorOrigin = a.value === '' ? null : `SystemCallErrorNumber=kill (${a.place})`;
      return;
    }
    const n = parseErrnoOrKill(a.value);
    if (n === null || n <= 0) {
      throw new UsageError(
        `${a.file}:${a.line}: SystemCallErrorNumber=${a.value} is not an errno name or number 1-4095, nor 'kill'`,
        'write e.g. SystemCallErrorNumber=EPERM',
      );
    }
    this.errorAction = actionOf(n);
    this.errorOrigin = `SystemCallErrorNumber=${a.value} (${a.place})`;
  }

  log(a: Assignment): void {
    this.lines.push(`SystemCallLog=${a.value} (${a.place})`);
    if (a.value !== '') {
      this.notes.push(`SystemCallLog=${a.value} (${a.place}): ignored; it only logs system calls (audit), it does not deny them`);
    }
  }

  spec(path: string): FilterSpec | null {
    if (this.mode === null) return null;
    const errorWhat = this.errorOrigin ?? 'no SystemCallErrorNumber=: kill the process';
    const groups = new Map<string, FilterRule>();
    for (const [name, entry] of this.entries) {
      const action: SeccompAction =
        entry.errno === ERRNO_NONE ? (this.mode === 'allow' ? { kind: 'allow' } : this.errorAction) : actionOf(entry.errno);
      const key = `${entry.origin}\u0000${action.kind}\u0000${action.data ?? ''}`;
      let rule = groups.get(key);
      if (!rule) {
        rule = { syscalls: [], action, args: [], origin: entry.origin };
        groups.set(key, rule);
      }
      rule.syscalls.push(name);
    }
    const rules = [...groups.values()];
    for (const rule of rules) rule.syscalls.sort();
    return {
      source: 'systemd-unit',
      path,
      defaultAction: this.mode === 'allow' ? this.errorAction : { kind: 'allow' },
      defaultOrigin:
        this.mode === 'allow'
          ? `SystemCallFilter= allow-list: everything not listed (${errorWhat})`
          : 'SystemCallFilter= deny-list: everything not listed is allowed',
      rules,
      notes: [...this.notes],
    };
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Parse a unit file and its drop-ins (applied in the order given, after the unit). Pure apart
 * from `expandGroup` ('@system-service' -> syscall names; loadSystemdUnit passes expandSyscallGroup).
 * Bad values of the settings used here are UsageErrors naming the file and line.
 */
export function parseSystemdUnit(
  text: string,
  path: string,
  dropIns: Array<{ path: string; text: string }>,
  expandGroup: (group: string) => string[],
): UnitContext {
  const notes: string[] = [];
  const assignments = serviceAssignments(text, path, '', notes);
  for (const d of dropIns) assignments.push(...serviceAssignments(d.text, d.path, `${basename(d.path)} `, notes));

  let user: string | null = null;
  let group: string | null = null;
  let supplementaryGroups: string[] = [];
  let dynamicUser = false;
  let memlock: UnitContext['memlock'] = null;
  let noNewPrivileges: boolean | null = null;
  let ambient: Set<string> | null = null;
  let bounding: Set<string> | null = null;
  const filter = new SyscallFilterState(expandGroup);
  const allCaps: ReadonlySet<string> = new Set(CAPABILITIES);
  const noCaps: ReadonlySet<string> = new Set();
  const specifierKeys = new Set(['User', 'Group', 'SupplementaryGroups']);
  const plusCommands: string[] = [];

  for (const a of assignments) {
    if (specifierKeys.has(a.key) && /%[^%]/.test(a.value.replace(/%%/g, ''))) {
      notes.push(`${a.key}=${a.value} (${a.place}): specifiers such as %i are left unexpanded`);
    }
    switch (a.key) {
      case 'User':
        user = a.value === '' ? null : a.value;
        break;
      case 'Group':
        group = a.value === '' ? null : a.value;
        break;
      case 'SupplementaryGroups':
        supplementaryGroups = a.value === '' ? [] : [...supplementaryGroups, ...words(a.value)];
        break;
      case 'DynamicUser':
        dynamicUser = a.value === '' ? false : parseBoolean(a);
        break;
      case 'NoNewPrivileges':
        noNewPrivileges = a.value === '' ? null : parseBoolean(a);
        break;
      case 'LimitMEMLOCK': {
        if (a.value === '') {
          memlock = null;
          break;
        }
        const parsed = parseMemlockLimit(a.value);
        if (!parsed) {
          throw new UsageError(
            `${a.file}:${a.line}: LimitMEMLOCK=${a.value} is not a limit in bytes (e.g. 64K, 8M, 1G, infinity, or soft:hard with soft <= hard)`,
            'fix the unit file, e.g. LimitMEMLOCK=8M',
          );
        }
        memlock = parsed;
        break;
      }
      case 'AmbientCapabilities':
        ambient = applyCapabilitySet(ambient, noCaps, a);
        break;
      case 'CapabilityBoundingSet':
        bounding = applyCapabilitySet(bounding, allCaps, a);
        break;
      case 'SystemCallFilter':
        filter.filter(a);
        break;
      case 'SystemCallErrorNumber':
        filter.errorNumber(a);
        break;
      case 'SystemCallLog':
        filter.log(a);
        break;
      case 'ExecStart':
      case 'ExecStartPre':
      case 'ExecStartPost':
        if (/^[-@:!]*\+/.test(a.value)) plusCommands.push(`${a.key}=${a.value} (${a.place})`);
        break;
      default: {
        const why = NOT_REPRODUCED[a.key];
        const off = ['0', 'no', 'n', 'false', 'f', 'off'].includes(a.value.toLowerCase());
        if (why !== undefined && a.value !== '' && !off) notes.push(`${a.key}=${a.value} (${a.place}): not reproduced; ${why}`);
      }
    }
  }

  const systemCallFilter = filter.spec(path);
  notes.push(...filter.notes);
  if (dynamicUser) {
    notes.push(
      `DynamicUser=yes: systemd allocates a transient uid/gid when the service starts (named ${user ?? 'after the unit'}); that uid cannot be reproduced`,
    );
  }
  if (systemCallFilter && plusCommands.length) {
    notes.push(`commands prefixed with '+' run without the system call filter: ${plusCommands.join('; ')}`);
  }
  const runsAsNonRoot = (user !== null && user !== 'root' && user !== '0') || dynamicUser;
  const keepsSysAdmin = runsAsNonRoot ? !!ambient?.has('CAP_SYS_ADMIN') : !bounding || bounding.has('CAP_SYS_ADMIN');
  if (noNewPrivileges === null && systemCallFilter && !keepsSysAdmin) {
    notes.push(
      'NoNewPrivileges=yes is implied: SystemCallFilter= without CAP_SYS_ADMIN (e.g. with User=) makes systemd set no_new_privs (systemd.exec(5))',
    );
  }

  return {
    path,
    dropIns: dropIns.map((d) => d.path),
    user,
    group,
    supplementaryGroups,
    dynamicUser,
    memlock,
    noNewPrivileges,
    ambientCapabilities: capabilityList(ambient),
    capabilityBoundingSet: capabilityList(bounding),
    systemCallFilter,
    systemCallFilterLines: filter.lines,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Syscall groups, from the host's systemd

const groupCache = new Map<string, string[]>();

function runSystemdAnalyze(group: string): string {
  try {
    return execFileSync('systemd-analyze', ['--no-pager', 'syscall-filter', group], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '', LC_ALL: 'C' },
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { status?: number | null; stderr?: string; signal?: string | null };
    if (e.code === 'ENOENT') {
      throw new UsageError(
        `cannot expand the system call group ${group}: systemd-analyze is not installed`,
        'install systemd (systemd-analyze), or list the system calls in SystemCallFilter= by name',
      );
    }
    if (e.signal || e.code === 'ETIMEDOUT') {
      throw new UsageError(`systemd-analyze syscall-filter ${group} did not finish within 10 s`, 'check systemd-analyze on this host');
    }
    const said = String(e.stderr ?? '').trim().split('\n')[0] ?? '';
    throw new UsageError(
      `systemd-analyze does not know the system call group ${group}${said ? ` (${said})` : ''}`,
      'use a group listed by `systemd-analyze syscall-filter`',
    );
  }
}

/**
 * The system calls in a systemd syscall group ('@system-service' or 'system-service'), as the
 * host's `systemd-analyze syscall-filter` lists them, nested groups expanded, duplicates dropped.
 * Cached per group. UsageError when systemd-analyze is missing or does not know the group.
 */
export function expandSyscallGroup(group: string): string[] {
  return expandGroupRec(group.startsWith('@') ? group : `@${group}`, new Set());
}

function expandGroupRec(group: string, active: Set<string>): string[] {
  const cached = groupCache.get(group);
  if (cached) return [...cached];
  if (active.has(group)) return [];
  active.add(group);
  const lines = runSystemdAnalyze(group).split('\n');
  const names: string[] = [];
  let inGroup = false;
  for (const raw of lines) {
    if (raw.trim() === '') continue;
    if (!/^\s/.test(raw)) {
      // a header line: '@system-service'; anything after our group is not part of it
      if (inGroup) break;
      inGroup = raw.trim() === group;
      continue;
    }
    if (!inGroup) continue;
    const item = raw.trim();
    if (item.startsWith('#')) continue;
    if (item.startsWith('@')) names.push(...expandGroupRec(item, active));
    else if (/^[a-z0-9_]+$/.test(item)) names.push(item);
  }
  active.delete(group);
  if (!inGroup) {
    throw new UsageError(`systemd-analyze does not know the system call group ${group}`, 'use a group listed by `systemd-analyze syscall-filter`');
  }
  const unique = [...new Set(names)];
  groupCache.set(group, unique);
  return [...unique];
}

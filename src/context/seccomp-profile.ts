// A Docker/OCI seccomp profile (the JSON given to `docker run --security-opt seccomp=FILE`, podman,
// containerd, or found in an OCI config.json's linux.seccomp) read into the normalised FilterSpec, with
// the semantics the real runtimes give it:
//
// - moby (profiles/seccomp/seccomp_linux.go, setupSeccomp) decides which entries apply on this host:
//   an entry is left out when excludes.arches names the native arch, when ANY of excludes.caps is in the
//   container's capability set, when the kernel is at least excludes.minKernel; and when includes.arches
//   does not name the native arch, when ANY of includes.caps is missing (so: ALL listed caps are
//   needed), when the kernel is older than includes.minKernel. Kernel versions compare by
//   "<major>.<minor>" only (moby kernel_linux.go: kernelGreaterEqualThan). moby checks the caps against
//   the container's BOUNDING set (rs.Process.Capabilities.Bounding); older moby (profiles/seccomp/seccomp.go
//   before the split into seccomp_linux.go) used the effective set. For a container both are the set it
//   was granted (--cap-add/--cap-drop/--privileged), whatever its user; pass that set as
//   ProfileContext.capabilities.
// - runc (libcontainer/seccomp/seccomp_linux.go) turns the rest into libseccomp rules: SCMP_ACT_KILL is
//   kill-thread; ERRNO and TRACE without errnoRet return EPERM (its actErrno/actTrace); a rule whose action
//   equals the default action is skipped ("redundant"); an entry with two or more conditions on the SAME
//   argument becomes one rule per condition (any of them matches), otherwise its conditions are ANDed in
//   one rule (libseccomp refuses two conditions on one argument in one rule: db_col_rule_add -EINVAL).
// - libseccomp (src/db.c, db_rule_add): once a syscall has an unconditional rule, later rules for it are
//   dropped without an error ("existing filter is at least as large as the new entry"), and an
//   unconditional rule replaces the conditional ones added before it: the FIRST unconditional rule with a
//   non-default action decides.
//
// The file is parsed by a small JSON reader of our own (not JSON.parse): errors get a line and column on
// every Node version, and 64-bit argument values keep all their digits (JSON.parse rounds above 2^53).
// The same tree is what allowIoUring edits and writes back, so numbers come out exactly as written.

import { statSync } from 'node:fs';
import { readRegularFile } from '../bounded-read.js';
import { endianness, release } from 'node:os';
import { UsageError } from '../usage-error.js';
import { errnoName } from '../errno.js';
import {
  describeAction,
  IO_URING_SYSCALLS,
  type ArgCondition,
  type ArgOp,
  type FilterRule,
  type FilterSpec,
  type SeccompAction,
  type SeccompActionKind,
  type SyscallVerdict,
} from './filter-spec.js';

/** What decides which profile entries apply (moby's includes/excludes). */
export interface ProfileContext {
  /** node's process.arch ('x64', 'arm64') or uname's machine ('x86_64', 'aarch64'): both are accepted */
  arch: string;
  /** uname -r, e.g. '6.18.44'; only "<major>.<minor>" counts, as in moby */
  kernelRelease: string;
  /** capabilities of the confined process, e.g. ['CAP_SYS_ADMIN']; moby checks the container's bounding set */
  capabilities: string[];
}

/** Larger than any real profile (Docker's default is ~20 KiB); protects the reader from a wrong path. */
export const MAX_PROFILE_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// JSON: a strict RFC 8259 reader that keeps numbers as written, and a writer in JSON.stringify's layout.

/** A JSON number exactly as written in the file. */
export class JsonNumber {
  constructor(readonly raw: string) {}
}
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
/** Objects keep their key order; a repeated key keeps its first position and its last value, as JSON.parse does. */
export type JsonObject = Map<string, JsonValue>;

class JsonSyntaxError extends Error {
  constructor(readonly what: string, readonly offset: number) {
    super(what);
  }
}

const MAX_DEPTH = 256;

function parseJson(text: string): JsonValue {
  let pos = 0;
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const unexpected = (): never => {
    if (pos >= text.length) throw new JsonSyntaxError('unexpected end of file', pos);
    const ch = text[pos]!;
    const shown = /[\x00-\x1f\x7f-\x9f]/.test(ch) ? `control character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : `'${ch}'`;
    throw new JsonSyntaxError(`unexpected ${shown}`, pos);
  };
  const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  // Runs of plain characters are taken with one slice each: appending a character at a time builds a
  // rope of one node per character, which took about 140 times a long string's size in memory.
  const str = (): string => {
    const start = pos;
    pos++; // opening quote
    const parts: string[] = [];
    let run = pos;
    for (;;) {
      if (pos >= text.length) throw new JsonSyntaxError('unterminated string', start);
      const code = text.charCodeAt(pos);
      if (code === 0x22) {
        parts.push(text.slice(run, pos));
        pos++;
        return parts.length === 1 ? parts[0]! : parts.join('');
      }
      if (code === 0x5c) {
        parts.push(text.slice(run, pos));
        const e = text[pos + 1];
        if (e !== undefined && Object.hasOwn(SIMPLE_ESCAPES, e)) {
          parts.push(SIMPLE_ESCAPES[e]!);
          pos += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
          parts.push(String.fromCharCode(parseInt(text.slice(pos + 2, pos + 6), 16)));
          pos += 6;
        } else {
          throw new JsonSyntaxError('invalid escape in string', pos);
        }
        run = pos;
        continue;
      }
      if (code < 0x20) unexpected();
      pos++;
    }
  };
  const num = (): JsonNumber => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (!m) unexpected();
    pos += m![0].length;
    return new JsonNumber(m![0]);
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(`nested deeper than ${MAX_DEPTH} levels`, pos);
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: JsonObject = new Map();
      ws();
      if (text[pos] === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') unexpected();
        const key = str();
        ws();
        if (text[pos] !== ':') unexpected();
        pos++;
        obj.set(key, value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        unexpected();
      }
    }
    if (c === '[') {
      pos++;
      const arr: JsonValue[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        unexpected();
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    return unexpected();
  };
  const result = value(0);
  ws();
  if (pos < text.length) unexpected();
  return result;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line} column ${column}`;
}

/** JSON.stringify(value, null, indent)'s layout; numbers as written. indent '' = compact. */
function writeJson(v: JsonValue, indent: string, eol: string, level = 0): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof JsonNumber) return v.raw;
  const inner = indent.repeat(level + 1);
  const outer = indent.repeat(level);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const items = v.map((x) => writeJson(x, indent, eol, level + 1));
    return indent === '' ? `[${items.join(',')}]` : `[${eol}${items.map((i) => inner + i).join(`,${eol}`)}${eol}${outer}]`;
  }
  if (v.size === 0) return '{}';
  const entries = [...v].map(([k, x]) => `${JSON.stringify(k)}:${indent === '' ? '' : ' '}${writeJson(x, indent, eol, level + 1)}`);
  return indent === '' ? `{${entries.join(',')}}` : `{${eol}${entries.map((e) => inner + e).join(`,${eol}`)}${eol}${outer}}`;
}

// ---------------------------------------------------------------------------------------------------
// Names the runtimes accept.

const ACTIONS: Record<string, SeccompActionKind> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill-thread', // runc getAction: configs.Kill and configs.KillThread are both ActKillThread
  SCMP_ACT_KILL_THREAD: 'kill-thread',
  SCMP_ACT_KILL_PROCESS: 'kill-process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'notify',
};
const ACTION_NAMES = Object.keys(ACTIONS);

const OPS: Record<string, ArgOp> = {
  SCMP_CMP_NE: 'NE',
  SCMP_CMP_LT: 'LT',
  SCMP_CMP_LE: 'LE',
  SCMP_CMP_EQ: 'EQ',
  SCMP_CMP_GE: 'GE',
  SCMP_CMP_GT: 'GT',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};

/** runc's libcontainer/seccomp/config.go `archs`: the SCMP_ARCH_ names it accepts, and moby's name of each. */
const SCMP_ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'amd64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'arm64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_LOONGARCH64: 'loong64',
};

/**
 * moby's name of the native architecture (its goToNative map: amd64, arm64, x86, arm, ppc64le, s390x,
 * riscv64 ...), from node's process.arch or uname's machine. Unknown names are returned as given.
 */
export function dockerArch(arch: string): string {
  const a = arch.trim().toLowerCase();
  const known: Record<string, string> = {
    x64: 'amd64', x86_64: 'amd64', amd64: 'amd64',
    arm64: 'arm64', aarch64: 'arm64',
    ia32: 'x86', x86: 'x86', i386: 'x86', i486: 'x86', i586: 'x86', i686: 'x86',
    ppc64le: 'ppc64le', ppc: 'ppc',
    s390x: 's390x', s390: 's390',
    riscv64: 'riscv64',
    loong64: 'loong64', loongarch64: 'loong64',
    mips64: 'mips64', mips64el: 'mipsel64', mipsel: 'mipsel', mips: 'mips',
  };
  if (known[a]) return known[a]!;
  // node says 'ppc64' for both byte orders; uname says ppc64le for little-endian
  if (a === 'ppc64') return endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  if (/^arm/.test(a)) return 'arm'; // armv7l, armv6l, armv8l (32-bit userland)
  return a;
}

function scmpArchOf(docker: string): string | null {
  for (const [scmp, name] of Object.entries(SCMP_ARCHES)) if (name === docker) return scmp;
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Validation helpers: every problem is a UsageError naming the file and the JSON path.

function typeName(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return `the string ${shown(v)}`;
  if (v instanceof JsonNumber) return `the number ${v.raw}`;
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

function shown(s: string): string {
  const one = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  // C0, DEL and C1 controls (0x9b is a one-byte CSI) are shown as escapes, never sent to the terminal
  return `'${one.replace(/[\x00-\x1f\x7f-\x9f']/g, (c) => (c === "'" ? "\\'" : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map;
}

/** Absent and null are the same for optional fields (Go's decoder leaves the zero value for null). */
function present(v: JsonValue | undefined): v is Exclude<JsonValue, null> {
  return v !== undefined && v !== null;
}

class ProfileReader {
  readonly notes: string[] = [];
  constructor(readonly path: string) {}

  fail(where: string, what: string, hint: string): never {
    throw new UsageError(`seccomp profile ${this.path}: ${where ? `${where} ` : ''}${what}`, hint);
  }

  string(v: JsonValue | undefined, where: string, example: string): string {
    if (typeof v !== 'string') this.fail(where, `must be a string, got ${typeName(v)}`, `write e.g. ${example}`);
    return v as string;
  }

  stringList(v: JsonValue | undefined, where: string, example: string): string[] {
    if (!Array.isArray(v)) this.fail(where, `must be an array of strings, got ${typeName(v)}`, `write e.g. ${example}`);
    return (v as JsonValue[]).map((x, i) => this.string(x, `${where}[${i}]`, example));
  }

  /** An unsigned integer as a decimal string; `max` as a bigint. Numeric strings are tolerated (with a note). */
  unsigned(v: JsonValue | undefined, where: string, max: bigint, what: string, example: string): string {
    let raw: string;
    if (v instanceof JsonNumber) {
      raw = v.raw;
    } else if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(v)) {
      raw = v.trim();
      this.notes.push(`${where} is the string ${shown(v)}: read as a number (Docker itself wants a JSON number)`);
    } else {
      return this.fail(where, `must be ${what}, got ${typeName(v)}`, `write e.g. ${example}`);
    }
    if (raw.startsWith('-')) this.fail(where, `${raw} is negative; it must be ${what}`, `write e.g. ${example}`);
    if (!/^\d+$/.test(raw)) {
      // 1e3 or 4.0: Go's decoder refuses anything but a whole number for an unsigned field
      this.fail(where, `${raw} is not a whole number; it must be ${what}`, `write it without a fraction or exponent, e.g. ${example}`);
    }
    const n = BigInt(raw);
    if (n > max) this.fail(where, `${raw} is larger than ${max}; it must be ${what}`, `write e.g. ${example}`);
    return n.toString();
  }

  action(v: JsonValue | undefined, where: string): { name: string; kind: SeccompActionKind } {
    if (typeof v !== 'string') {
      this.fail(where, `must be a seccomp action name, got ${typeName(v)}`, `use one of ${ACTION_NAMES.join(', ')}`);
    }
    const kind = ACTIONS[v as string];
    if (kind === undefined) {
      const near = ACTIONS[(v as string).trim().toUpperCase()] !== undefined ? ` (names are case-sensitive: ${(v as string).trim().toUpperCase()})` : '';
      this.fail(where, `${shown(v as string)} is not a seccomp action${near}`, `use one of ${ACTION_NAMES.join(', ')}`);
    }
    return { name: v as string, kind: kind! };
  }

  /** moby's KernelVersion.UnmarshalJSON: "<kernel>.<major>", each 0..255, not "0.0"; "" means none. */
  minKernel(v: JsonValue | undefined, where: string): [number, number] | null {
    if (!present(v)) return null;
    const s = this.string(v, where, '"minKernel": "5.1"');
    if (s === '') return null;
    const m = /^(\d+)\.(\d+)$/.exec(s);
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 255 || (Number(m[1]) === 0 && Number(m[2]) === 0)) {
      this.fail(where, `${shown(s)} is not a kernel version`, 'write it as "<major>.<minor>", e.g. "5.1" (Docker reads no more than that)');
    }
    return [Number(m![1]), Number(m![2])];
  }
}

interface Filter {
  caps: string[];
  arches: string[];
  minKernel: [number, number] | null;
}

function readFilter(r: ProfileReader, v: JsonValue | undefined, where: string): Filter | null {
  if (!present(v)) return null;
  if (!isObject(v)) r.fail(where, `must be an object, got ${typeName(v)}`, `write e.g. "${where.split('.').pop()}": {"caps": ["CAP_SYS_ADMIN"]}`);
  const o = v as JsonObject;
  const caps = present(o.get('caps')) ? r.stringList(o.get('caps'), `${where}.caps`, '"caps": ["CAP_SYS_ADMIN"]') : [];
  for (const [i, c] of caps.entries()) {
    if (!/^CAP_[A-Z0-9_]+$/.test(c)) r.notes.push(`${where}.caps[${i}] ${shown(c)} is not a CAP_ name: it never matches (Docker compares the names exactly)`);
  }
  const arches = present(o.get('arches')) ? r.stringList(o.get('arches'), `${where}.arches`, '"arches": ["amd64", "arm64"]') : [];
  const minKernel = r.minKernel(o.get('minKernel'), `${where}.minKernel`);
  return { caps, arches, minKernel };
}

function kernelOf(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function kernelAtLeast(have: [number, number], want: [number, number]): boolean {
  return have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]);
}

/** Why moby leaves this entry out on this host, or null when it applies. Same order of checks as moby. */
function leftOutBecause(includes: Filter | null, excludes: Filter | null, arch: string, caps: Set<string>, kernel: [number, number] | null, release: string): string | null {
  const k = (v: [number, number]) => `${v[0]}.${v[1]}`;
  if (excludes) {
    if (excludes.arches.includes(arch)) return `excluded on ${arch}`;
    const had = excludes.caps.filter((c) => caps.has(c));
    if (had.length > 0) return `excluded with ${had.join(', ')}`;
    if (excludes.minKernel) {
      if (!kernel) return `kernel release ${shown(release)} cannot be compared with excludes.minKernel ${k(excludes.minKernel)}`;
      if (kernelAtLeast(kernel, excludes.minKernel)) return `excluded on kernel ${k(excludes.minKernel)} or later (this is ${release})`;
    }
  }
  if (includes) {
    if (includes.arches.length > 0 && !includes.arches.includes(arch)) return `only for ${includes.arches.join(', ')} (this is ${arch})`;
    const missing = includes.caps.filter((c) => !caps.has(c));
    if (missing.length > 0) return `needs ${missing.join(' and ')}`;
    if (includes.minKernel) {
      if (!kernel) return `kernel release ${shown(release)} cannot be compared with includes.minKernel ${k(includes.minKernel)}`;
      if (!kernelAtLeast(kernel, includes.minKernel)) return `needs kernel ${k(includes.minKernel)} or later (this is ${release})`;
    }
  }
  return null;
}

const UINT64_MAX = (1n << 64n) - 1n;

function actionsEqual(a: SeccompAction, b: SeccompAction): boolean {
  return a.kind === b.kind && (a.kind === 'errno' || a.kind === 'trace' ? (a.data ?? 1) === (b.data ?? 1) : true);
}

function say(action: SeccompAction): string {
  return describeAction(action, errnoName);
}

/** The action with its data: ERRNO and TRACE return EPERM (1) when no errnoRet is given, as runc does. */
function actionWithData(r: ProfileReader, kind: SeccompActionKind, ret: JsonValue | undefined, where: string, name: string): SeccompAction {
  if (kind === 'errno' || kind === 'trace') {
    if (!present(ret)) return { kind, data: 1 };
    // SECCOMP_RET_DATA is 16 bits; the kernel caps an errno above 4095 (MAX_ERRNO)
    const data = Number(r.unsigned(ret, where, 65535n, 'a number from 0 to 65535', `"${where.split('.').pop()}": 38`));
    if (kind === 'errno' && data > 4095) r.notes.push(`${where} ${data} is above 4095: the kernel returns errno 4095 instead`);
    return { kind, data };
  }
  if (present(ret)) r.notes.push(`${where} is ignored: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE use it (the action is ${name})`);
  return { kind };
}

// ---------------------------------------------------------------------------------------------------

function readProfileTree(text: string, r: ProfileReader): JsonObject {
  if (text.charCodeAt(0) === 0xfeff) {
    r.fail('', 'starts with a byte order mark, which Docker\'s JSON decoder refuses', 'save the file as UTF-8 without BOM');
  }
  let tree: JsonValue;
  try {
    tree = parseJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      const where = text.trim() === '' ? 'is empty' : `is not JSON: ${err.what} at ${lineColumn(text, err.offset)}`;
      r.fail('', where, 'fix the JSON; a seccomp profile is one JSON object like {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [...]}');
    }
    throw err;
  }
  if (!isObject(tree)) {
    r.fail('', `is ${typeName(tree)}, not a seccomp profile (a JSON object)`, 'give a profile like {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [...]}');
  }
  return tree as JsonObject;
}

/**
 * Read a Docker/OCI seccomp profile into a FilterSpec for this host. Throws a UsageError naming the file,
 * the JSON path (e.g. `syscalls[3].action`) and what to do, for anything Docker or runc would refuse.
 */
export function parseSeccompProfile(text: string, path: string, ctx: ProfileContext): FilterSpec {
  const r = new ProfileReader(path);
  const top = readProfileTree(text, r);
  const notes = r.notes;

  if (!present(top.get('defaultAction'))) {
    const empty = !present(top.get('syscalls')) || (Array.isArray(top.get('syscalls')) && (top.get('syscalls') as JsonValue[]).length === 0);
    r.fail('', 'has no "defaultAction"', empty
      ? 'add e.g. "defaultAction": "SCMP_ACT_ERRNO" (Docker reads a profile without defaultAction and syscalls as no filter at all, like seccomp=unconfined)'
      : 'add e.g. "defaultAction": "SCMP_ACT_ERRNO" (what every syscall no entry names gets)');
  }
  const def = r.action(top.get('defaultAction'), 'defaultAction');
  const defaultAction = actionWithData(r, def.kind, top.get('defaultErrnoRet'), 'defaultErrnoRet', def.name);
  if ((def.kind === 'errno' || def.kind === 'trace') && !present(top.get('defaultErrnoRet'))) {
    notes.push(`defaultAction ${def.name} without defaultErrnoRet: errno 1 (EPERM), as runc does`);
  }
  if (def.kind === 'notify') notes.push('defaultAction SCMP_ACT_NOTIFY: runc refuses it as the default action (crun may accept it)');

  // Architectures: only the native one matters here; what the profile says is recorded.
  const arch = dockerArch(ctx.arch);
  const nativeScmp = scmpArchOf(arch);
  const architectures = present(top.get('architectures')) ? r.stringList(top.get('architectures'), 'architectures', '"architectures": ["SCMP_ARCH_X86_64"]') : [];
  architectures.forEach((a, i) => {
    if (SCMP_ARCHES[a] === undefined) r.fail(`architectures[${i}]`, `${shown(a)} is not a seccomp architecture`, `use one of ${Object.keys(SCMP_ARCHES).join(', ')}`);
  });
  let archMap: JsonValue[] = [];
  if (present(top.get('archMap'))) {
    const am = top.get('archMap');
    if (!Array.isArray(am)) r.fail('archMap', `must be an array, got ${typeName(am)}`, 'write e.g. "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}]');
    archMap = am as JsonValue[];
  }
  if (architectures.length > 0 && archMap.length > 0) {
    // moby setupSeccomp: "'architectures' and 'archMap' were specified in the seccomp profile, use either"
    r.fail('', 'has both "architectures" and "archMap"', 'keep one of them (Docker refuses both)');
  }
  if (architectures.length > 0) {
    notes.push(`architectures: ${architectures.join(', ')}${nativeScmp && !architectures.includes(nativeScmp) ? ` (the native ${nativeScmp} is always filtered too)` : ''}`);
  }
  let nativeEntry: string | null = null;
  archMap.forEach((e, i) => {
    const where = `archMap[${i}]`;
    if (!isObject(e)) r.fail(where, `must be an object, got ${typeName(e)}`, 'write e.g. {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}');
    const o = e as JsonObject;
    const main = r.string(o.get('architecture'), `${where}.architecture`, '"architecture": "SCMP_ARCH_X86_64"');
    const subs = present(o.get('subArchitectures')) ? r.stringList(o.get('subArchitectures'), `${where}.subArchitectures`, '"subArchitectures": ["SCMP_ARCH_X86"]') : [];
    if (main === nativeScmp && nativeEntry === null) {
      // moby uses the first entry for the native arch; runc refuses an unknown name among them
      [main, ...subs].forEach((a, j) => {
        if (SCMP_ARCHES[a] === undefined) {
          r.fail(j === 0 ? `${where}.architecture` : `${where}.subArchitectures[${j - 1}]`, `${shown(a)} is not a seccomp architecture`, `use one of ${Object.keys(SCMP_ARCHES).join(', ')}`);
        }
      });
      nativeEntry = `archMap: ${where} applies on ${arch}: ${[main, ...subs].join(', ')}`;
    }
  });
  if (archMap.length > 0) notes.push(nativeEntry ?? `archMap has no entry for ${arch}${nativeScmp ? ` (${nativeScmp})` : ''}: the filter covers the native architecture only`);

  // Entries.
  const rules: FilterRule[] = [];
  const syscalls = top.get('syscalls');
  let entries: JsonValue[] = [];
  if (present(syscalls)) {
    if (!Array.isArray(syscalls)) r.fail('syscalls', `must be an array of entries, got ${typeName(syscalls)}`, 'write e.g. "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]');
    entries = syscalls as JsonValue[];
  }
  const caps = new Set(ctx.capabilities);
  const kernel = kernelOf(ctx.kernelRelease);
  entries.forEach((e, i) => {
    const where = `syscalls[${i}]`;
    if (!isObject(e)) r.fail(where, `must be an object, got ${typeName(e)}`, 'write e.g. {"names": ["read"], "action": "SCMP_ACT_ALLOW"}');
    const o = e as JsonObject;
    // names / legacy name
    let names: string[];
    const hasNames = present(o.get('names'));
    const hasName = present(o.get('name')) && o.get('name') !== '';
    if (hasNames && hasName) r.fail(where, 'has both "name" and "names"', 'keep "names" (Docker refuses both)');
    if (hasNames) names = r.stringList(o.get('names'), `${where}.names`, '"names": ["io_uring_setup"]');
    else if (hasName) names = [r.string(o.get('name'), `${where}.name`, '"name": "io_uring_setup"')];
    else r.fail(where, 'names no syscall', 'add e.g. "names": ["io_uring_setup"]');
    names!.forEach((n, j) => {
      if (n === '') r.fail(hasNames ? `${where}.names[${j}]` : `${where}.name`, 'is empty', 'give a syscall name such as "io_uring_setup" (runc refuses an empty one)');
    });
    const act = r.action(o.get('action'), `${where}.action`);
    const action = actionWithData(r, act.kind, o.get('errnoRet'), `${where}.errnoRet`, act.name);
    // args
    const args: ArgCondition[] = [];
    const rawArgs = o.get('args');
    if (present(rawArgs)) {
      if (!Array.isArray(rawArgs)) r.fail(`${where}.args`, `must be an array of conditions, got ${typeName(rawArgs)}`, 'write e.g. "args": [{"index": 0, "value": 128, "op": "SCMP_CMP_GT"}]');
      (rawArgs as JsonValue[]).forEach((a, j) => {
        const aw = `${where}.args[${j}]`;
        if (!isObject(a)) r.fail(aw, `must be an object, got ${typeName(a)}`, 'write e.g. {"index": 0, "value": 128, "op": "SCMP_CMP_GT"}');
        const ao = a as JsonObject;
        if (!present(ao.get('index'))) r.fail(aw, 'has no "index"', 'add the argument number, 0 to 5, e.g. "index": 0');
        const index = Number(r.unsigned(ao.get('index'), `${aw}.index`, 5n, 'an argument number from 0 to 5 (a syscall has at most 6)', '"index": 0'));
        if (!present(ao.get('op'))) r.fail(aw, 'has no "op"', `add one of ${Object.keys(OPS).join(', ')}`);
        const opName = ao.get('op');
        if (typeof opName !== 'string' || OPS[opName] === undefined) {
          r.fail(`${aw}.op`, typeof opName === 'string' ? `${shown(opName)} is not a seccomp comparison` : `must be a comparison name, got ${typeName(opName)}`, `use one of ${Object.keys(OPS).join(', ')}`);
        }
        const op = OPS[opName as string]!;
        if (!present(ao.get('value'))) notes.push(`${aw}.value is missing: 0, as Docker reads it`);
        const value = present(ao.get('value')) ? r.unsigned(ao.get('value'), `${aw}.value`, UINT64_MAX, 'a number from 0 to 18446744073709551615', '"value": 128') : '0';
        const valueTwo = present(ao.get('valueTwo')) ? r.unsigned(ao.get('valueTwo'), `${aw}.valueTwo`, UINT64_MAX, 'a number from 0 to 18446744073709551615', '"valueTwo": 0') : '0';
        args.push({ index, op, value, valueTwo: op === 'MASKED_EQ' ? valueTwo : '0' });
      });
    }
    const includes = readFilter(r, o.get('includes'), `${where}.includes`);
    const excludes = readFilter(r, o.get('excludes'), `${where}.excludes`);
    const why = leftOutBecause(includes, excludes, arch, caps, kernel, ctx.kernelRelease);
    if (why !== null) {
      notes.push(`${where} left out: ${why}`);
      return;
    }
    if (names!.length === 0) {
      notes.push(`${where} names no syscall: nothing to filter`);
      return;
    }
    if (actionsEqual(action, defaultAction)) {
      notes.push(`${where} has the default action (${say(action)}): runc skips it`);
    }
    // runc matchCall: several conditions on one argument = one rule per condition (OR); else one ANDed rule
    const perIndex = new Map<number, number>();
    for (const a of args) perIndex.set(a.index, (perIndex.get(a.index) ?? 0) + 1);
    const shared = [...perIndex].filter(([, n]) => n > 1).map(([idx]) => idx);
    if (shared.length > 0) {
      notes.push(`${where}: ${shared.length === 1 ? `argument ${shared[0]} has` : `arguments ${shared.join(', ')} have`} several conditions: one rule per condition (any of them matches), as runc does`);
      args.forEach((a, j) => rules.push({ syscalls: [...names!], action, args: [a], origin: `${where} (condition ${j + 1} of ${args.length})` }));
    } else {
      rules.push({ syscalls: [...names!], action, args, origin: where });
    }
  });

  // libseccomp keeps the first unconditional rule of a syscall and silently drops the later ones.
  const decidedBy = new Map<string, FilterRule>();
  for (const rule of rules) {
    if (actionsEqual(rule.action, defaultAction)) continue;
    const shadowed: string[] = [];
    for (const s of rule.syscalls) {
      const first = decidedBy.get(s);
      if (first && !actionsEqual(first.action, rule.action)) shadowed.push(`${s} (${first.origin}: ${say(first.action)})`);
      if (!first && rule.args.length === 0) decidedBy.set(s, rule);
    }
    if (shadowed.length > 0) {
      notes.push(`${rule.origin} (${say(rule.action)}) has no effect on ${shadowed.join(', ')}: libseccomp keeps the earlier unconditional rule`);
    }
  }

  return {
    source: 'oci-profile',
    path,
    defaultAction,
    defaultOrigin: 'defaultAction',
    rules,
    notes,
  };
}

/** Read and parse a profile file: a regular file of at most 4 MiB. */
export function loadSeccompProfile(path: string, ctx: ProfileContext): FilterSpec {
  return parseSeccompProfile(readSeccompProfileText(path), path, ctx);
}

/** The text of a profile file, or a UsageError saying why it cannot be read. */
export function readSeccompProfileText(path: string): string {
  const hint = 'pass a readable seccomp profile file, e.g. /etc/docker/seccomp.json';
  const why = (err: unknown): string => {
    const code = (err as NodeJS.ErrnoException | null)?.code ?? 'error';
    const what: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', ENOTDIR: 'a path component is not a directory', ELOOP: 'too many symbolic links', EISDIR: 'is a directory' };
    return `${what[code] ?? 'cannot be read'} (${code})`;
  };
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`seccomp profile ${path}: is a directory, not a file`, hint);
    if (!st.isFile()) throw new UsageError(`seccomp profile ${path}: is not a regular file`, hint);
    size = st.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`seccomp profile ${path}: ${why(err)}`, hint);
  }
  if (size > MAX_PROFILE_BYTES) {
    throw new UsageError(`seccomp profile ${path}: is ${size} bytes, larger than ${MAX_PROFILE_BYTES} (4 MiB); not a seccomp profile`, hint);
  }
  // Bounded and regular-only at the read itself: the path may have been replaced since the stat (by a FIFO, a device).
  const read = readRegularFile(path, MAX_PROFILE_BYTES);
  if (!read.ok) {
    if (read.code === 'E2BIG') throw new UsageError(`seccomp profile ${path}: is larger than ${MAX_PROFILE_BYTES} bytes (4 MiB); not a seccomp profile`, hint);
    if (read.code === 'ENOTREG') throw new UsageError(`seccomp profile ${path}: is ${read.why}`, hint);
    throw new UsageError(`seccomp profile ${path}: ${why({ code: read.code })}`, hint);
  }
  return read.text;
}

// ---------------------------------------------------------------------------------------------------
// Static verdicts.

/**
 * What the filter does to `syscall` when nothing is known about its arguments, with the runtimes'
 * rules: a rule with the default action is skipped by runc and decides nothing; of the others, the
 * FIRST unconditional one decides (libseccomp db_rule_add keeps it and drops later rules for the same
 * syscall, conditional or not, without an error; an unconditional rule also replaces conditional ones
 * added before it). Without one, conditional rules decide when their conditions hold ('conditional',
 * the first one's action; `otherwise` = the default). `rules` lists every entry that names the syscall,
 * those that take no effect marked so.
 */
export function syscallVerdict(spec: FilterSpec, syscall: string): SyscallVerdict {
  const naming = spec.rules.filter((r) => r.syscalls.includes(syscall));
  const effective = naming.filter((r) => !actionsEqual(r.action, spec.defaultAction));
  const decider = effective.find((r) => r.args.length === 0);
  const rules = naming.map((r) => {
    if (actionsEqual(r.action, spec.defaultAction)) return `${r.origin} (the default action: skipped)`;
    if (decider && r !== decider) return `${r.origin} (no effect: ${decider.origin} decides)`;
    return r.origin;
  });
  if (decider) return { syscall, action: decider.action, by: 'rule', rules };
  const conditional = effective[0];
  if (conditional) return { syscall, action: conditional.action, by: 'conditional', rules, otherwise: spec.defaultAction };
  // Only rules with the default action (or none): the default decides; an unconditional one says so too.
  if (naming.some((r) => r.args.length === 0)) return { syscall, action: spec.defaultAction, by: 'rule', rules };
  return { syscall, action: spec.defaultAction, by: 'default', rules };
}

/** Verdicts for io_uring_setup, io_uring_enter and io_uring_register, in that order. */
export function ioUringVerdicts(spec: FilterSpec): SyscallVerdict[] {
  return IO_URING_SYSCALLS.map((s) => syscallVerdict(spec, s));
}

// ---------------------------------------------------------------------------------------------------
// The least change that lets the io_uring data path through.

const PERMISSIVE = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']);
const IO_URING = new Set<string>(IO_URING_SYSCALLS);

function listOf(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function unrestricted(f: JsonValue | undefined): boolean {
  if (!isObject(f)) return true; // absent or null
  const nonEmpty = (k: string) => {
    const v = f.get(k);
    return Array.isArray(v) ? v.length > 0 : typeof v === 'string' ? v !== '' : present(v);
  };
  return !nonEmpty('caps') && !nonEmpty('arches') && !nonEmpty('minKernel');
}

/** The layout of the input, to write the edited profile the same way. */
function layoutOf(text: string): { indent: string; eol: string; lead: string; trail: string } {
  const body = text.trim();
  const lead = text.slice(0, text.length - text.trimStart().length);
  const trail = text.slice(text.trimEnd().length);
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  if (!body.includes('\n')) return { indent: '', eol, lead, trail };
  const m = /\n([ \t]+)\S/.exec(body);
  if (!m) return { indent: '  ', eol, lead, trail };
  const first = m[1]!;
  const indent = first.startsWith('\t') ? '\t' : ' '.repeat(Math.min(first.length, 10));
  return { indent, eol, lead, trail };
}

/**
 * The given profile with io_uring_setup, io_uring_enter and io_uring_register allowed and nothing else
 * changed: they are taken out of every entry that does not let them through (an entry left naming
 * nothing is removed), and when the default action does not let them through either, one SCMP_ACT_ALLOW
 * entry for those not yet allowed unconditionally is appended to `syscalls`. SCMP_ACT_LOG counts as
 * letting through (the call runs; it is only logged). The text keeps the input's indentation and
 * line ends, so a diff shows only the edit. A malformed profile is a UsageError (parseSeccompProfile).
 */
export function allowIoUring(text: string, path: string): { text: string; changed: boolean; changes: string[] } {
  const hostCtx: ProfileContext = { arch: process.arch, kernelRelease: release(), capabilities: [] };
  parseSeccompProfile(text, path, hostCtx); // validation only: the edit below assumes a well-formed profile
  const r = new ProfileReader(path);
  const top = readProfileTree(text, r);
  const changes: string[] = [];

  const syscalls = top.get('syscalls');
  const entries: JsonValue[] = Array.isArray(syscalls) ? syscalls : [];
  const kept: JsonValue[] = [];
  entries.forEach((e, i) => {
    const o = e as JsonObject;
    const action = o.get('action') as string;
    if (PERMISSIVE.has(action)) {
      kept.push(o);
      return;
    }
    const name = o.get('name');
    const names = o.get('names');
    if (Array.isArray(names)) {
      const removed = (names as string[]).filter((n) => IO_URING.has(n));
      if (removed.length > 0) {
        const rest = (names as string[]).filter((n) => !IO_URING.has(n));
        const unique = IO_URING_SYSCALLS.filter((s) => removed.includes(s));
        if (rest.length === 0) {
          changes.push(`removed syscalls[${i}] (${action}): it named only ${listOf(unique)}`);
          return;
        }
        o.set('names', rest);
        changes.push(`took ${listOf(unique)} out of syscalls[${i}] (${action})`);
      }
    } else if (typeof name === 'string' && IO_URING.has(name)) {
      changes.push(`removed syscalls[${i}] (${action}): it named only ${name}`);
      return;
    }
    kept.push(o);
  });

  const defaultLetsThrough = PERMISSIVE.has(top.get('defaultAction') as string);
  const allowed = new Set<string>();
  for (const e of kept) {
    const o = e as JsonObject;
    const args = o.get('args');
    if (!PERMISSIVE.has(o.get('action') as string) || (Array.isArray(args) && args.length > 0)) continue;
    if (!unrestricted(o.get('includes')) || !unrestricted(o.get('excludes'))) continue;
    const names = o.get('names');
    for (const n of Array.isArray(names) ? names : [o.get('name')]) if (typeof n === 'string') allowed.add(n);
  }
  const missing = IO_URING_SYSCALLS.filter((s) => !allowed.has(s));
  if (!defaultLetsThrough && missing.length > 0) {
    const entry: JsonObject = new Map<string, JsonValue>([
      ['names', [...missing]],
      ['action', 'SCMP_ACT_ALLOW'],
      ['comment', 'added by uring-probe seccomp-profile: the io_uring data path needs these'],
    ]);
    kept.push(entry);
    changes.push(`${Array.isArray(syscalls) ? 'added' : 'created "syscalls" with'} syscalls[${kept.length - 1}]: SCMP_ACT_ALLOW for ${listOf(missing)}`);
  }
  if (changes.length === 0) return { text, changed: false, changes };
  top.set('syscalls', kept);

  const layout = layoutOf(text);
  const out = `${layout.lead}${writeJson(top, layout.indent, layout.eol)}${layout.trail}`;
  // The edit must do what it says, by the same reading the probe uses.
  const after = ioUringVerdicts(parseSeccompProfile(out, path, hostCtx));
  const blocked = after.filter((v) => v.action.kind !== 'allow' && v.action.kind !== 'log');
  if (blocked.length > 0) {
    throw new Error(`allowIoUring left ${blocked.map((v) => `${v.syscall} ${say(v.action)}`).join(', ')} in ${path}`);
  }
  return { text: out, changed: true, changes };
}

// Fuzz: generated garbage at every reader (gate, diff, fleet, --policy, seccomp-profile --from,
// check --seccomp-profile / --systemd-unit) and at the command line, for a bounded time. Each case
// must end with a documented exit code, at most one line on stderr (or one JSON document on stdout
// with --json), no stack trace, no raw control character from the input, and a bounded peak RSS.
//
// Environment (all optional):
//   URING_FUZZ_SEED=N       replay a run (every failure prints its seed and case number); default: a fixed
//                           seed, so that `npm test` and CI are reproducible; `random`: a new seed each
//                           run (`npm run fuzz` explores with random seeds for longer)
//   URING_FUZZ_CASE=I       run only case I of that seed (plus nothing else)
//   URING_FUZZ_MS=N         time budget of the whole run, fixed cases included (default 55000)
//   URING_FUZZ_RUNS=N       at most N random CLI runs (default 400)
//   URING_FUZZ_JOBS=N       CLI processes at a time (default: min(4, CPUs))
//   URING_FUZZ_MAX_RSS_MIB  peak RSS bound of one CLI process (default 256)
//   URING_FUZZ_KEEP=1       keep every case directory (failed ones are always kept)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH, FIXTURES, REPORTS, makeTempDir, removeDir } from './helpers/paths.js';

// ----------------------------------------------------------------------------------------------
// Settings

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
  return n;
}

const DEFAULT_SEED = 20261126;
const SEED_ENV = process.env['URING_FUZZ_SEED'];
const SEED =
  SEED_ENV === 'random' ? (Date.now() ^ (process.pid << 16)) >>> 0 : SEED_ENV ? envNumber('URING_FUZZ_SEED', 0) >>> 0 : DEFAULT_SEED;
const ONLY_CASE = process.env['URING_FUZZ_CASE'] ? envNumber('URING_FUZZ_CASE', 0) : null;
const BUDGET_MS = envNumber('URING_FUZZ_MS', 55_000);
const MAX_RUNS = envNumber('URING_FUZZ_RUNS', 400);
const JOBS = Math.max(1, envNumber('URING_FUZZ_JOBS', Math.min(4, availableParallelism())));
const MAX_RSS_KIB = envNumber('URING_FUZZ_MAX_RSS_MIB', 256) * 1024;
const KEEP = process.env['URING_FUZZ_KEEP'] === '1';
/** A CLI run past this is a hang (check runs real probes: it gets more). */
const HANG_MS = 20_000;
const CHECK_HANG_MS = 45_000;

// ----------------------------------------------------------------------------------------------
// A seeded PRNG (mulberry32) and helpers

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

/** The PRNG of case `index` of run `seed`: a case is replayable on its own. */
function caseRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

// ----------------------------------------------------------------------------------------------
// Real inputs to start from

const REAL_REPORTS: string[] = readdirSync(REPORTS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(join(REPORTS, f), 'utf8'));
const REAL_PROFILES: string[] = readdirSync(join(FIXTURES, 'seccomp'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(join(FIXTURES, 'seccomp', f), 'utf8'));
const REAL_UNITS: string[] = readdirSync(join(FIXTURES, 'systemd'))
  .filter((f) => f.endsWith('.service'))
  .map((f) => readFileSync(join(FIXTURES, 'systemd', f), 'utf8'));
const REAL_POLICY = JSON.stringify({ policyVersion: 1, description: 'fuzz', require: ['COOP_TASKRUN', 'op:SEND_ZC'], minPps: 1000, minRatio: 0.5, strict: true });
const GOOD_REPORT = join(REPORTS, '6.18-compatible.json');

const CONTROLS = ['\u001b', '\u0007', '\u0000', '\u009b', '\u0085', '\u007f', '\u001b]0;pwned\u0007', '\u001b[2J', '\r', '\u0008'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'];
const UNICODE = ['é', 'ß', '日本', '🦀', '\u202e', '\u200b', '\ufeff', '\ud800', '\udfff', 'Ω\u0301', '\uffff'];
/** Raw JSON tokens put in place of a field's value. */
const WRONG_VALUES = [
  '1e308', '-1e308', '1e309', '-1e999', '-0', '0', '5e-324', '1e-400', '9007199254740993', '123456789012345678901234567890',
  '"NaN"', '"Infinity"', '"-0"', 'null', 'true', 'false', '[]', '{}', '""', '"x"', '[null]', '{"__proto__":{"x":1}}',
  '"\\u001b[31m\\u0007\\u0000\\u009b"', '[[[[[[[[]]]]]]]]', '-1', '4294967296', '"2026-13-45T99:99:99Z"', '"__proto__"',
];

// ----------------------------------------------------------------------------------------------
// Generators of documents

/** Every path to a value in `doc`. */
function paths(doc: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (Array.isArray(doc)) doc.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (doc !== null && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) paths(v, [...prefix, k], out);
  if (prefix.length > 0) out.push(prefix);
  return out;
}

const MARK = '"\u0001FUZZ-MARK\u0001"';

/** `text` (JSON) with the value at a random path replaced by the raw token `raw`. */
function replaceAt(rng: Rng, text: string, raw: string): string {
  const doc = JSON.parse(text) as unknown;
  const all = paths(doc);
  if (all.length === 0) return raw;
  const path = rng.pick(all);
  let at = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = '\u0001FUZZ-MARK\u0001';
  return JSON.stringify(doc, null, rng.bool() ? 2 : undefined).replace(JSON.stringify('\u0001FUZZ-MARK\u0001'), raw);
}

/** Every string at a random set of paths given control characters. */
function withControls(rng: Rng, text: string): string {
  const doc = JSON.parse(text) as unknown;
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return rng.bool(0.4) ? `${v}${rng.pick(CONTROLS)}${rng.pick(CONTROLS)}x` : v;
    if (Array.isArray(v)) return v.map(visit);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
    return v;
  };
  const out = visit(doc) as Record<string, unknown>;
  const host = out['host'] as Record<string, unknown> | undefined;
  if (host && typeof host === 'object') host['hostname'] = `web${rng.pick(CONTROLS)}-01${rng.pick(CONTROLS)}`;
  return JSON.stringify(out);
}

/** Prototype keys as keys somewhere in the document (raw text, so `__proto__` stays an own key). */
function withProtoKeys(rng: Rng, text: string): string {
  const doc = JSON.parse(text) as unknown;
  const objects: string[] = [];
  const all = paths(doc).filter((p) => {
    let v = doc as Record<string | number, unknown>;
    for (const k of p) v = v[k] as Record<string | number, unknown>;
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  objects.push(...all.map((p) => JSON.stringify(p)));
  let out = JSON.stringify(doc);
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    // insert after a random '{'
    const opens = [...out.matchAll(/\{/g)].map((m) => m.index!);
    const at = rng.pick(opens);
    const key = rng.pick(PROTO_KEYS);
    const value = rng.pick(['{"verdict":"compatible","polluted":true}', '"compatible"', 'null', '[]', '{"name":"uring-probe"}', '0']);
    const rest = out.slice(at + 1);
    out = `${out.slice(0, at + 1)}${JSON.stringify(key)}:${value}${rest.startsWith('}') ? '' : ','}${rest}`;
  }
  return out;
}

function deepNesting(rng: Rng): string {
  const depth = rng.pick([65, 100, 1000, 5000, 20_000, 100_000]);
  switch (rng.int(0, 3)) {
    case 0:
      return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    case 1:
      return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    case 2:
      return `${'['.repeat(depth)}`; // unclosed
    default: {
      // deep inside an otherwise real report
      const report = JSON.parse(rng.pick(REAL_REPORTS)) as Record<string, unknown>;
      (report['host'] as Record<string, unknown>)['hostname'] = '\u0001DEEP\u0001';
      return JSON.stringify(report).replace('"\u0001DEEP\u0001"', `${'[{"x":'.repeat(depth)}0${'}]'.repeat(depth)}`);
    }
  }
}

function hugeString(rng: Rng, base: string): string {
  const mib = rng.pick([1, 2, 3, 5]);
  const unit = rng.pick(['A', 'é', '🦀', '\\u001b', '\\"', ' ']);
  const big = unit.repeat(Math.floor((mib * 1024 * 1024) / Buffer.byteLength(unit)));
  if (rng.bool(0.3)) return `"${big}"`;
  return replaceAt(rng, base, `"${big}"`);
}

/** One untrusted JSON-ish document built from `real` (a real input of that kind). */
function garbageDocument(rng: Rng, real: string): { kind: string; data: string | Buffer } {
  const k = rng.int(0, 11);
  switch (k) {
    case 0:
      return { kind: 'random-bytes', data: rng.bytes(rng.pick([0, 1, 2, 16, 300, 4096])) };
    case 1: {
      const buf = Buffer.from(real);
      return { kind: 'truncated', data: buf.subarray(0, rng.int(0, buf.length - 1)) };
    }
    case 2:
      return { kind: 'deep-nesting', data: deepNesting(rng) };
    case 3:
      return { kind: 'huge-string', data: hugeString(rng, real) };
    case 4:
      return { kind: 'proto-keys', data: withProtoKeys(rng, real) };
    case 5:
      return { kind: 'control-chars', data: withControls(rng, real) };
    case 6:
    case 7:
    case 8:
      return { kind: 'wrong-type', data: replaceAt(rng, real, rng.pick(WRONG_VALUES)) };
    case 9: {
      // a byte flipped / inserted in the real text
      const buf = Buffer.from(real);
      const at = rng.int(0, buf.length - 1);
      buf[at] = rng.pick([0x00, 0x1b, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0xff, 0xc3]);
      return { kind: 'byte-flip', data: buf };
    }
    case 10:
      return { kind: 'unicode', data: replaceAt(rng, real, JSON.stringify(Array.from({ length: rng.int(1, 20) }, () => rng.pick(UNICODE)).join(''))) };
    default:
      return { kind: 'json-scalar', data: rng.pick(['null', '0', '"x"', 'true', '[]', '{}', '{"tool":{"name":"uring-probe"},"schemaVersion":1}', '{"schemaVersion":"1.0","tool":{"name":"uring-probe"},"error":{"code":"\\u001b","message":7}}', '\ufeff{}', ' \n\t ']) };
  }
}

/** A one-line document for NDJSON (no huge or deep ones: they would dominate the run). */
function ndjsonLine(rng: Rng): string {
  const real = rng.pick(REAL_REPORTS);
  if (rng.bool(0.3)) return JSON.stringify(JSON.parse(real));
  const g = garbageDocument(rng, real);
  const text = Buffer.isBuffer(g.data) ? g.data.toString('latin1') : g.data;
  return text.length > 200_000 ? text.slice(0, 100) : text.replace(/\n/g, ' ');
}

// ----------------------------------------------------------------------------------------------
// Cases

type FileSpec = { name: string; data: string | Buffer } | { name: string; fifo: true } | { name: string; symlink: string };

interface FuzzCase {
  id: string;
  what: string;
  args: string[];
  files: FileSpec[];
  stdin?: string | Buffer;
  /** documented exit codes of this command */
  codes: readonly number[];
  /** the case's stderr may list several `uring-probe:` lines (seccomp-profile's changes, fleet --format csv's skipped inputs) */
  stderrLines?: boolean;
  /** argv carries control characters: a human stdout may show them (stderr never does: usage lines escape them) */
  rawArgv?: boolean;
  hangMs?: number;
}

const GATE_CODES = [0, 1, 2, 3, 64, 65];
const DIFF_CODES = [0, 2, 64, 65];
const FLEET_CODES = [0, 2, 4, 6, 64];
const CHECK_CODES = [0, 1, 2, 3, 64];
const SECCOMP_PROFILE_CODES = [0, 64];
const ARGV_CODES = [0, 1, 2, 3, 4, 6, 64, 65];
const REQUIREMENTS = ['COOP_TASKRUN', 'op:SEND_ZC', 'EXT_ARG', 'IOWQ_MAX_WORKERS', 'multishot-recvmsg', 'loopback', ...PROTO_KEYS, 'op:__proto__', 'op:constructor', 'op:', ',', 'COOP_TASKRUN,,op:NOP'];

function data(g: { data: string | Buffer }): string | Buffer {
  return g.data;
}

function jsonFlag(rng: Rng): string[] {
  return rng.pick([[], [], ['--json'], ['--format', 'json']]);
}

function gateCase(rng: Rng, id: string): FuzzCase {
  const g = garbageDocument(rng, rng.pick(REAL_REPORTS));
  const viaStdin = rng.bool(0.15);
  const req = rng.bool(0.8) ? ['--require', rng.pick(REQUIREMENTS)] : ['--strict'];
  return {
    id,
    what: `gate ${g.kind}${viaStdin ? ' (stdin)' : ''}`,
    args: ['gate', viaStdin ? '-' : 'r.json', ...req, ...jsonFlag(rng)],
    files: viaStdin ? [] : [{ name: 'r.json', data: data(g) }],
    stdin: viaStdin ? data(g) : undefined,
    codes: GATE_CODES,
  };
}

function diffCase(rng: Rng, id: string): FuzzCase {
  const base = rng.pick(REAL_REPORTS);
  const g = garbageDocument(rng, base);
  const realFirst = rng.bool();
  return {
    id,
    what: `diff ${g.kind}`,
    args: ['diff', realFirst ? 'old.json' : 'new.json', realFirst ? 'new.json' : 'old.json', ...(rng.bool(0.3) ? ['--any-host'] : []), ...jsonFlag(rng)],
    files: [{ name: 'old.json', data: base }, { name: 'new.json', data: data(g) }],
    codes: DIFF_CODES,
  };
}

function fleetCase(rng: Rng, id: string): FuzzCase {
  const n = rng.int(6, 14);
  const files: FileSpec[] = [];
  const kinds: string[] = [];
  for (let i = 0; i < n; i++) {
    const g = garbageDocument(rng, rng.pick(REAL_REPORTS));
    kinds.push(g.kind);
    files.push({ name: `in/${rng.bool(0.2) ? 'sub/' : ''}${i}-${g.kind}.json`, data: data(g) });
  }
  const lines = Array.from({ length: rng.int(3, 12) }, () => ndjsonLine(rng));
  files.push({ name: 'in/mixed.ndjson', data: lines.join(rng.bool(0.2) ? '\r\n' : '\n') });
  const viaStdin = rng.bool(0.3);
  const stdinLines = Array.from({ length: rng.int(2, 10) }, () => ndjsonLine(rng));
  const format = rng.pick([[], [], ['--json'], ['--format', 'csv'], ['--verbose']]);
  const gate = rng.bool(0.3) ? ['--require', rng.pick(REQUIREMENTS.slice(0, 6))] : [];
  return {
    id,
    what: `fleet ${n + 1} files (${kinds.join(', ')}, ndjson)${viaStdin ? ' + stdin' : ''}`,
    args: ['fleet', 'in', ...(viaStdin ? ['-'] : []), ...format, ...gate],
    files,
    stdin: viaStdin ? stdinLines.join('\n') : undefined,
    codes: FLEET_CODES,
    stderrLines: format[1] === 'csv',
  };
}

function policyText(rng: Rng): { kind: string; data: string | Buffer } {
  const k = rng.int(0, 3);
  if (k === 0) {
    const names = Array.from({ length: rng.int(1, 4) }, () => rng.pick([...REQUIREMENTS, `${rng.pick(PROTO_KEYS)}${rng.pick(CONTROLS)}`]));
    return { kind: 'policy-names', data: JSON.stringify({ policyVersion: 1, require: names }) };
  }
  if (k === 1) return { kind: 'policy-proto-keys', data: withProtoKeys(rng, REAL_POLICY) };
  return garbageDocument(rng, REAL_POLICY);
}

function policyCase(rng: Rng, id: string): FuzzCase {
  const g = policyText(rng);
  return {
    id,
    what: `gate --policy ${g.kind}`,
    args: ['gate', GOOD_REPORT, '--policy', 'policy.json', ...jsonFlag(rng)],
    files: [{ name: 'policy.json', data: data(g) }],
    codes: GATE_CODES,
  };
}

function seccompFromCase(rng: Rng, id: string): FuzzCase {
  const g = garbageDocument(rng, rng.pick(REAL_PROFILES));
  return {
    id,
    what: `seccomp-profile --from ${g.kind}`,
    args: ['seccomp-profile', '--from', 'profile.json', ...(rng.bool(0.3) ? ['-o', 'out.json'] : [])],
    files: [{ name: 'profile.json', data: data(g) }],
    codes: SECCOMP_PROFILE_CODES,
    stderrLines: true,
  };
}

function unitText(rng: Rng): { kind: string; data: string | Buffer } {
  const real = rng.pick(REAL_UNITS);
  const lines = real.split('\n');
  const k = rng.int(0, 5);
  const at = rng.int(0, lines.length);
  const directive = rng.pick(['LimitMEMLOCK', 'User', 'Group', 'SystemCallFilter', 'SystemCallErrorNumber', 'CapabilityBoundingSet', 'AmbientCapabilities', 'SupplementaryGroups', 'NoNewPrivileges', 'SystemCallArchitectures', ...PROTO_KEYS]);
  const value = rng.pick([
    '', '=', '~', '@', '@__proto__', '~@constructor', '18446744073709551616', '-1', '1e308', 'infinity:0', '0:infinity', 'NaN', '99999999999999999999999G',
    `web${rng.pick(CONTROLS)}`, rng.pick(UNICODE), 'x'.repeat(rng.pick([10, 5000, 200_000])), '\\', 'a \\\n b', '"unterminated', "'q'", 'CAP_\u001b', '@system-service:EPERM', 'io_uring_setup:EBOGUS',
  ]);
  switch (k) {
    case 0:
      return { kind: 'unit-random-bytes', data: Buffer.concat([Buffer.from('[Service]\n'), rng.bytes(rng.int(1, 2000))]) };
    case 1:
      lines.splice(at, 0, `${directive}=${value}`);
      return { kind: `unit-directive ${directive}`, data: lines.join('\n') };
    case 2:
      return { kind: 'unit-truncated', data: real.slice(0, rng.int(0, real.length)) };
    case 3:
      lines.splice(at, 0, `[${rng.pick(['Service', 'Unit', ...PROTO_KEYS, '\u001b'])}`);
      return { kind: 'unit-bad-section', data: lines.join('\n') };
    case 4:
      return { kind: 'unit-huge-line', data: `[Service]\nUser=${'n'.repeat(rng.pick([1, 2]) * 1024 * 1024)}\n` };
    default:
      lines.splice(at, 0, `${directive}=${value}`, `${directive.slice(0, rng.int(1, directive.length))}${rng.pick(CONTROLS)}=${value}`);
      return { kind: 'unit-controls', data: lines.join('\n') };
  }
}

function checkCase(rng: Rng, id: string): FuzzCase {
  if (rng.bool(0.5)) {
    const g = unitText(rng);
    return {
      id,
      what: `check --systemd-unit ${g.kind}`,
      args: ['check', '--no-bench', '--systemd-unit', './fuzz.service', ...jsonFlag(rng)],
      files: [{ name: 'fuzz.service', data: data(g) }],
      codes: CHECK_CODES,
      hangMs: CHECK_HANG_MS,
    };
  }
  const g = garbageDocument(rng, rng.pick(REAL_PROFILES));
  return {
    id,
    what: `check --seccomp-profile ${g.kind}`,
    args: ['check', '--no-bench', '--seccomp-profile', 'profile.json', ...jsonFlag(rng)],
    files: [{ name: 'profile.json', data: data(g) }],
    codes: CHECK_CODES,
    hangMs: CHECK_HANG_MS,
  };
}

const COMMANDS = ['gate', 'diff', 'fleet', 'explain', 'seccomp-profile', 'completion', '', 'gat', 'GATE', 'help', '--help', '-h', '--version', '__proto__', 'constructor'];
const OPTIONS = [
  '--json', '--format', '--output', '-o', '--verbose', '-v', '--require', '--min-pps', '--min-ratio', '--strict', '--policy', '--any-host', '--from', '--shell',
  '--no-json', '--no-strict', '--help', '--version', '--timeout', '--memlock', '--user', '--seccomp-profile', '--systemd-unit', '--bench', '--no-bench',
  '--__proto__', '--constructor', '--prototype', '--__proto__.polluted', '--constructor.prototype.polluted', '--toString', '--get-yargs-completions',
  '--', '-', '---', '--=', '--json=false', '--format=', '--min-pps=', '--require=', '-x', '-vv', '-ov', '--x.y.z', '--no-', '--no-no-json',
];
const VALUES = [
  '', ' ', '-', '0', '-1', '1e308', '-0', 'NaN', 'Infinity', '0x10', '1_000', 'json', 'csv', 'junit', 'human', 'prometheus', 'bash', 'zsh',
  'COOP_TASKRUN', 'op:SEND_ZC', '__proto__', 'constructor', 'prototype', 'r.json', 'out.json', 'nonexistent.json', '/nonexistent/x', '.', 'in',
  'fleet', 'gate', 'LOOPBACK', 'true', 'false', 'null', '{}', '[]',
];

function argvToken(rng: Rng): string {
  const k = rng.int(0, 9);
  if (k <= 3) return rng.pick(OPTIONS);
  if (k <= 6) return rng.pick(VALUES);
  if (k === 7) return Array.from({ length: rng.int(1, 6) }, () => rng.pick(UNICODE)).join('');
  if (k === 8) return `${rng.pick(['--', '', '-'])}${rng.pick(['x', 'json', 'require', 'format'])}${rng.pick(CONTROLS.filter((c) => !c.includes('\u0000')))}`; // argv cannot hold NUL
  return rng.pick(['--require', '--policy', '--format', '']) + (rng.bool() ? '=' : '') + 'x'.repeat(rng.pick([1000, 100_000]));
}

function argvCase(rng: Rng, id: string): FuzzCase {
  const args: string[] = [];
  const command = rng.pick(COMMANDS);
  if (command !== '' || rng.bool(0.3)) args.push(command);
  if (command === 'gate' && rng.bool(0.5)) args.push('r.json');
  if (command === 'diff' && rng.bool(0.5)) args.push('r.json', 'r.json');
  if (command === 'fleet' && rng.bool(0.5)) args.push('in');
  const n = rng.int(0, 8);
  for (let i = 0; i < n; i++) {
    const token = argvToken(rng);
    args.push(token);
    if (rng.bool(0.2)) args.push(token); // repeated
  }
  return {
    id,
    what: `argv ${command || '(no command)'}`,
    args,
    files: [{ name: 'r.json', data: readFileSync(GOOD_REPORT) }, { name: 'in/a.json', data: readFileSync(GOOD_REPORT) }],
    stdin: '',
    codes: ARGV_CODES,
    stderrLines: true, // seccomp-profile and fleet --format csv list lines; failures are still checked for one line
    rawArgv: args.some((a) => /[\u0000-\u001f\u007f-\u009f]/.test(a)),
  };
}

/** Case `index` of the random schedule (weights: fleet batches carry many inputs each). */
function randomCase(seed: number, index: number): FuzzCase {
  const rng = caseRng(seed, index);
  const id = `seed ${seed} case ${index}`;
  const r = rng.next();
  if (r < 0.16) return gateCase(rng, id);
  if (r < 0.26) return diffCase(rng, id);
  if (r < 0.44) return fleetCase(rng, id);
  if (r < 0.56) return policyCase(rng, id);
  if (r < 0.72) return seccompFromCase(rng, id);
  if (r < 0.75) return checkCase(rng, id);
  return argvCase(rng, id);
}

/** Fixed cases (regressions and special files), run every time before the random ones. */
function fixedCases(): FuzzCase[] {
  const report = readFileSync(GOOD_REPORT, 'utf8');
  const bigReport = (mib: number): string => report.replace(/"hostname":\s*"[^"]*"/, `"hostname":"${'A'.repeat(mib * 1024 * 1024)}"`);
  const profile = readFileSync(join(FIXTURES, 'seccomp', 'kill-io_uring.json'), 'utf8');
  const cases: FuzzCase[] = [
    // regression: V8's JSON.parse message quotes the input; its control characters reached stderr raw
    { id: 'fixed malformed-json-controls', what: 'gate: malformed JSON quoting ESC/BEL/C1', args: ['gate', 'r.json', '--require', 'COOP_TASKRUN'], files: [{ name: 'r.json', data: '{"a":x\u001b]0;pwned\u0007\u009b}' }], codes: GATE_CODES },
    { id: 'fixed malformed-json-controls-fleet', what: 'fleet: malformed JSON quoting ESC/BEL/C1', args: ['fleet', 'in', '--format', 'csv'], files: [{ name: 'in/r.json', data: '{"a":x\u001b]0;pwned\u0007\u009b}' }], codes: FLEET_CODES, stderrLines: true },
    // regression: the same in a policy file
    { id: 'fixed policy-json-controls', what: 'gate --policy: malformed JSON quoting ESC', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', data: '{"require":[\u001b[2J]}' }], codes: GATE_CODES },
    { id: 'fixed policy-name-controls', what: 'gate --policy: requirement name with ESC', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', data: JSON.stringify({ require: ['COOP\u001b]0;x\u0007'] }) }], codes: GATE_CODES },
    { id: 'fixed proto-requirements', what: 'gate --policy: prototype names', args: ['gate', GOOD_REPORT, '--policy', 'p.json', '--json'], files: [{ name: 'p.json', data: JSON.stringify({ require: ['__proto__', 'constructor', 'prototype'] }) }], codes: GATE_CODES },
    { id: 'fixed deep-report', what: 'gate: 100000 levels deep', args: ['gate', 'r.json', '--strict'], files: [{ name: 'r.json', data: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }], codes: GATE_CODES },
    { id: 'fixed deep-policy', what: 'gate --policy: 100000 levels deep', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', data: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}` }], codes: GATE_CODES },
    { id: 'fixed deep-profile', what: 'seccomp-profile --from: 100000 levels deep', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', data: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }], codes: SECCOMP_PROFILE_CODES },
    { id: 'fixed big-report', what: 'gate: a 5 MiB hostname', args: ['gate', 'r.json', '--strict', '--json'], files: [{ name: 'r.json', data: bigReport(5) }], codes: GATE_CODES },
    // ten hosts with a 20 MiB hostname each (links to one file): the roll-up must not hold them all
    { id: 'fixed fleet-huge-hostnames', what: 'fleet: 10 reports with a 20 MiB hostname', args: ['fleet', 'in'], files: [{ name: 'big.json.txt', data: bigReport(20) }, ...Array.from({ length: 10 }, (_, i) => ({ name: `in/${i}.json`, symlink: '../big.json.txt' }))], codes: FLEET_CODES },
    // regression: a schema error naming an unknown key quoted the key raw (describeSchemaErrors)
    { id: 'fixed schema-key-controls', what: 'gate: unknown report field named with ESC/BEL', args: ['gate', 'r.json', '--strict'], files: [{ name: 'r.json', data: report.replace('{', '{"x\u001b]0;pwned\u0007":1,') }], codes: GATE_CODES },
    { id: 'fixed policy-key-controls', what: 'gate --policy: unknown policy field named with ESC', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', data: '{"x\u001b[2J\u009b":1}' }], codes: GATE_CODES },
    // regression: a report path's control characters reached stderr raw (report-input.ts)
    { id: 'fixed path-controls', what: 'gate: a missing report path with ESC', args: ['gate', 'x\u001b]0;pwned\u0007.json', '--strict'], files: [], codes: GATE_CODES },
    { id: 'fixed path-controls-json', what: 'diff --json: a report path with ESC', args: ['diff', 'x\u001b[2J.json', GOOD_REPORT, '--json'], files: [{ name: 'x\u001b[2J.json', data: '{' }], codes: DIFF_CODES },
    { id: 'fixed big-policy', what: 'gate --policy: 2 MiB', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', data: JSON.stringify({ description: 'x'.repeat(2 * 1024 * 1024) }) }], codes: GATE_CODES },
    { id: 'fixed big-unit', what: 'check --systemd-unit: 2 MiB unit file', args: ['check', '--no-bench', '--systemd-unit', './big.service'], files: [{ name: 'big.service', data: `[Service]\n${'# padding\n'.repeat(220_000)}User=nobody\n` }], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    // special files: a FIFO never written to, /dev/zero, a *.json symlink to either
    { id: 'fixed fifo-report', what: 'gate: a FIFO', args: ['gate', 'fifo.json', '--strict'], files: [{ name: 'fifo.json', fifo: true }], codes: GATE_CODES },
    { id: 'fixed zero-report', what: 'diff: /dev/zero', args: ['diff', '/dev/zero', GOOD_REPORT], files: [], codes: DIFF_CODES },
    { id: 'fixed fifo-fleet', what: 'fleet: a FIFO and a /dev/zero link in a directory', args: ['fleet', 'in'], files: [{ name: 'in/fifo.json', fifo: true }, { name: 'in/zero.ndjson', symlink: '/dev/zero' }, { name: 'in/good.json', data: report }], codes: FLEET_CODES },
    { id: 'fixed fifo-policy', what: 'gate --policy: a FIFO', args: ['gate', GOOD_REPORT, '--policy', 'p.json'], files: [{ name: 'p.json', fifo: true }], codes: GATE_CODES },
    { id: 'fixed zero-policy', what: 'gate --policy: /dev/zero', args: ['gate', GOOD_REPORT, '--policy', '/dev/zero'], files: [], codes: GATE_CODES },
    { id: 'fixed fifo-from', what: 'seccomp-profile --from: a FIFO', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', fifo: true }], codes: SECCOMP_PROFILE_CODES },
    { id: 'fixed zero-from', what: 'seccomp-profile --from: a link to /dev/zero', args: ['seccomp-profile', '--from', 'z.json'], files: [{ name: 'z.json', symlink: '/dev/zero' }], codes: SECCOMP_PROFILE_CODES },
    { id: 'fixed fifo-seccomp-check', what: 'check --seccomp-profile: a FIFO', args: ['check', '--no-bench', '--seccomp-profile', 'p.json'], files: [{ name: 'p.json', fifo: true }], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    { id: 'fixed zero-seccomp-check', what: 'check --seccomp-profile: /dev/zero', args: ['check', '--no-bench', '--seccomp-profile', '/dev/zero'], files: [], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    { id: 'fixed fifo-unit', what: 'check --systemd-unit: a FIFO', args: ['check', '--no-bench', '--systemd-unit', './fifo.service'], files: [{ name: 'fifo.service', fifo: true }], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    { id: 'fixed zero-unit', what: 'check --systemd-unit: a link to /dev/zero', args: ['check', '--no-bench', '--systemd-unit', './zero.service'], files: [{ name: 'zero.service', symlink: '/dev/zero' }], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    { id: 'fixed fifo-dropin', what: 'check --systemd-unit: a FIFO drop-in', args: ['check', '--no-bench', '--systemd-unit', './u.service'], files: [{ name: 'u.service', data: '[Service]\nUser=nobody\n' }, { name: 'u.service.d/a.conf', fifo: true }, { name: 'u.service.d/b.conf', symlink: '/dev/zero' }], codes: CHECK_CODES, hangMs: CHECK_HANG_MS },
    { id: 'fixed huge-stdin-line', what: 'fleet -: 300 MiB on one NDJSON line', args: ['fleet', '-'], files: [], stdin: Buffer.alloc(300 * 1024 * 1024, 0x61), codes: FLEET_CODES },
    // regression: a profile's value quoted in a message kept DEL and C1 controls raw (only C0 was escaped)
    { id: 'fixed profile-c1-value', what: 'seccomp-profile --from: an action with C1 CSI and DEL', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', data: profile.replace(/"defaultAction":\s*"[^"]*"/, '"defaultAction":"SCMP_ACT_ALLOW\u009b2J\u007f\u0085"') }], codes: SECCOMP_PROFILE_CODES, stderrLines: true },
    { id: 'fixed profile-c1-syntax', what: 'seccomp-profile --from: a raw C1 character outside a string', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', data: '{"defaultAction":\u009b}' }], codes: SECCOMP_PROFILE_CODES },
    // regression: the profile parser appended strings a character at a time (a rope of one node per
    // character): a 2 MiB string in a profile took 281 MiB
    { id: 'fixed profile-long-string', what: 'seccomp-profile --from: a 3 MiB string value', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', data: profile.replace('{', `{"comment":"${'x'.repeat(3 * 1024 * 1024)}",`) }], codes: SECCOMP_PROFILE_CODES, stderrLines: true },
    { id: 'fixed proto-profile', what: 'seccomp-profile --from: prototype keys', args: ['seccomp-profile', '--from', 'p.json'], files: [{ name: 'p.json', data: profile.replace('{', '{"__proto__":{"defaultAction":"SCMP_ACT_ALLOW"},"constructor":1,') }], codes: SECCOMP_PROFILE_CODES, stderrLines: true },
  ];
  return cases;
}

// ----------------------------------------------------------------------------------------------
// Running a case

interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  rssKiB: number | null;
  ms: number;
  hung: boolean;
}

const TIME = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : null;

function materialize(c: FuzzCase, dir: string): void {
  for (const f of c.files) {
    const path = join(dir, f.name);
    mkdirSync(join(path, '..'), { recursive: true });
    if ('fifo' in f) {
      const made = spawnSync('mkfifo', [path]);
      if (made.status !== 0) throw new Error(`mkfifo ${path} failed`);
    } else if ('symlink' in f) symlinkSync(f.symlink, path);
    else writeFileSync(path, f.data);
  }
}

function vmHwmKiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function runCase(c: FuzzCase, dir: string): Promise<RunResult> {
  const rssFile = join(dir, '.rss');
  const argv = TIME ? [TIME, '-f', '%M', '-o', rssFile, process.execPath, CLI_PATH, ...c.args] : [process.execPath, CLI_PATH, ...c.args];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', LC_ALL: 'C.UTF-8' };
  delete env['FORCE_COLOR'];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes < 64 * 1024 * 1024) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      /* the CLI may exit without reading stdin */
    });
    child.stdin.end(c.stdin ?? '');
    let polledKiB: number | null = null;
    const poll = TIME
      ? null
      : setInterval(() => {
          const v = child.pid ? vmHwmKiB(child.pid) : null;
          if (v !== null) polledKiB = Math.max(polledKiB ?? 0, v);
        }, 20);
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, c.hangMs ?? HANG_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let rssKiB = polledKiB;
      if (TIME) {
        try {
          const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
          const n = Number(lines[lines.length - 1]);
          rssKiB = Number.isFinite(n) ? n : null;
        } catch {
          rssKiB = null;
        }
      }
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), rssKiB, ms: Date.now() - started, hung });
    });
  });
}

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const TRACE = [/^\s+at .+(\(|:\d+:\d+)/m, /^\w*Error: /m, /\binternal error\b/i, /node:internal/, /Maximum call stack/i, /FATAL ERROR/, /heap out of memory/i, /Aborted|core dumped|Segmentation fault/];

function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const a = end >= 0 ? args.slice(0, end) : args;
  return a.some((x, i) => x === '--json' || x === '--json=true' || x === '--format=json' || (x === '--format' && a[i + 1] === 'json'));
}

/** What is wrong with this run (empty when nothing). */
function problems(c: FuzzCase, r: RunResult): string[] {
  const out: string[] = [];
  if (r.hung) out.push(`hang: killed after ${c.hangMs ?? HANG_MS} ms`);
  // /usr/bin/time exits 128+N when the CLI died of signal N
  if (r.signal || (TIME && r.status !== null && r.status > 128)) out.push(`killed by a signal (${r.signal ?? `status ${r.status}`})`);
  else if (r.status === null || !c.codes.includes(r.status)) out.push(`exit code ${r.status} is not one of the documented ${c.codes.join(', ')}`);
  for (const re of TRACE) {
    if (re.test(r.stderr)) out.push(`stack trace or crash text on stderr (${re})`);
  }
  const stderrLines = r.stderr.split('\n').filter((l) => l.length > 0);
  const failed = r.status !== null && r.status >= 64;
  if (wantsJson(c.args) && failed) {
    try {
      const doc = JSON.parse(r.stdout) as { error?: { code?: unknown; message?: unknown }; exitCode?: unknown };
      if (typeof doc.error?.code !== 'string' || typeof doc.error.message !== 'string') out.push('--json: the error document has no error.code/error.message');
      if (doc.exitCode !== r.status) out.push(`--json: error document says exitCode ${String(doc.exitCode)}, the process exited ${r.status}`);
    } catch {
      out.push('--json: stdout is not exactly one JSON document');
    }
    if (stderrLines.length > 1) out.push(`--json: ${stderrLines.length} lines on stderr`);
  } else if (stderrLines.length > 1 && (failed || !c.stderrLines)) {
    out.push(`${stderrLines.length} lines on stderr (at most one)`);
  } else if (stderrLines.some((l) => !l.startsWith('uring-probe'))) {
    out.push('a stderr line that is not from uring-probe');
  }
  if (RAW_CONTROL.test(r.stderr)) out.push('a raw control character on stderr');
  // stdout: seccomp-profile writes the input profile back (C1 characters are legal raw in JSON strings)
  if (!c.rawArgv && c.args[0] !== 'seccomp-profile' && RAW_CONTROL.test(r.stdout.replace(/\r\n/g, '\n'))) out.push('a raw control character on stdout');
  // stdout may quote help text ("internal error" is an exit code there): only frames count
  if (/^\s+at .+(\(|:\d+:\d+)/m.test(r.stdout.slice(0, 1_000_000)) || /node:internal/.test(r.stdout.slice(0, 1_000_000))) out.push('a stack trace on stdout');
  if (r.rssKiB === null) out.push('peak RSS not measured');
  else if (r.rssKiB > MAX_RSS_KIB) out.push(`peak RSS ${Math.round(r.rssKiB / 1024)} MiB, over ${MAX_RSS_KIB / 1024} MiB`);
  return out;
}

function shellQuote(a: string): string {
  const shown = a.length > 200 ? `${a.slice(0, 60)}...(${a.length} chars)` : a;
  return /^[\w@%+=:,./-]+$/.test(shown) ? shown : `$'${shown.replace(/[\\']/g, '\\$&').replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

// ----------------------------------------------------------------------------------------------
// The test

test('fuzz: readers and the command line survive generated garbage (bounded time, seeded)', { timeout: BUDGET_MS + 240_000 }, async (t) => {
  assert.ok(existsSync(CLI_PATH), `build first: ${CLI_PATH} (npm run build:ts)`);
  const root = makeTempDir('uring-probe-fuzz-');
  const started = Date.now();
  const failures: string[] = [];
  let maxRss = 0;
  let maxRssCase = '';
  let runs = 0;
  let inputs = 0;
  const perKind = new Map<string, number>();

  const queue: FuzzCase[] = ONLY_CASE === null ? fixedCases() : [];
  let nextRandom = ONLY_CASE ?? 0;
  let randomRuns = 0;
  let randomDone = 0;
  const take = (): FuzzCase | null => {
    const fixed = queue.shift();
    if (fixed) return fixed;
    if (ONLY_CASE !== null) return randomRuns++ === 0 ? randomCase(SEED, ONLY_CASE) : null;
    if (randomRuns >= MAX_RUNS || Date.now() - started > BUDGET_MS) return null;
    randomRuns += 1;
    return randomCase(SEED, nextRandom++);
  };

  const worker = async (): Promise<void> => {
    for (let c = take(); c !== null; c = take()) {
      const dir = join(root, c.id.replace(/[^\w-]+/g, '-'));
      mkdirSync(dir, { recursive: true });
      materialize(c, dir);
      const r = await runCase(c, dir);
      runs += 1;
      inputs += Math.max(1, c.files.length + (c.stdin && c.stdin.length > 0 ? 1 : 0));
      const kind = c.what.split(/[ :]/)[0]!;
      perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
      if (c.id.startsWith('seed')) randomDone += 1;
      if (r.rssKiB !== null && r.rssKiB > maxRss) {
        maxRss = r.rssKiB;
        maxRssCase = `${c.id} (${c.what})`;
      }
      const wrong = problems(c, r);
      if (wrong.length > 0) {
        failures.push(
          [
            `${c.id}: ${c.what}`,
            `  replay: URING_FUZZ_SEED=${SEED}${c.id.startsWith('seed') ? ` URING_FUZZ_CASE=${c.id.split(' ').pop()}` : ''} node --test dist/test/fuzz.test.js`,
            `  by hand: cd ${dir} && node ${CLI_PATH} ${c.args.map(shellQuote).join(' ')}${c.stdin && c.stdin.length > 0 ? ` < (${c.stdin.length} bytes of stdin)` : ''}`,
            ...wrong.map((w) => `  - ${w}`),
            `  exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}, ${r.ms} ms, RSS ${r.rssKiB === null ? '?' : `${Math.round(r.rssKiB / 1024)} MiB`}`,
            `  stderr: ${JSON.stringify(r.stderr.slice(0, 600))}`,
            `  stdout: ${JSON.stringify(r.stdout.slice(0, 300))}`,
          ].join('\n'),
        );
      } else if (!KEEP) {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: JOBS }, () => worker()));

  t.diagnostic(`seed ${SEED} (replay: URING_FUZZ_SEED=${SEED}); ${runs} CLI runs, ${inputs} inputs, ${randomDone} random cases, ${Math.round((Date.now() - started) / 1000)} s, ${JOBS} at a time`);
  t.diagnostic(`runs by command: ${[...perKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.diagnostic(`max peak RSS ${Math.round(maxRss / 1024)} MiB (bound ${MAX_RSS_KIB / 1024} MiB, measured with ${TIME ?? '/proc/PID/status VmHWM'}) in ${maxRssCase}`);
  if (failures.length === 0 && !KEEP) removeDir(root);
  else t.diagnostic(`case directories kept under ${root}`);
  assert.equal(failures.length, 0, `${failures.length} fuzz case(s) failed (seed ${SEED}):\n${failures.join('\n')}`);
});

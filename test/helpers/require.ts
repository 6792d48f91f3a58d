// What a test needs of the kernel, the user and the host, asked of the real kernel (through the
// addon) and of the real host, never guessed from a version string. liburing's convention: a test
// for something the kernel or the user lacks is skipped with its reason, never failed, never
// silently passed.
//
//   if (!requireRoot(t)) return;
//   if (!(await requireSetupFlag(t, 'NO_SQARRAY'))) return;
//   describe('...', { skip: skipReason(notRoot('unshare --net'), missingCommand('unshare')) }, () => ...)
//
// `missingX(...)` says why a requirement is not met (null when it is); `requireX(t, ...)` calls
// t.skip(that reason) and returns false, so the test returns (node:test runs on after t.skip()).
// The kernel's answers are probed once per process and cached.
//
// A refusal that contradicts the kernel's own release is not a skip: a kernel at or past the
// release the field notes (shared/reference/io_uring-field-notes.md, as src/kernel-abi.ts carries
// them) date a flag, an op or a feature to that answers EINVAL ("unknown") is a bug of ours or a
// broken kernel, and the helper fails the test instead of hiding it. Backports only go the other
// way (an older release number with a newer feature), which runs the test. To check the skips on
// a newer kernel, refuse what an older one lacks with the seccomp launcher and name that release:
//   seccomp-launcher --einval-setup-flags 0x7C000 -- env URING_PROBE_TEST_RELEASE=6.1.0 node --test ...
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { TestContext } from 'node:test';
import { decodeCapabilities } from '../../src/context/capabilities.js';
import { errnoName } from '../../src/errno.js';
import { bitOf, FEATURES, OPCODE_SINCE, OPCODES, SETUP_FLAGS } from '../../src/kernel-abi.js';
import { loadAddon, type MultishotResult, type OpcodeProbeResult, type SetupFlagResult } from '../../src/native.js';

// ---------------------------------------------------------------------------------------------
// The host
// ---------------------------------------------------------------------------------------------

/** This process's real uid (-1 where there is none). */
export const UID = process.getuid?.() ?? -1;
export const isRoot = UID === 0;

/** `id -u NAME` / `id -g NAME` of a user of this host. */
export function idOf(flag: '-u' | '-g', name: string): number {
  const run = spawnSync('id', [flag, name], { encoding: 'utf8' });
  assert.equal(run.status, 0, `id ${flag} ${name}: ${run.stderr}`);
  return Number(run.stdout.trim());
}

/** The setpriv prefix that runs a command as `name` (its uid and primary group, no other groups). */
export function asUser(name = 'nobody'): string[] {
  return ['setpriv', `--reuid=${idOf('-u', name)}`, `--regid=${idOf('-g', name)}`, '--clear-groups', '--'];
}

/**
 * The running kernel's release, e.g. 6.18.44-fc-v669. URING_PROBE_TEST_RELEASE stands in for it
 * when an older kernel is emulated on a newer one (the seccomp launcher refusing with EINVAL what
 * that release lacks, to check the skips): the helpers then date features against that release.
 */
export function kernelRelease(): string {
  return process.env.URING_PROBE_TEST_RELEASE || release();
}

/** major.minor of a release ('6.1.0-18-amd64' -> [6, 1]). */
function majorMinor(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text);
  if (!m) throw new Error(`not a kernel release: ${text}`);
  return [Number(m[1]), Number(m[2])];
}

/** Whether the running kernel's release is `version` (major.minor) or later. */
export function kernelAtLeast(version: string): boolean {
  const [major, minor] = majorMinor(kernelRelease());
  const [wantMajor, wantMinor] = majorMinor(version);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** Debian packages of the host tools the tests run (as .ci/run installs them). */
const PACKAGE_OF: Record<string, string> = {
  cc: 'gcc', python3: 'python3', unshare: 'util-linux', setpriv: 'util-linux', prlimit: 'util-linux',
  ip: 'iproute2', getent: 'libc-bin', 'systemd-analyze': 'systemd', debootstrap: 'debootstrap',
  objdump: 'binutils', readelf: 'binutils', promtool: 'prometheus', 'ansible-playbook': 'ansible-core',
  useradd: 'passwd', mkfifo: 'coreutils', zsh: 'zsh',
};

const commandCache = new Map<string, boolean>();
/** Whether `command` is on PATH (`command -v`). */
export function hasCommand(command: string): boolean {
  let found = commandCache.get(command);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null 2>&1', 'sh', command]).status === 0;
    commandCache.set(command, found);
  }
  return found;
}

const LIBSECCOMP = [
  '/usr/lib/x86_64-linux-gnu/libseccomp.so.2', '/lib/x86_64-linux-gnu/libseccomp.so.2', '/usr/lib64/libseccomp.so.2',
  '/usr/lib/aarch64-linux-gnu/libseccomp.so.2', '/lib/aarch64-linux-gnu/libseccomp.so.2',
];
export const hasLibseccomp = LIBSECCOMP.some((p) => existsSync(p));

/** This process's effective capabilities, by name (CapEff of /proc/self/status). */
export function effectiveCapabilities(): string[] {
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return decodeCapabilities(capEff);
}

// ---------------------------------------------------------------------------------------------
// Why a requirement is not met (null: it is). The synchronous ones serve describe({ skip }) too.
// ---------------------------------------------------------------------------------------------

/** The first reason of those given, or false (for `describe(name, { skip: skipReason(...) })`). */
export function skipReason(...reasons: Array<string | null | false | undefined>): string | false {
  return reasons.find((r): r is string => typeof r === 'string' && r.length > 0) ?? false;
}

export function notRoot(what?: string): string | null {
  return isRoot ? null : `needs root${what ? ` (${what})` : ''}; running as uid ${UID}`;
}

export function missingCap(capability: string, what?: string): string | null {
  const held = effectiveCapabilities();
  return held.includes(capability)
    ? null
    : `needs ${capability}${what ? ` (${what})` : ''}; uid ${UID} holds ${held.length ? held.join(', ') : 'no capability'}`;
}

export function missingCommand(command: string, what?: string): string | null {
  if (hasCommand(command)) return null;
  const pkg = PACKAGE_OF[command];
  return `${command} is not installed${pkg ? ` (apt-get install ${pkg})` : ''}${what ? `: ${what}` : ''}`;
}

export function missingLibseccomp(): string | null {
  return hasLibseccomp ? null : 'libseccomp.so.2 is not installed here (apt-get install libseccomp2)';
}

/** A sysctl the kernel may not have, e.g. 'kernel.io_uring_disabled' (6.6). */
export function missingSysctl(name: string, since?: string): string | null {
  const path = `/proc/sys/${name.replace(/\./g, '/')}`;
  if (existsSync(path)) return null;
  return `kernel ${kernelRelease()} has no ${name} sysctl (${path})${since ? `: ${since}+` : ''}`;
}

// ---- the kernel's answers, probed once per process ----

const addon = () => loadAddon();
const cached = new Map<string, Promise<unknown>>();
function once<T>(key: string, probe: () => Promise<T>): Promise<T> {
  let p = cached.get(key) as Promise<T> | undefined;
  if (!p) {
    p = probe();
    cached.set(key, p);
  }
  return p;
}

/** The flag the kernel needs beside a setup flag (io_uring_setup(2)). */
const COMPANION: Record<string, string> = { TASKRUN_FLAG: 'COOP_TASKRUN', DEFER_TASKRUN: 'SINGLE_ISSUER' };

function setupFlagSince(name: string): string | null {
  return SETUP_FLAGS.find((f) => f.name === name)?.since ?? null;
}

/** io_uring_setup with the flag (and its companion; NO_MMAP with ring memory of ours), 8 entries. */
export function trySetupFlag(name: string): Promise<SetupFlagResult> {
  return once(`flag:${name}`, async () => {
    const bit = bitOf(SETUP_FLAGS, name);
    if (bit === undefined) throw new Error(`IORING_SETUP_${name} is not in src/kernel-abi.ts`);
    const companion = COMPANION[name];
    const companionBit = companion ? bitOf(SETUP_FLAGS, companion)! : 0;
    return addon().trySetupFlags({ flags: bit | companionBit, entries: 8, userMemory: name === 'NO_MMAP' });
  });
}

/** Why io_uring_setup refuses a flag here, or null when it takes it. */
export async function missingSetupFlag(name: string): Promise<string | null> {
  const r = await trySetupFlag(name);
  if (r.res >= 0) return null;
  const errno = errnoName(r.res);
  const since = setupFlagSince(name);
  const companion = COMPANION[name] ? ` (with ${COMPANION[name]})` : name === 'NO_MMAP' ? ' (with ring memory of ours)' : '';
  const flag = `IORING_SETUP_${name}${companion}`;
  if (errno === 'EINVAL' && since && kernelAtLeast(since)) {
    assert.fail(`kernel ${kernelRelease()} is ${since} or later, yet refuses ${flag} with EINVAL: a bug of ours or a broken kernel, not a missing feature`);
  }
  let why = since ? `: ${since}+` : '';
  if (name === 'SQPOLL' && errno === 'EPERM') why = `: unprivileged SQPOLL needs 5.13+ (CAP_SYS_NICE on 5.11-5.12, root before); uid ${UID}`;
  return `kernel ${kernelRelease()} refuses ${flag} (${errno})${why}`;
}

export function probeOpcodes(): Promise<OpcodeProbeResult> {
  return once('opcodes', () => addon().probeOpcodes());
}

/** Why the kernel's IORING_REGISTER_PROBE does not list an op as supported, or null when it does. */
export async function missingOp(name: string): Promise<string | null> {
  const op = OPCODES.indexOf(name);
  if (op < 0) throw new Error(`IORING_OP_${name} is not in src/kernel-abi.ts`);
  const probe = await probeOpcodes();
  if (probe.res < 0) {
    const errno = errnoName(probe.res);
    if (errno === 'EINVAL' && kernelAtLeast('5.6')) assert.fail(`kernel ${kernelRelease()} is 5.6 or later, yet refuses IORING_REGISTER_PROBE with EINVAL`);
    return `kernel ${kernelRelease()} refuses IORING_REGISTER_PROBE (${errno}), so it cannot say whether it has IORING_OP_${name}` +
      (errno === 'EINVAL' ? ': 5.6+' : '');
  }
  if (probe.ops.some((o) => o.op === op && o.supported)) return null;
  const since = OPCODE_SINCE[name] ?? null;
  const known = op <= probe.lastOp;
  if (!known && since && kernelAtLeast(since)) {
    assert.fail(`kernel ${kernelRelease()} is ${since} or later, yet its IORING_REGISTER_PROBE ends at op ${probe.lastOp} (${OPCODES[probe.lastOp] ?? '?'}) before IORING_OP_${name} (${op})`);
  }
  return `kernel ${kernelRelease()} does not support IORING_OP_${name} (IORING_REGISTER_PROBE: ` +
    (known ? 'known but not supported, compiled out?' : `last op ${OPCODES[probe.lastOp] ?? probe.lastOp}`) + `)${since ? `: ${since}+` : ''}`;
}

/** The feature bits io_uring_setup reports for a plain 8-entry ring. */
export function kernelFeatures(): Promise<SetupFlagResult> {
  return once('features', () => addon().trySetupFlags({ flags: 0, entries: 8 }));
}

/** Why the kernel does not report an IORING_FEAT_ bit, or null when it does. */
export async function missingFeature(name: string): Promise<string | null> {
  const bit = bitOf(FEATURES, name);
  if (bit === undefined) throw new Error(`IORING_FEAT_${name} is not in src/kernel-abi.ts`);
  const ring = await kernelFeatures();
  if (ring.res < 0) return `kernel ${kernelRelease()} refuses io_uring_setup (${errnoName(ring.res)}), so it reports no feature`;
  if (((ring.features & bit) >>> 0) === bit) return null;
  const since = FEATURES.find((f) => f.name === name)?.since ?? null;
  if (since && kernelAtLeast(since)) assert.fail(`kernel ${kernelRelease()} is ${since} or later, yet does not report IORING_FEAT_${name}`);
  return `kernel ${kernelRelease()} does not report IORING_FEAT_${name}${since ? `: ${since}+` : ''}`;
}

/** IORING_REGISTER_IOWQ_MAX_WORKERS on a plain CLAMP ring (the only register op a test needs alone). */
export async function missingRegisterIowqMaxWorkers(): Promise<string | null> {
  const clamp = bitOf(SETUP_FLAGS, 'CLAMP')!;
  const r = await once('register:IOWQ_MAX_WORKERS', () => addon().ringLadder({ kind: 'send', entries: 8, flagSets: [clamp] }));
  if (r.res < 0) return `kernel ${kernelRelease()} refuses io_uring_setup (${errnoName(r.res)})`;
  const res = r.maxWorkers?.res ?? 0;
  if (res >= 0) return null;
  const errno = errnoName(res);
  if (errno === 'EINVAL' && kernelAtLeast('5.15')) assert.fail(`kernel ${kernelRelease()} is 5.15 or later, yet refuses IORING_REGISTER_IOWQ_MAX_WORKERS with EINVAL`);
  return `kernel ${kernelRelease()} refuses IORING_REGISTER_IOWQ_MAX_WORKERS (${errno})${errno === 'EINVAL' ? ': 5.15+' : ''}`;
}

/** One multishot RECVMSG with a provided buffer ring, tried for real (native/probes/opcodes.cc). */
export function tryMultishotRecvmsg(): Promise<MultishotResult> {
  return once('multishot', () => addon().multishotRecvmsg({ timeoutMs: 2000 }));
}

/** Why multishot RECVMSG with a provided buffer ring does not work here, or null when it does. */
export async function missingMultishotRecvmsg(): Promise<string | null> {
  const r = await tryMultishotRecvmsg();
  if (r.res === 0 && r.payloadOk) return null;
  assert.ok(r.res < 0, `multishot RECVMSG reported success with a wrong payload: ${JSON.stringify(r)}`);
  const errno = errnoName(r.res);
  if (r.stage === 'setup' || r.stage === 'socket') return `multishot RECVMSG cannot be tried here: ${r.stage} refused (${errno})`;
  // IORING_REGISTER_PBUF_RING came in 5.19, multishot RECVMSG in 6.0 (the field notes)
  const since = r.stage === 'register-pbuf-ring' ? '5.19' : '6.0';
  const what = r.stage === 'register-pbuf-ring' ? 'IORING_REGISTER_PBUF_RING' : 'multishot RECVMSG';
  if (errno === 'EINVAL' && kernelAtLeast(since)) {
    assert.fail(`kernel ${kernelRelease()} is ${since} or later, yet ${what} failed with EINVAL at stage ${r.stage}: ${JSON.stringify(r)}`);
  }
  return `kernel ${kernelRelease()} refuses ${what} (${errno} at stage ${r.stage})${errno === 'EINVAL' ? `: ${since}+` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The guards: false after t.skip(reason), so a test reads `if (!requireX(t, ...)) return;`
// ---------------------------------------------------------------------------------------------

function guard(t: TestContext, reason: string | null): boolean {
  if (reason === null) return true;
  t.skip(reason);
  return false;
}

export function requireRoot(t: TestContext, what?: string): boolean {
  return guard(t, notRoot(what));
}

export function requireCap(t: TestContext, capability: string, what?: string): boolean {
  return guard(t, missingCap(capability, what));
}

export function requireCommand(t: TestContext, ...commands: string[]): boolean {
  return guard(t, skipReason(...commands.map((c) => missingCommand(c))) || null);
}

export function requireLibseccomp(t: TestContext): boolean {
  return guard(t, missingLibseccomp());
}

export function requireSysctl(t: TestContext, name: string, since?: string): boolean {
  return guard(t, missingSysctl(name, since));
}

export async function requireSetupFlag(t: TestContext, ...names: string[]): Promise<boolean> {
  for (const name of names) if (!guard(t, await missingSetupFlag(name))) return false;
  return true;
}

export async function requireOp(t: TestContext, ...names: string[]): Promise<boolean> {
  for (const name of names) if (!guard(t, await missingOp(name))) return false;
  return true;
}

export async function requireFeature(t: TestContext, ...names: string[]): Promise<boolean> {
  for (const name of names) if (!guard(t, await missingFeature(name))) return false;
  return true;
}

export async function requireIowqMaxWorkers(t: TestContext): Promise<boolean> {
  return guard(t, await missingRegisterIowqMaxWorkers());
}

export async function requireMultishotRecvmsg(t: TestContext): Promise<boolean> {
  return guard(t, await missingMultishotRecvmsg());
}

/** What a bench engine run reports; the subset the guard reads. */
interface BenchRun {
  mode: string;
  skipped: string | null;
}

/**
 * A run of the bench engine that the engine reports skipped (the kernel lacks the technique):
 * the skip must agree with what the kernel says on its own (multishot: the addon's own multishot
 * RECVMSG attempt; gso: UDP_SEGMENT, 4.18), then the test skips with the engine's reason.
 * A mode the engine skipped although the kernel has it fails the test.
 */
export async function requireBenchMode(t: TestContext, run: BenchRun): Promise<boolean> {
  if (run.skipped === null) return true;
  if (run.mode === 'multishot') {
    const kernel = await missingMultishotRecvmsg();
    assert.ok(kernel !== null, `the engine skipped multishot (${run.skipped}), but this kernel's multishot RECVMSG works`);
    return guard(t, `multishot: ${run.skipped}; ${kernel}`);
  }
  if (run.mode === 'gso') {
    assert.ok(!kernelAtLeast('4.18'), `the engine skipped gso (${run.skipped}) on kernel ${kernelRelease()}, which has UDP_SEGMENT (4.18+)`);
    return guard(t, `gso: ${run.skipped} (kernel ${kernelRelease()}: UDP GSO is 4.18+)`);
  }
  assert.fail(`the engine skipped ${run.mode} (${run.skipped}); only multishot and gso may be missing from a kernel`);
}

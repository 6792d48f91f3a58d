// Test harness: builds the seccomp launcher on demand and runs the built CLI under it (or any prefix), parsing its JSON.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProbeResult, Report } from '../../src/types.js';
import { CLI_PATH, ROOT } from './paths.js';

export const LAUNCHER_SOURCE = join(ROOT, 'test', 'helpers', 'seccomp-launcher.c');
const LAUNCHER_CACHE_DIR = join(ROOT, 'dist', 'test-bin');

/**
 * Path of the compiled seccomp launcher, compiled with `cc -O2 -Wall -Wextra` the first time for
 * this source (the cache file name carries the source's hash, so an edit recompiles). The binary
 * is written under a temporary name and renamed, so concurrent runs never see a half-written file.
 */
export function launcherBinary(): string {
  const source = readFileSync(LAUNCHER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = join(LAUNCHER_CACHE_DIR, `seccomp-launcher-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(LAUNCHER_CACHE_DIR, { recursive: true });
  const temporary = `${binary}.tmp-${process.pid}`;
  const compile = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', temporary, LAUNCHER_SOURCE], {
    encoding: 'utf8',
  });
  if (compile.error || compile.status !== 0) {
    rmSync(temporary, { force: true });
    const why = compile.error ? compile.error.message : compile.stderr.trim();
    throw new Error(`launcher: cannot compile ${LAUNCHER_SOURCE} with cc: ${why}`);
  }
  renameSync(temporary, binary);
  return binary;
}

const nodeUnderRules = new Map<string, string | null>();

/**
 * Why this Node cannot run at all under the launcher's `rules` (null when `node -e 0` runs), asked
 * for real once per rule set. Node 22+'s libuv sets up an io_uring at start-up and aborts when
 * io_uring_enter is then refused (`libuv: io_uring_enter(getevents): Operation not permitted`), so a
 * filter that lets io_uring_setup through but refuses io_uring_enter leaves no process to test.
 */
export function missingNodeUnder(rules: string[]): string | null {
  const key = rules.join('\0');
  if (!nodeUnderRules.has(key)) {
    const run = spawnSync(launcherBinary(), [...rules, '--', process.execPath, '-e', '0'], { encoding: 'utf8', timeout: 30_000 });
    const said = run.stderr.trim().split('\n').find((line) => line.length > 0) ?? '';
    nodeUnderRules.set(
      key,
      run.status === 0
        ? null
        : `Node ${process.version} itself dies under ${rules.join(' ')} before any JavaScript runs (${run.signal ?? `exit ${run.status}`}${said ? `: ${said}` : ''}): its libuv sets up an io_uring at start-up`,
    );
  }
  return nodeUnderRules.get(key)!;
}

export interface RunOptions {
  /** seccomp-launcher rules, e.g. ['--errno', 'io_uring_setup=EPERM']; none = no launcher */
  seccomp?: string[];
  /** a command put in front of `node dist/bin/uring-probe.js` (after the launcher), e.g. ['unshare', '-n'] */
  prefix?: string[];
  /** extra environment over this process's; NO_COLOR=1 and FORCE_COLOR=0 unless given here; undefined removes a variable */
  env?: Record<string, string | undefined>;
  /** what the program reads on stdin (default: nothing, stdin is /dev/null) */
  input?: string | Buffer;
  /** bound on the whole run (the runner kills the process group past it); not a test assertion */
  timeoutMs?: number;
  /** another copy of the built CLI (e.g. one that user nobody can read); default dist/bin/uring-probe.js */
  cliPath?: string;
}

export interface CliRun {
  command: string[];
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a run: this process's, plain output, then `extra` (undefined removes a variable). */
function runEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs `node dist/bin/uring-probe.js ARGS` (the one CLI wrapper of the tests), under the given seccomp rules and prefix. */
export function runCli(args: string[], options: RunOptions = {}): CliRun {
  const cliPath = options.cliPath ?? CLI_PATH;
  if (!existsSync(cliPath)) {
    throw new Error(`launcher: ${cliPath} is missing; build it first (npx tsc -p tsconfig.json)`);
  }
  const command: string[] = [];
  if (options.seccomp && options.seccomp.length > 0) command.push(launcherBinary(), ...options.seccomp, '--');
  if (options.prefix) command.push(...options.prefix);
  command.push(process.execPath, cliPath, ...args);
  const [program, ...programArgs] = command as [string, ...string[]];
  const result = spawnSync(program, programArgs, {
    cwd: join(dirname(cliPath), '..', '..'), // the package root of that CLI
    encoding: 'utf8',
    env: runEnv(options.env),
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    input: options.input,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.error) throw new Error(`launcher: ${command.join(' ')} failed to run: ${result.error.message}`);
  return { command, status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Exactly one JSON document on stdout, or an error quoting what was printed. */
export function parseSingleDocument<T>(run: CliRun): T {
  const text = run.stdout.trim();
  if (text.length === 0) {
    throw new Error(`no JSON on stdout from ${run.command.join(' ')} (exit ${run.status}, signal ${run.signal}); stderr: ${run.stderr.slice(-2000)}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(
      `stdout of ${run.command.join(' ')} is not exactly one JSON document (${(error as Error).message}):\n` +
        `${text.slice(0, 2000)}\nstderr: ${run.stderr.slice(-2000)}`,
    );
  }
}

export interface CheckRun extends CliRun {
  report: Report;
}

/** `check --json --no-bench` under the given conditions, with the report parsed. */
export function runCheckJson(options: RunOptions = {}, extraArgs: string[] = []): CheckRun {
  const run = runCli(['check', '--json', '--no-bench', ...extraArgs], options);
  return { ...run, report: parseSingleDocument<Report>(run) };
}

/** `check --no-bench` (human output) under the given conditions. */
export function runCheckHuman(options: RunOptions = {}, extraArgs: string[] = []): CliRun {
  return runCli(['check', '--no-bench', ...extraArgs], options);
}

/** The probe with this id, or a failure listing the ids that are there. */
export function probeById(report: Report, id: string): ProbeResult {
  const found = report.probes.find((probe) => probe.id === id);
  if (!found) throw new Error(`probe '${id}' missing from the report; present: ${report.probes.map((p) => p.id).join(', ')}`);
  return found;
}

/** A short description of a run for assertion messages. */
export function describeRun(run: CliRun): string {
  return `${run.command.join(' ')} → exit ${run.status} signal ${run.signal}\nstderr: ${run.stderr.slice(-1500)}`;
}

/** Runs any program under the seccomp launcher (for checking the launcher on its own). */
export function runUnderLauncher(rules: string[], program: string, args: string[], timeoutMs = 30_000): CliRun {
  const command = [launcherBinary(), ...rules, '--', program, ...args];
  const result = spawnSync(command[0] as string, command.slice(1), {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw new Error(`launcher: ${command.join(' ')} failed to run: ${result.error.message}`);
  return { command, status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** true when the user `asUser` runs as (a setpriv prefix) can read every path, from / */
function canRead(asUser: string[], paths: string[]): { ok: boolean; why: string } {
  const access = spawnSync(
    asUser[0] as string,
    [...asUser.slice(1), process.execPath, '-e',
      'const fs=require("fs");for(const p of process.argv.slice(1))fs.accessSync(p,fs.constants.R_OK)',
      ...paths],
    { encoding: 'utf8', cwd: '/' },
  );
  return { ok: access.status === 0, why: access.stderr.trim().split('\n').slice(-3).join(' ') };
}

/**
 * The CLI as another user (a setpriv prefix) can run it: the repo's own dist/ when that user can
 * read it, its build/ and node_modules/ in place; otherwise (a checkout under /root, say) a
 * world-readable copy of the package's runtime files in the temp dir, with the same layout.
 * `stagedRoot` is that copy (the caller removes it), null when none was needed.
 */
export function nobodyReadableCli(asUser: string[]): { cliPath: string; stagedRoot: string | null } {
  const needed = (root: string): string[] => [
    join(root, 'dist', 'bin', 'uring-probe.js'),
    join(root, 'dist', 'src', 'child'),
    join(root, 'build', 'Release', 'uring_probe.node'),
    join(root, 'node_modules', 'yargs', 'package.json'),
    join(root, 'package.json'),
  ];
  if (canRead(asUser, needed(ROOT)).ok) return { cliPath: CLI_PATH, stagedRoot: null };
  const stagedRoot = mkdtempSync(join(tmpdir(), 'uring-probe-nobody-'));
  chmodSync(stagedRoot, 0o755);
  for (const part of ['package.json', 'dist', join('build', 'Release'), 'node_modules', 'schema', 'fixtures']) {
    if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(stagedRoot, part), { recursive: true });
  }
  const chmod = spawnSync('chmod', ['-R', 'a+rX', stagedRoot], { encoding: 'utf8' });
  if (chmod.status !== 0) throw new Error(`chmod -R a+rX ${stagedRoot}: ${chmod.stderr}`);
  const check = canRead(asUser, needed(stagedRoot));
  if (!check.ok) throw new Error(`the other user cannot read the CLI, even in the copy ${stagedRoot}: ${check.why}`);
  return { cliPath: join(stagedRoot, 'dist', 'bin', 'uring-probe.js'), stagedRoot };
}

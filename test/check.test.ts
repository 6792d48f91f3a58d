// `uring-probe check` through the built CLI on this machine's kernel: JSON, human, verbose, usage errors, --output, time bounds.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROBES } from '../src/probes/index.js';
import type { ErrorDocument, Report } from '../src/types.js';
import { runCli, type CliRun } from './helpers/launcher.js';
import { CLI_PATH as CLI, makeTempDir, removeDir, withTempDir } from './helpers/paths.js';
import {
  effectiveCapabilities,
  isRoot,
  missingCap,
  missingCommand,
  missingRegisterIowqMaxWorkers,
  missingSetupFlag,
  requireSetupFlag,
  skipReason,
} from './helpers/require.js';

const ANSI = /\u001b\[/;

/**
 * Why this host is not expected to be compatible (false when it is): the seed's ring without a
 * fallback needs COOP_TASKRUN (5.19), IOWQ_MAX_WORKERS (5.15) and SINGLE_ISSUER (6.0), asked of the kernel.
 */
const notCompatibleHere = skipReason(
  await missingSetupFlag('COOP_TASKRUN'),
  await missingSetupFlag('SINGLE_ISSUER'),
  await missingRegisterIowqMaxWorkers(),
);

/** The CLI with this process's environment as it is (colour variables included) and `env` over it. */
function cli(args: string[], env: Record<string, string> = {}): CliRun {
  return runCli(args, { env: { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR, ...env }, timeoutMs: 120_000 });
}

/** Probe ids of a --no-bench run: every registered probe that is enabled without the benchmark. */
const NO_BENCH_IDS = PROBES.filter((p) => p.enabled?.({ bench: false } as never) ?? true).map((p) => p.id);

function assertReportShape(report: Report): void {
  assert.deepEqual(Object.keys(report), ['schemaVersion', 'tool', 'host', 'startedAt', 'durationMs', 'verdict', 'exitCode', 'context', 'probes', 'seedFindings']);
  assert.equal(report.context?.asInvoked, true, 'a run without context options says so');
  assert.equal(report.context?.user.uid, process.getuid?.());
  assert.equal(typeof report.context?.container.inContainer === 'boolean' || report.context?.container.inContainer === null, true);
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.tool.name, 'uring-probe');
  assert.match(report.tool.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(Object.keys(report.host), ['hostname', 'machineIdHash', 'kernelRelease', 'kernelVersion', 'arch', 'distribution']);
  assert.ok(report.host.machineIdHash === null || /^[0-9a-f]{16}$/.test(report.host.machineIdHash));
  assert.ok(!Number.isNaN(Date.parse(report.startedAt)));
  assert.equal(typeof report.durationMs, 'number');
  for (const p of report.probes) {
    assert.equal(typeof p.durationMs, 'number', p.id);
    assert.ok(['pass', 'warn', 'fail', 'skip'].includes(p.status), p.id);
    assert.equal(typeof p.summary, 'string');
    assert.ok(p.summary.length > 0, p.id);
    if (p.status === 'fail' || p.status === 'warn') assert.ok(p.reason, `${p.id} ${p.status} without a reason`);
  }
}

describe('the installed entry point', () => {
  it('runs as a program (shebang and executable bit), as `npx uring-probe` does', () => {
    const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    assert.equal(r.error, undefined, `could not execute ${CLI}: ${String(r.error)}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});

describe('check --json --no-bench on this host', () => {
  let run: ReturnType<typeof cli>;
  let report: Report;
  before(() => {
    run = cli(['check', '--json', '--no-bench']);
    report = JSON.parse(run.stdout) as Report;
  });

  it('prints exactly one JSON document and nothing on stderr', () => {
    assert.equal(run.stderr, '');
    assert.ok(run.stdout.endsWith('}\n'));
    assert.doesNotThrow(() => JSON.parse(run.stdout));
  });
  it('has every field of the report model and every probe, in registry order', () => {
    assertReportShape(report);
    assert.deepEqual(report.probes.map((p) => p.id), NO_BENCH_IDS);
    assert.ok(!report.probes.some((p) => p.id === 'throughput'), '--no-bench leaves the throughput probe out');
  });
  it('is compatible here, with exit code 0 in the report and the process', { skip: notCompatibleHere }, () => {
    const notPass = report.probes.filter((p) => p.status !== 'pass').map((p) => `${p.id}: ${p.status} ${p.reason} ${p.summary}`);
    assert.deepEqual(notPass, []);
    assert.equal(report.verdict, 'compatible');
    assert.equal(report.exitCode, 0);
    assert.equal(run.status, 0);
  });
  it('records the seed\'s ladder: both rings accepted CLAMP|COOP_TASKRUN at the first attempt', async (t) => {
    if (!(await requireSetupFlag(t, 'COOP_TASKRUN'))) return;
    const setup = report.probes.find((p) => p.id === 'ring-setup')!;
    const attempts = setup.attempts ?? [];
    for (const ring of ['send', 'recv'] as const) {
      const first = attempts.find((a) => a.ring === ring && a.stage === 'setup');
      assert.ok(first, `${ring} ring has a setup attempt`);
      assert.deepEqual(first.flags, ['CLAMP', 'COOP_TASKRUN']);
      assert.equal(first.ok, true);
      assert.equal(first.errno, null);
      assert.equal(first.next, 'map', 'an accepted setup goes on to map its rings');
      const mapped = attempts[attempts.indexOf(first) + 1];
      assert.equal(mapped?.stage, 'mmap');
      assert.equal(mapped?.next, 'accept');
    }
    const send = setup.facts.send as Record<string, unknown>;
    assert.equal(send.requestedEntries, 256);
    assert.equal(send.finalEntries, 256);
    assert.ok((send.features as string[]).includes('SINGLE_MMAP'));
  });
  it('checks the data path for real: loopback bytes, lengths and sources came back intact', () => {
    const loopback = report.probes.find((p) => p.id === 'loopback')!;
    const v4 = loopback.facts.ipv4 as Record<string, unknown>;
    assert.equal(v4.received, v4.expected);
    assert.ok((v4.expected as number) >= 6);
    assert.equal(v4.bytesOk, true);
    assert.equal(v4.lengthsOk, true);
    assert.equal(v4.sourceOk, true);
  });
  it('reports the environment with "could not tell" as null, not false', () => {
    const env = report.probes.find((p) => p.id === 'environment')!;
    for (const key of ['seccompMode', 'ioUringDisabled', 'uid', 'capabilities', 'memlockSoft', 'lsms']) {
      assert.ok(key in env.facts, key);
    }
    // the probes run in a child of the CLI, which inherits this process's seccomp mode (0 unless a container or sandbox filters it)
    const seccompLine = /^Seccomp:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const ownSeccompMode = seccompLine ? Number(seccompLine[1]) : null;
    assert.equal(env.facts.seccompMode, ownSeccompMode);
    // what this process holds, which the CLI inherits (root: CAP_SYS_ADMIN among them; another user usually nothing)
    assert.deepEqual(env.facts.capabilities, effectiveCapabilities());
    if (isRoot && missingCap('CAP_SYS_ADMIN') === null) assert.ok((env.facts.capabilities as string[]).includes('CAP_SYS_ADMIN'));
  });
});

describe('check, human output', () => {
  it('has a row per probe, the verdict with its exit code, and no ANSI codes with NO_COLOR', { skip: notCompatibleHere }, () => {
    const r = cli(['check', '--no-bench'], { NO_COLOR: '1' });
    assert.equal(r.status, 0);
    assert.doesNotMatch(r.stdout, ANSI);
    for (const id of NO_BENCH_IDS) assert.match(r.stdout, new RegExp(`│ PASS\\s+│ ${id}\\s+│`), id);
    assert.match(r.stdout, /Verdict: COMPATIBLE.*\(exit 0\)/);
    assert.equal(r.stderr, '');
  });
  it('has no ANSI codes on a pipe even without NO_COLOR', { skip: notCompatibleHere }, () => {
    const env = { ...process.env };
    delete env.NO_COLOR;
    const r = spawnSync(process.execPath, [CLI, 'check', '--no-bench'], { encoding: 'utf8', env });
    assert.equal(r.status, 0);
    assert.doesNotMatch(r.stdout, ANSI);
  });
  it('--verbose shows the setup ladder of each ring and the facts', { skip: notCompatibleHere }, () => {
    const r = cli(['check', '--no-bench', '--verbose'], { NO_COLOR: '1' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /setup ladder:/);
    assert.match(r.stdout, /│ send\s+│ setup\s+│ 256\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ map/);
    assert.match(r.stdout, /│ send\s+│ mmap\s+│ 256\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ accept/);
    assert.match(r.stdout, /│ recv\s+│ setup\s+│ 64\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ map/);
    assert.match(r.stdout, /│ recv\s+│ mmap\s+│ 64\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ accept/);
    assert.match(r.stdout, /facts:/);
    assert.match(r.stdout, /send\.features: .*SINGLE_MMAP/);
  });
});

describe('check, usage errors', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['frobnicate'], /Unknown argument: frobnicate/],
    ['an unknown option', ['check', '--frobnicate'], /Unknown argument: frobnicate/],
    ['a bad --timeout', ['check', '--timeout', 'soon'], /--timeout must be .* got 'soon'/],
    ['a bad --format', ['check', '--format', 'xml'], /Invalid values/],
    ['no command', [], /no command given/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: exit 64, one line on stderr naming it and what to do, nothing on stdout`, () => {
      const r = cli(args);
      assert.equal(r.status, 64);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^uring-probe: .+; .+ \(see --help\)$/);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
  it('a command without its paths (fleet, diff with one report): the hint asks for them, not for a command', () => {
    for (const args of [['fleet'], ['diff', 'old.json']]) {
      const r = cli(args);
      assert.equal(r.status, 64, args.join(' '));
      assert.match(r.stderr, /Not enough non-option arguments.*; give the command its report files or paths/);
      assert.doesNotMatch(r.stderr, /name a command/);
    }
  });
  it('in JSON mode a usage error is one ErrorDocument on stdout, exit 64', () => {
    for (const args of [['check', '--json', '--frobnicate'], ['check', '--format', 'json', '--timeout', '-5']]) {
      const r = cli(args);
      assert.equal(r.status, 64, args.join(' '));
      assert.equal(r.stderr, '');
      const doc = JSON.parse(r.stdout) as ErrorDocument;
      assert.deepEqual(Object.keys(doc), ['schemaVersion', 'tool', 'error', 'exitCode']);
      assert.equal(doc.exitCode, 64);
      assert.equal(doc.error.code, 'USAGE');
      assert.ok(doc.error.message.length > 0);
    }
  });
  it('--json contradicting --format human is a usage error', () => {
    const r = cli(['check', '--json', '--format', 'human']);
    assert.equal(r.status, 64);
    assert.match((JSON.parse(r.stdout) as ErrorDocument).error.message, /contradicts/);
  });
  it('--help documents every exit code and its verdict', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    for (const [code, verdict] of [['0', 'compatible'], ['1', 'degraded'], ['2', 'incompatible'], ['3', 'unknown'], ['64', 'usage']]) {
      assert.match(r.stdout, new RegExp(`^\\s+${code}\\s+${verdict}\\b`, 'm'), verdict);
    }
    assert.match(r.stdout, /check/);
  });
});

describe('check --output', () => {
  let dir: string;
  before(() => {
    dir = makeTempDir('uring-probe-output-');
  });
  after(() => removeDir(dir));

  it('writes the same document to the file (and nothing to stdout), leaving no temp file behind', { skip: notCompatibleHere }, () => {
    const file = join(dir, 'report.json');
    const r = cli(['check', '--json', '--no-bench', '--output', file]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
    const fromFile = JSON.parse(readFileSync(file, 'utf8')) as Report;
    const fromStdout = JSON.parse(cli(['check', '--json', '--no-bench']).stdout) as Report;
    assertReportShape(fromFile);
    const shape = (rep: Report) => rep.probes.map((p) => [p.id, p.status, p.reason, Object.keys(p.facts)]);
    assert.deepEqual(shape(fromFile), shape(fromStdout));
    assert.deepEqual(fromFile.host, fromStdout.host);
    assert.deepEqual(readdirSync(dir), ['report.json']);
  });
  it('writes the human report without colour', { skip: notCompatibleHere }, () => {
    const file = join(dir, 'report.txt');
    const r = cli(['check', '--no-bench', '-o', file]);
    assert.equal(r.status, 0);
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, ANSI);
    assert.match(text, /Verdict: COMPATIBLE/);
  });
  it('an unwritable path is a one-line usage error', () => {
    const r = cli(['check', '--no-bench', '--output', join(dir, 'no-such-dir', 'r.json')]);
    assert.equal(r.status, 64);
    assert.match(r.stderr.trim(), /^uring-probe: cannot write --output .*ENOENT.*\(see --help\)$/);
  });
});

describe('check, probe time bounds', () => {
  it('a probe process past its bound is killed: PROBE_TIMEOUT, dependants skipped, every probe reported, exit 3', () => {
    // 1 ms is less than node needs to start the probe child, so the first kernel probe is killed.
    const r = cli(['check', '--json', '--no-bench', '--timeout', '1']);
    assert.equal(r.status, 3);
    const report = JSON.parse(r.stdout) as Report;
    assertReportShape(report);
    assert.deepEqual(report.probes.map((p) => p.id), NO_BENCH_IDS);
    // memlock (the first kernel probe) and ring-setup (which depends on nothing) each get a child that is killed.
    for (const id of ['memlock', 'ring-setup']) {
      const killed = report.probes.find((p) => p.id === id)!;
      assert.equal(killed.status, 'fail', id);
      assert.equal(killed.reason, 'PROBE_TIMEOUT', id);
      assert.equal(killed.facts.signal, 'SIGKILL', id);
    }
    for (const p of report.probes.filter((x) => !['environment', 'memlock', 'ring-setup'].includes(x.id))) {
      assert.equal(p.status, 'skip', p.id);
      assert.equal(p.reason, 'DEPENDENCY_FAILED', p.id);
    }
    assert.equal(report.probes.find((p) => p.id === 'environment')!.status, 'pass');
    assert.equal(report.verdict, 'unknown');
  });
});

describe('check, stdout that cannot be written', () => {
  it('a full disk (/dev/full): one line on stderr, no stack trace, exit 3 (not 1 = degraded)', () => {
    const out = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, 'check', '--no-bench'], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 3);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
      assert.match(r.stderr, /^uring-probe: cannot write to stdout \(ENOSPC\)/);
    } finally {
      closeSync(out);
    }
  });
  it('a reader that went away (`| head`, EPIPE): silent, and the verdict\'s exit code', { skip: missingCommand('mkfifo') ?? false }, () => withTempDir('uring-probe-epipe-', (dir) => {
    const fifo = join(dir, 'out');
    {
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      // Open a reader so the writer can open, then close the reader: every write gets EPIPE.
      const reader = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const writer = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      closeSync(reader);
      const r = spawnSync(process.execPath, [CLI, 'check', '--no-bench', '--verbose'], { stdio: ['ignore', writer, 'pipe'], encoding: 'utf8', timeout: 120_000 });
      closeSync(writer);
      assert.equal(r.stderr, '');
      // the verdict's exit code: the same as a run whose output is read
      assert.equal(r.status, cli(['check', '--json', '--no-bench']).status);
    }
  }));
});

describe('check without a writable temporary directory', () => {
  it('still reports every probe (the breadcrumb page is optional: a kill is then named without its syscall)', () => {
    const r = cli(['check', '--json', '--no-bench'], { TMPDIR: '/nonexistent/uring-probe-tmp' });
    assert.ok(r.status !== null && [0, 1, 2, 3].includes(r.status), `exit ${r.status}: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as Report;
    assert.deepEqual(report.probes.map((p) => p.id), NO_BENCH_IDS);
    assert.equal(report.probes.find((p) => p.id === 'ring-setup')!.status, 'pass');
  });
});

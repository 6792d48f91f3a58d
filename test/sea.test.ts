// The single executable (npm run build:sea -> dist/uring-probe-linux-x64): runs with no Node at all
// (a Debian root made by debootstrap, and the host with nothing on PATH), loads its embedded addon,
// starts its kernel-probe child from itself, and survives a seccomp kill like `node dist/...` does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Report } from '../src/types.js';
import { parseSingleDocument, probeById, type CliRun } from './helpers/launcher.js';
import { ROOT, VERSION, withTempDir } from './helpers/paths.js';
import { missingLibseccomp, notRoot, skipReason } from './helpers/require.js';

const SEA = join(ROOT, 'dist', 'uring-probe-linux-x64');
const built = existsSync(SEA);
const hasDebootstrap = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap', '/sbin/debootstrap'].some((p) => existsSync(p));
const NOT_BUILT = 'dist/uring-probe-linux-x64 has not been built (run npm run build:sea)';
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = '/', timeoutMs = 120_000): CliRun {
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} ${args.join(' ')} failed to run: ${result.error.message}`);
  return { command: [command, ...args], status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** The checks every `check --json --no-bench` of the single executable must pass. */
function assertReport(t: TestContext, where: string, execution: CliRun): Report {
  assert.equal(execution.signal, null, `${where}: the tool itself must not die: ${execution.stderr}`);
  const report = parseSingleDocument<Report>(execution);
  t.diagnostic(`${where}: verdict ${report.verdict}, exit ${execution.status}`);
  assert.ok([0, 1, 2].includes(execution.status ?? -1), `${where}: exit ${execution.status}: ${execution.stderr}`);
  assert.equal(report.exitCode, execution.status);
  assert.equal(report.tool.version, VERSION);
  const ring = probeById(report, 'ring-setup');
  assert.notEqual(ring.reason, 'PROBE_ERROR', `${where}: ring-setup is a PROBE_ERROR (embedded addon or probe child broken): ${ring.summary}`);
  assert.ok(['pass', 'warn', 'fail'].includes(ring.status), `${where}: ring-setup ${ring.status}: ${ring.summary}`);
  return report;
}

describe('the single executable on this host, with no Node on PATH', { skip: built ? false : NOT_BUILT }, () => {
  it('--version prints the package version', () => {
    const execution = run(SEA, ['--version'], { PATH: '/nonexistent' });
    assert.equal(execution.status, 0, execution.stderr);
    assert.equal(execution.stdout.trim(), VERSION);
    assert.equal(execution.stderr, '', 'no experimental-feature warning or anything else on stderr');
  });

  it('check --json --no-bench: one report, the embedded addon loaded and the probe child ran, nothing left in TMPDIR', (t) => {
    withTempDir('uring-probe-sea-test-', (tmp) => {
      assertReport(t, 'host', run(SEA, ['check', '--json', '--no-bench'], { PATH: '/nonexistent', TMPDIR: tmp }));
      assert.deepEqual(readdirSync(tmp), [], 'the addon file (and the breadcrumb) are gone');
    });
  });

  it('a report it writes passes its own schema (the embedded schema is read)', () => {
    withTempDir('uring-probe-sea-test-', (dir) => {
      const first = run(SEA, ['check', '--json', '--no-bench', '--output', join(dir, 'a.json')], { PATH: '/nonexistent' });
      assert.ok([0, 1, 2].includes(first.status ?? -1), first.stderr);
      const diff = run(SEA, ['diff', '--json', join(dir, 'a.json'), join(dir, 'a.json')], { PATH: '/nonexistent' });
      assert.equal(diff.signal, null, diff.stderr);
      const broken = run(SEA, ['diff', join(ROOT, 'fixtures', 'reports', 'broken', 'bad-status.json'), join(dir, 'a.json')], { PATH: '/nonexistent' });
      assert.match(broken.stderr, /does not match the report schema v1/);
    });
  });

  it('a seccomp kill profile: the SEA child dies of SIGSYS in io_uring_setup, the tool reports it', { skip: skipReason(missingLibseccomp()) }, (t) => {
    const execution = run(SEA, ['check', '--json', '--no-bench', '--seccomp-profile', join(ROOT, 'fixtures', 'seccomp', 'kill-io_uring.json')], { PATH: '/nonexistent' });
    assert.equal(execution.signal, null, `the tool itself must not die: ${execution.stderr}`);
    assert.equal(execution.status, 2, execution.stderr);
    const report = parseSingleDocument<Report>(execution);
    const ring = probeById(report, 'ring-setup');
    t.diagnostic(`verdict ${report.verdict}; ring-setup: ${ring.summary}`);
    assert.equal(ring.reason, 'SECCOMP_BLOCKED');
    assert.equal(ring.facts.signal, 'SIGSYS');
    assert.equal(ring.facts.lastSyscall, 'io_uring_setup');
    assert.match(ring.summary, /SIGSYS/);
  });
});

describe('the single executable in a Debian 12 root without Node (chroot, /proc mounted)', {
  skip: skipReason(
    !built && NOT_BUILT,
    notRoot('chroot and mount'),
    !hasDebootstrap && 'debootstrap is not installed (apt-get install debootstrap)',
  ),
}, () => {
  let root = '';
  let stage = '';
  before(() => {
    // made once and cached (~30 s the first time; URING_PROBE_ROOTS and URING_PROBE_DEBIAN_MIRROR apply)
    const made = run('bash', [join(ROOT, 'scripts', 'debootstrap-root.sh'), 'bookworm', 'bookworm-bare'], { ...process.env, PATH: SYSTEM_PATH }, ROOT, 600_000);
    assert.equal(made.status, 0, `scripts/debootstrap-root.sh bookworm bookworm-bare: ${made.stderr}`);
    root = made.stdout.trim().split('\n').pop() ?? '';
    assert.ok(existsSync(join(root, 'etc', 'debian_version')), `not a Debian root: ${root}`);
    stage = mkdtempSync(join(root, 'tmp', 'uring-probe-sea-'));
    cpSync(SEA, join(stage, 'uring-probe-linux-x64'));
  });
  after(() => {
    if (stage) rmSync(stage, { recursive: true, force: true });
  });

  /** ARGS run inside the root: a private mount namespace with its own /proc, gone (unmounted) when the command ends. */
  function inRoot(args: string[]): CliRun {
    const script = 'mount -t proc proc "$1/proc" || exit 111; shift; exec chroot "$@"';
    return run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', root, root, ...args], { PATH: SYSTEM_PATH });
  }

  it('the root has no Node', () => {
    const execution = inRoot(['/bin/sh', '-c', 'command -v node nodejs || echo none']);
    assert.equal(execution.status, 0, execution.stderr);
    assert.equal(execution.stdout.trim(), 'none');
  });

  it('check --json --no-bench: one report; the embedded addon loaded and the probe child ran', (t) => {
    const exe = `/${join('tmp', stage.split('/').pop() ?? '', 'uring-probe-linux-x64')}`;
    const execution = inRoot([exe, 'check', '--json', '--no-bench']);
    assert.notEqual(execution.status, 111, `mount -t proc failed: ${execution.stderr}`);
    const report = assertReport(t, 'bookworm-bare', execution);
    assert.match(report.host.distribution ?? '', /Debian GNU\/Linux 12/);
    t.diagnostic(`ring-setup: ${probeById(report, 'ring-setup').summary}`);
  });

  it('/proc is not left mounted on the root', () => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.split('\n').some((line) => line.split(' ')[1] === join(root, 'proc')), `${root}/proc is still mounted`);
  });
});

// The Ansible example for real: ansible-playbook against localhost installs the single executable (the real
// dist/uring-probe-linux-x64 when it has been built, else a stand-in script that execs the built CLI), runs
// check --json, validates and fetches the report and rolls it up with fleet; a missing executable, a crashing
// one and a usage error fail the play with a message that says so, and never count as a verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readReportFile, schemaValidator } from '../src/reader.js';
import type { FleetDocument } from '../src/fleet/render.js';
import { CLI_PATH, ROOT, withTempDir } from './helpers/paths.js';
import { missingCommand, skipReason } from './helpers/require.js';

/** ansible-core (Debian 12; .ci/run installs it): the example is run for real, or not at all. */
const NO_ANSIBLE = skipReason(missingCommand('ansible-playbook', 'examples/ansible is run for real against localhost'));

const PLAYBOOK = join(ROOT, 'examples', 'ansible', 'uring-probe.yml');
const POLICY = join(ROOT, 'examples', 'ansible', 'uring-policy.example.json');
/** What `npm run build:sea` writes; preferred over the stand-in once it exists. */
const SINGLE_EXECUTABLE = join(ROOT, 'dist', 'uring-probe-linux-x64');

/** A shell script in `dir` that does what the single executable does, with Node and the built CLI. */
function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The real single executable when it has been built, else a stand-in that execs the built CLI. */
function singleExecutable(dir: string): string {
  if (existsSync(SINGLE_EXECUTABLE)) return SINGLE_EXECUTABLE;
  assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: npm run build:ts`);
  return writeScript(dir, 'uring-probe-standin', `exec '${process.execPath}' '${CLI_PATH}' "$@"`);
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface Play {
  run: SpawnSyncReturns<string>;
  output: string;
}

/**
 * ansible-playbook on the example itself (in place, so its defaults are the shipped ones), against localhost
 * as root without become, with every host- and controller-side path in `dir`, plus `vars`.
 */
function playbook(dir: string, vars: Record<string, unknown>): Play {
  const allVars = {
    uring_probe_become: false,
    uring_probe_remote_dir: join(dir, 'remote', 'lib'),
    uring_probe_remote_report: join(dir, 'remote', 'cache', 'report.json'),
    uring_probe_reports_dir: join(dir, 'reports'),
    uring_probe_fleet_output: join(dir, 'fleet.json'),
    ...vars,
  };
  const run = spawnSync('ansible-playbook', ['-i', 'localhost,', '-c', 'local', PLAYBOOK, '-e', JSON.stringify(allVars)], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: join(dir, '.ansible-remote-tmp'), // not under $HOME, which may be read-only or absent
      ANSIBLE_HOME: join(dir, '.ansible'),
      // for the tarball run: npm from the file alone, no network, nothing left in ~/.npm
      npm_config_cache: join(dir, '.npm'),
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    },
  });
  assert.ok(!run.error, `ansible-playbook did not run: ${run.error?.message}`);
  return { run, output: `${run.stdout}\n${run.stderr}` };
}

/** The play failed for localhost, with `message` among its failures, and no roll-up was made from it. */
function assertFailedWith(dir: string, play: Play, message: RegExp): void {
  assert.notEqual(play.run.status, 0, `the play must fail:\n${play.output}`);
  assert.match(play.run.stdout, /localhost +: ok=\d+ +changed=\d+ +unreachable=0 +failed=1/, play.output);
  const failures = play.run.stdout.split('\n').filter((line) => line.startsWith('fatal: [localhost]: FAILED!'));
  assert.ok(failures.some((line) => message.test(line)), `no failure matches ${message}:\n${failures.join('\n')}\n---\n${play.output}`);
  assert.ok(!existsSync(join(dir, 'reports', 'localhost.json')), 'a failed host must not leave a report to roll up');
  assert.ok(!existsSync(join(dir, 'fleet.json')), 'no roll-up after a failed check');
}

test('examples/ansible/uring-probe.yml installs the single executable, runs check, fetches the report and rolls it up', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    const binary = singleExecutable(dir);
    const play = playbook(dir, { uring_probe_binary: binary, uring_probe_policy: POLICY });
    assert.equal(play.run.status, 0, play.output);
    assert.match(play.run.stdout, /localhost +: ok=\d+ +changed=\d+ +unreachable=0 +failed=0/);

    // installed where the unit of examples/node-exporter expects it (here under the test's remote dir), 0755, same bytes
    const installed = join(dir, 'remote', 'lib', 'uring-probe');
    assert.equal(statSync(installed).mode & 0o777, 0o755);
    assert.equal(sha256(installed), sha256(binary));
    // the report directory on the host is root-only
    assert.equal(statSync(join(dir, 'remote', 'cache')).mode & 0o777, 0o700);

    const reports = readdirSync(join(dir, 'reports'));
    assert.deepEqual(reports, ['localhost.json']);
    const read = readReportFile(join(dir, 'reports', 'localhost.json'));
    assert.ok(read.ok, read.ok ? '' : read.message);
    assert.ok(!read.report.probes.some((p) => p.id === 'throughput'), 'the example checks with --no-bench by default');

    const fleet = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as FleetDocument;
    assert.ok(schemaValidator('fleetRollup')(fleet));
    assert.equal(fleet.inputs.hosts, 1);
    assert.equal(fleet.inputs.skipped, 0);
    assert.deepEqual(fleet.policy?.require, ['COOP_TASKRUN', 'IOWQ_MAX_WORKERS', 'multishot-recvmsg', 'loopback']);
    // the example policy wants a throughput ratio, which a --no-bench check cannot show: the host fails the gate, named
    assert.deepEqual(fleet.failing[0]?.unmet.map((u) => u.requirement), ['min-ratio 0.5']);
    assert.match(play.run.stdout, /Failing hosts \(1\)/);
  });
});

test('a missing single executable fails the play before anything is installed, saying how to get one', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    const missing = join(dir, 'no-such-dir', 'uring-probe-linux-x64');
    const play = playbook(dir, { uring_probe_binary: missing });
    assertFailedWith(dir, play, new RegExp(`no single executable at ${missing} on the controller\\..*npm run build:sea`));
    assert.ok(!existsSync(join(dir, 'remote')), 'nothing may be installed on the host');
  });
});

test('a "binary" that crashes (exit 1, no report) fails the play: it is not the verdict degraded', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    const crashing = writeScript(dir, 'uring-probe-crashing', 'echo "TypeError: Cannot read properties of undefined (reading \'probes\')" >&2\nexit 1');
    const play = playbook(dir, { uring_probe_binary: crashing });
    assertFailedWith(dir, play, /did not run or crashed on localhost: it exited 1 without writing a report .* not the verdict 'degraded'.*stderr: TypeError: Cannot read properties/);
    assert.doesNotMatch(play.run.stdout, /TASK \[Run uring-probe fleet/, 'the roll-up must not run when every host failed');
  });
});

test('a report that does not agree with the exit code (a crash after writing it) fails the play', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: npm run build:ts`);
    // writes a whole, valid report (exit code 0 inside) and then "crashes" with 1
    const late = writeScript(dir, 'uring-probe-late-crash', `'${process.execPath}' '${CLI_PATH}' "$@"\nexit 1`);
    const play = playbook(dir, { uring_probe_binary: late });
    assertFailedWith(dir, play, /did not run or crashed on localhost: it exited 1, but .* is not a whole uring-probe report with that verdict .*verdict 'degraded'.*exitCode 0/);
  });
});

test('a usage error (exit 64) fails the play with the tool\'s own message', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    const play = playbook(dir, { uring_probe_binary: singleExecutable(dir), uring_probe_check_args: ['--no-bench', '--bogus'] });
    assertFailedWith(dir, play, /refused its command line on localhost \(exit 64\): Unknown argument: bogus; .*\(check arguments: --no-bench --bogus\)/);
  });
});

test('uring_probe_tarball installs a package tarball with npm, from the file, and checks with it', { skip: NO_ANSIBLE }, () => {
  withTempDir('uring-ansible-', (dir) => {
    assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: npm run build:ts`);
    // A stand-in for `npm pack`'s tarball (no dependencies, so npm needs no registry): its bin runs the built CLI.
    const pkg = join(dir, 'pkg', 'package');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'uring-probe', version: '0.0.0-test', bin: { 'uring-probe': 'cli.js' }, engines: { node: '>=20.5' } }));
    writeFileSync(join(pkg, 'cli.js'), `#!/usr/bin/env node\nimport(${JSON.stringify(CLI_PATH)});\n`, { mode: 0o755 });
    const tarball = join(dir, 'uring-probe-0.0.0-test.tgz');
    const tar = spawnSync('tar', ['-czf', tarball, '-C', join(dir, 'pkg'), 'package/package.json', 'package/cli.js'], { encoding: 'utf8' });
    assert.equal(tar.status, 0, tar.stderr);

    const play = playbook(dir, { uring_probe_tarball: tarball, uring_probe_fleet_binary: singleExecutable(dir) });
    assert.equal(play.run.status, 0, play.output);
    assert.ok(existsSync(join(dir, 'remote', 'lib', 'npm', 'lib', 'node_modules', 'uring-probe', 'cli.js')));
    const read = readReportFile(join(dir, 'reports', 'localhost.json'));
    assert.ok(read.ok, read.ok ? '' : read.message);
    assert.ok(existsSync(join(dir, 'fleet.json')));
  });
});

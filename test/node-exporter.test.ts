// The node_exporter example for real (systemd itself cannot run here): the unit's own ExecStart= runs as its
// User=/Group= (setpriv), in its StateDirectory= made the way systemd makes it, with the single executable
// (the real dist/uring-probe-linux-x64 when built, else a stand-in that execs the built CLI) in place of the
// installed path; promtool accepts the .prom file, the throughput benchmark is off unless opted into, and the
// unit's ExecStartPost=+ puts the file where Debian's node_exporter reads it, readable by another user.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nobodyReadableCli } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';
import { asUser as setprivAs, hasCommand, idOf, missingCommand, notRoot, skipReason } from './helpers/require.js';

const EXAMPLE = join(ROOT, 'examples', 'node-exporter');
const SERVICE = join(EXAMPLE, 'uring-probe-textfile.service');
const TIMER = join(EXAMPLE, 'uring-probe-textfile.timer');
/** What `npm run build:sea` writes; preferred over the stand-in once it exists. */
const SINGLE_EXECUTABLE = join(ROOT, 'dist', 'uring-probe-linux-x64');
/** Where the unit (and examples/ansible) expect the single executable. */
const INSTALLED_PATH = '/usr/local/lib/uring-probe/uring-probe';
/** Debian's node_exporter textfile directory (root:root 0755 in prometheus-node-exporter). */
const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
/** systemd's PATH for system services. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ---- a small reader of unit files: sections, continuation lines, comments, repeated keys ----

type Unit = Map<string, Array<[string, string]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    let line = pending + raw.trim();
    pending = '';
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    line = line.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      if (!unit.has(section)) unit.set(section, []);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0 && section !== '', `not a unit file line: ${line}`);
    unit.get(section)?.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value of `key` in `section`, in order (an empty assignment resets the list, as in systemd). */
function values(unit: Unit, section: string, key: string): string[] {
  const out: string[] = [];
  for (const [k, v] of unit.get(section) ?? []) {
    if (k !== key) continue;
    if (v === '') out.length = 0;
    else out.push(v);
  }
  return out;
}

function single(unit: Unit, key: string): string {
  const all = values(unit, 'Service', key);
  assert.equal(all.length, 1, `the unit must have exactly one ${key}=, has ${JSON.stringify(all)}`);
  return all[0] as string;
}

/** Words as systemd splits them: whitespace, with "double" and 'single' quoted words. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  return words;
}

/** Environment= assignments (each value holds one or more NAME=VALUE words). */
function environment(unit: Unit): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values(unit, 'Service', 'Environment')) {
    for (const word of splitWords(value)) {
      const eq = word.indexOf('=');
      assert.ok(eq > 0, `Environment= word without =: ${word}`);
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}

/**
 * An Exec*= command line as systemd runs it: its prefixes (+, -, ...), then its words with `$NAME` (a whole
 * word: split at whitespace, nothing when empty) and `${NAME}` (inside a word) taken from `env`.
 */
function commandLine(value: string, env: Record<string, string>): { prefixes: string; argv: string[] } {
  const prefix = /^[-@:+!]*/.exec(value)?.[0] ?? '';
  assert.ok(!value.includes('%'), `the test does not expand unit specifiers (%): ${value}`);
  const argv: string[] = [];
  for (const word of splitWords(value.slice(prefix.length))) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      argv.push(...splitWords(env[whole[1] as string] ?? ''));
      continue;
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ''));
  }
  return { prefixes: prefix, argv };
}

// ---- the unit ----

const unit = parseUnit(readFileSync(SERVICE, 'utf8'));
const USER = single(unit, 'User');
const GROUP = values(unit, 'Service', 'Group')[0] ?? USER;
const STATE_DIRECTORY = single(unit, 'StateDirectory');
const STATE_MODE = parseInt(values(unit, 'Service', 'StateDirectoryMode')[0] ?? '0755', 8);
const ENV = environment(unit);
const EXEC_START = commandLine(single(unit, 'ExecStart'), ENV);
const EXEC_START_POST = values(unit, 'Service', 'ExecStartPost').map((v) => commandLine(v, ENV));

const userExists = spawnSync('id', ['-u', USER]).status === 0;
const skip = skipReason(
  notRoot('runs the unit\'s command as its User= with setpriv, chowns its StateDirectory='),
  missingCommand('promtool'),
  missingCommand('setpriv'),
  !userExists && !hasCommand('useradd') && `user ${USER} does not exist and useradd is missing`,
);

describe('examples/node-exporter/uring-probe-textfile.service', () => {
  it('is a unit systemd reads: a plain account, a StateDirectory= for the output, --no-bench unless opted in', () => {
    assert.equal(single(unit, 'Type'), 'oneshot');
    assert.ok(!['root', '0', 'nobody'].includes(USER), `User=${USER}: root needs no example, nobody must own no files`);
    assert.deepEqual(values(unit, 'Service', 'DynamicUser').filter((v) => /^(yes|true|1|on)$/i.test(v)), [],
      'DynamicUser= puts the StateDirectory= under /var/lib/private (0700), which node_exporter cannot read');
    assert.equal(STATE_MODE & 0o005, 0o005, 'others (node_exporter\'s user) must be able to enter the StateDirectory=');
    assert.equal(EXEC_START.prefixes, '');
    assert.equal(EXEC_START.argv[0], INSTALLED_PATH);
    assert.deepEqual(EXEC_START.argv.slice(1, 2), ['check']);
    const argv = EXEC_START.argv.join(' ');
    assert.match(argv, / --format prometheus( |$)/);
    assert.match(argv, new RegExp(` --output /var/lib/${STATE_DIRECTORY}/[^/ ]+\\.prom( |$)`));
    assert.ok(EXEC_START.argv.includes('--no-bench'), `the benchmark must be opt-in: ${argv}`);
    assert.ok(!EXEC_START.argv.includes('--user'), '--user needs root; the unit runs as its User=');

    // systemd-analyze, where it is installed, finds no unknown or invalid settings in either unit
    const verify = spawnSync('systemd-analyze', ['verify', SERVICE, TIMER], { encoding: 'utf8' });
    if (!verify.error) {
      const problems = verify.stderr.split('\n').filter((l) => /Unknown (key|section|lvalue)|invalid|failed to parse/i.test(l));
      assert.deepEqual(problems, [], verify.stderr);
    }
  });

  describe('its ExecStart= as its User=, then its ExecStartPost=', { skip }, () => {
    let dir = '';
    let stagedRoot: string | null = null;
    let createdUser = false;
    let uid = 0;
    let gid = 0;
    let binary = '';
    const asUser = (): string[] => ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
    /** A path of the unit, inside the test's root. */
    const inRoot = (path: string): string => (path.startsWith('/var/lib/') ? join(dir, 'root', path) : path);

    before(() => {
      if (!userExists) {
        // What the README's `adduser --system --group ... uring-probe` makes; removed again in after().
        const add = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
        assert.equal(add.status, 0, `useradd ${USER}: ${add.stderr}`);
        createdUser = true;
      }
      uid = idOf('-u', USER);
      const group = spawnSync('getent', ['group', GROUP], { encoding: 'utf8' });
      assert.equal(group.status, 0, `group ${GROUP} of the unit does not exist`);
      gid = Number(group.stdout.split(':')[2]);

      dir = mkdtempSync(join(tmpdir(), 'uring-node-exporter-'));
      chmodSync(dir, 0o755);
      // the single executable where the unit's user can run it
      if (existsSync(SINGLE_EXECUTABLE)) {
        binary = join(dir, 'uring-probe');
        copyFileSync(SINGLE_EXECUTABLE, binary);
      } else {
        const cli = nobodyReadableCli(asUser());
        stagedRoot = cli.stagedRoot;
        binary = join(dir, 'uring-probe-standin');
        writeFileSync(binary, `#!/bin/sh\nexec '${process.execPath}' '${cli.cliPath}' "$@"\n`);
      }
      chmodSync(binary, 0o755);
      // /var/lib: the StateDirectory= as systemd makes it (owned by User=/Group=, StateDirectoryMode=),
      // and Debian's textfile directory (root:root 0755)
      mkdirSync(inRoot(`/var/lib/${STATE_DIRECTORY}`), { recursive: true });
      chmodSync(inRoot(`/var/lib/${STATE_DIRECTORY}`), STATE_MODE);
      spawnSync('chown', [`${uid}:${gid}`, inRoot(`/var/lib/${STATE_DIRECTORY}`)]);
      for (const d of [join(dir, 'root'), join(dir, 'root', 'var'), join(dir, 'root', 'var', 'lib')]) chmodSync(d, 0o755);
      mkdirSync(inRoot(TEXTFILE_DIR), { recursive: true, mode: 0o755 });
    });

    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (stagedRoot) rmSync(stagedRoot, { recursive: true, force: true });
      if (createdUser) {
        spawnSync('userdel', [USER]);
        spawnSync('groupdel', [GROUP]); // when userdel did not (USERGROUPS_ENAB no)
      }
    });

    /** The unit's ExecStart= with `env` over its Environment=, as systemd would start it (User=, /, umask 022). */
    function execStart(env: Record<string, string> = {}) {
      const { argv } = commandLine(single(unit, 'ExecStart'), { ...ENV, ...env });
      assert.equal(argv[0], INSTALLED_PATH);
      const command = [binary, ...argv.slice(1).map(inRoot)];
      const previous = process.umask(0o022);
      try {
        const run = spawnSync(asUser()[0] as string, [...asUser().slice(1), ...command], {
          cwd: '/',
          encoding: 'utf8',
          timeout: 120_000,
          killSignal: 'SIGKILL',
          env: { PATH: SYSTEMD_PATH, LANG: 'C.UTF-8', USER, LOGNAME: USER, HOME: '/nonexistent', SHELL: '/usr/sbin/nologin', ...ENV, ...env },
        });
        assert.ok(!run.error, `${command.join(' ')}: ${run.error?.message}`);
        return { run, command, output: inRoot(argv[argv.indexOf('--output') + 1] as string) };
      } finally {
        process.umask(previous);
      }
    }

    function promtool(path: string): void {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(path), encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool check metrics ${path}: ${r.stdout}${r.stderr}`);
    }

    it('exits 0 and writes a .prom file owned by the unit\'s user, 0644, that promtool accepts, without the benchmark', () => {
      const { run, command, output } = execStart();
      assert.equal(run.status, 0, `${command.join(' ')} → ${run.status}\n${run.stderr}`);
      const st = statSync(output);
      assert.equal(st.uid, uid, `${output} must belong to ${USER}`);
      assert.equal(st.gid, gid);
      assert.equal(st.mode & 0o777, 0o644);
      assert.deepEqual(readdirSync(inRoot(`/var/lib/${STATE_DIRECTORY}`)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
      promtool(output);
      const text = readFileSync(output, 'utf8');
      assert.match(text, /^uring_probe_up 1$/m);
      assert.doesNotMatch(text, /^uring_probe_throughput_/m, 'the throughput benchmark must not run by default');
      assert.doesNotMatch(text, /probe="throughput"/);
    });

    it('ExecStartPost= links it into the textfile directory, where another user (node_exporter\'s) reads it', () => {
      assert.ok(EXEC_START_POST.length > 0, 'the unit has no ExecStartPost=');
      for (const post of EXEC_START_POST) {
        assert.equal(post.prefixes, '+', 'writing into the root-owned textfile directory needs the + prefix');
        const run = spawnSync(post.argv[0] as string, post.argv.slice(1).map(inRoot), { encoding: 'utf8' });
        assert.equal(run.status, 0, `${post.argv.join(' ')}: ${run.stderr}`);
      }
      const link = inRoot(join(TEXTFILE_DIR, 'uring-probe.prom'));
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(readlinkSync(link), inRoot(`/var/lib/${STATE_DIRECTORY}/uring-probe.prom`));
      const nobody = setprivAs('nobody');
      const read = spawnSync(nobody[0] as string, [...nobody.slice(1), 'cat', link], { encoding: 'utf8' });
      assert.equal(read.status, 0, `another user cannot read ${link}: ${read.stderr}`);
      assert.match(read.stdout, /^uring_probe_up 1$/m);
      promtool(link);
      // the link replaces a regular file an earlier, root-run version of the unit left there (and is idempotent)
      rmSync(link);
      writeFileSync(link, 'uring_probe_up 0\n');
      for (const post of EXEC_START_POST) spawnSync(post.argv[0] as string, post.argv.slice(1).map(inRoot));
      assert.ok(lstatSync(link).isSymbolicLink());
    });

    it('with the drop-in Environment=URING_PROBE_BENCH=--bench the throughput benchmark runs (opt-in)', () => {
      assert.ok('URING_PROBE_BENCH' in ENV, 'the unit sets URING_PROBE_BENCH');
      const { run, command, output } = execStart({ URING_PROBE_BENCH: '--bench' });
      assert.equal(run.status, 0, `${command.join(' ')} → ${run.status}\n${run.stderr}`);
      promtool(output);
      assert.match(readFileSync(output, 'utf8'), /^uring_probe_probe_status\{probe="throughput",status="(pass|warn|fail|skip)"\} 1$/m);
    });
  });
});

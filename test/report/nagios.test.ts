// The monitoring-plugin renderer (src/report/nagios.ts): every output read by a strict reader of the
// Monitoring Plugins Development Guidelines' grammar and by Perl's Monitoring::Plugin (Debian
// libmonitoring-plugin-perl), exit codes 0/1/2/3 from real runs, and a real consumer: NRPE's daemon
// (nagios-nrpe-server) on 127.0.0.1 queried by check_nrpe (nagios-nrpe-plugin).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { applyGate, gateOnNames } from '../../src/gate/evaluate.js';
import { NAGIOS_STATES, renderNagios, renderNagiosUnknown } from '../../src/report/nagios.js';
import { exitCodeForFormat, renderReport } from '../../src/report/render.js';
import type { Report } from '../../src/types.js';
import { launcherBinary, runCli } from '../helpers/launcher.js';
import { CLI_PATH, REPORTS, reportFixture, withTempDir } from '../helpers/paths.js';
import {
  missingMonitoringPluginPerl, parsePluginOutput, perlParsePerfdata, PLUGIN_STATES, type PluginOutput,
} from '../helpers/plugin-output.js';
import { idOf, missingCommand, notRoot, skipReason } from '../helpers/require.js';

/** Every readable report fixture (fixtures/reports/*.json and captured/*.json). */
const FIXTURES = [
  ...readdirSync(REPORTS).filter((f) => f.endsWith('.json')),
  ...readdirSync(join(REPORTS, 'captured')).filter((f) => f.endsWith('.json')).map((f) => join(REPORTS, 'captured', f)),
];

/** Kernel refusals that make this host degraded for real (fixtures/reports/capture.sh). */
const DEGRADED_RULES = ['--einval-setup-flags', '0x100', '--register-errno', '19=EINVAL'];

function perfOf(out: PluginOutput, label: string): PluginOutput['perf'][number] | undefined {
  return out.perf.find((p) => p.label === label);
}

/** What every output of a report must be: the grammar, the state of its verdict, its facts as perfdata. */
function assertPluginOutput(text: string, report: Report, where: string): PluginOutput {
  const out = parsePluginOutput(text);
  assert.equal(out.service, 'uring_probe', where);
  assert.equal(out.state, NAGIOS_STATES[report.verdict].word, `${where}: state of verdict ${report.verdict}`);
  assert.ok(out.text.startsWith(`${report.verdict}: `), `${where}: ${out.text}`);
  assert.ok(Buffer.byteLength(text) <= 4096, `${where}: ${Buffer.byteLength(text)} bytes, past the 4 KiB the oldest consumers read`);
  const count = (s: string): number => report.probes.filter((p) => p.status === s).length;
  for (const [label, status] of [['probes_passed', 'pass'], ['probes_warned', 'warn'], ['probes_failed', 'fail'], ['probes_skipped', 'skip']] as const) {
    const p = perfOf(out, label);
    assert.ok(p, `${where}: ${label}`);
    assert.deepEqual([p.value, p.uom, p.min, p.max], [count(status), '', 0, report.probes.length], `${where}: ${label}`);
  }
  const tp = report.probes.find((p) => p.id === 'throughput');
  if (tp && tp.status !== 'skip' && typeof tp.facts.seedPps === 'number') {
    assert.equal(perfOf(out, 'seed_pps')?.value, tp.facts.seedPps, `${where}: seed_pps`);
    assert.equal(perfOf(out, 'syscall_pps')?.value, tp.facts.syscallPps, `${where}: syscall_pps`);
    assert.ok(Math.abs(perfOf(out, 'ratio')!.value - (tp.facts.ratio as number)) < 1e-4, `${where}: ratio`);
  } else {
    assert.equal(perfOf(out, 'seed_pps'), undefined, `${where}: no throughput, no seed_pps`);
  }
  // long output: one line per probe that did not pass, then the gate's unmet requirements
  const notPassed = report.probes.filter((p) => p.status !== 'pass');
  assert.deepEqual(out.long.slice(0, notPassed.length).map((l) => l.split(' ').slice(0, 2).join(' ')),
    notPassed.map((p) => `${p.status.toUpperCase()} ${p.id}`), where);
  // the status text names the first failed probe (else an unmet requirement, else the first warning)
  const first = report.probes.find((p) => p.status === 'fail') ?? (report.gate?.unmet.length ? null : report.probes.find((p) => p.status === 'warn'));
  if (first) assert.ok(out.text.startsWith(`${report.verdict}: ${first.id} ${first.status}${first.reason ? ` ${first.reason}` : ''}`), `${where}: ${out.text}`);
  return out;
}

/** The perfdata of the status line read by Perl's Monitoring::Plugin agrees with the strict reader. */
function assertPerlAgrees(t: TestContext, texts: string[]): void {
  const missing = missingMonitoringPluginPerl();
  if (missing) {
    t.diagnostic(`Monitoring::Plugin check skipped: ${missing}`);
    return;
  }
  for (const text of texts) {
    const out = parsePluginOutput(text);
    const perfdata = text.split('\n')[0]!.split(' | ')[1]!;
    const perl = perlParsePerfdata(perfdata);
    assert.deepEqual(perl.map((p) => [p.label, p.value, p.uom, p.warn, p.crit]),
      out.perf.map((p) => [p.label, p.value, p.uom, p.warn, p.crit]), `Monitoring::Plugin reads ${perfdata}`);
    assert.deepEqual(perl.map((p) => [p.min === null ? null : Number(p.min), p.max === null ? null : Number(p.max)]),
      out.perf.map((p) => [p.min, p.max]));
    // a throughput floor the measurement is under is CRITICAL by the library's own threshold check
    for (const p of perl) if (p.crit !== null) assert.equal(p.status === 2, out.state === 'CRITICAL' && /unmet min-(pps|ratio)/.test(text), `${p.label} ${p.crit}: ${text}`);
  }
}

test('nagios: every fixture report reads as plugin output; state and exit code from the verdict', (t) => {
  const texts: string[] = [];
  const seen = new Set<string>();
  for (const name of FIXTURES) {
    const report = reportFixture(name);
    const text = renderNagios(report);
    assert.equal(renderReport(report, 'nagios', { color: false, verbose: false }), text);
    const out = assertPluginOutput(text, report, name);
    assert.equal(exitCodeForFormat(report, 'nagios'), PLUGIN_STATES[out.state], name);
    assert.equal(exitCodeForFormat(report, 'nagios'), report.exitCode, name);
    seen.add(out.state);
    texts.push(text);
  }
  assert.deepEqual([...seen].sort(), ['CRITICAL', 'OK', 'WARNING']);
  const compatible = parsePluginOutput(renderNagios(reportFixture('6.18-compatible.json')));
  assert.match(compatible.text, /^compatible: kernel 6\.18\.\S+ x86_64, seed rings send 256\/recv 64 entries, seed 222k pkt\/s, syscall 252k pkt\/s, ratio 0\.88, 11\/11 probes passed on vm$/);
  assert.deepEqual(compatible.long, []);
  const seccomp = parsePluginOutput(renderNagios(reportFixture('6.1-docker-seccomp.json')));
  assert.match(seccomp.text, /^incompatible: ring-setup fail SECCOMP_BLOCKED \(EPERM\): io_uring refused/);
  assert.ok(seccomp.long.some((l) => l.startsWith('FAIL ring-setup SECCOMP_BLOCKED (EPERM): ') && l.includes('Fix: Docker')));
  // unknown: the verdict of a report whose probe was killed
  const unknown = structuredClone(reportFixture('6.18-compatible.json'));
  Object.assign(unknown.probes.find((p) => p.id === 'loopback')!, { status: 'fail', reason: 'NO_LOOPBACK', summary: 'no usable loopback' });
  Object.assign(unknown, { verdict: 'unknown', exitCode: 3 });
  const u = assertPluginOutput(renderNagios(unknown), unknown, 'unknown');
  assert.equal(u.state, 'UNKNOWN');
  assert.equal(exitCodeForFormat(unknown, 'nagios'), 3);
  texts.push(renderNagios(unknown));
  assertPerlAgrees(t, texts);
});

test('nagios: a gated report names the unmet requirement; --min-pps/--min-ratio are the critical thresholds', (t) => {
  const report = reportFixture('6.18-compatible.json');
  const unmet = applyGate(report, gateOnNames(report, [], { minPps: 1_000_000_000, minRatio: 50 }));
  const out = assertPluginOutput(renderNagios(unmet), unmet, 'unmet');
  assert.equal(out.state, 'CRITICAL');
  assert.equal(exitCodeForFormat(unmet, 'nagios'), 2);
  assert.match(out.text, /^incompatible: gate unmet min-pps 1000000000 \(have: seed mode received 221,884 pkt\/s\) \(\+1 more\); kernel /);
  assert.deepEqual([perfOf(out, 'seed_pps')?.crit, perfOf(out, 'ratio')?.crit], ['1000000000:', '50:']);
  assert.deepEqual(out.long.map((l) => l.split(':')[0]), ['UNMET min-pps 1000000000', 'UNMET min-ratio 50']);

  const met = applyGate(report, gateOnNames(report, ['COOP_TASKRUN'], { minPps: 1000, minRatio: 0.5 }));
  const ok = assertPluginOutput(renderNagios(met), met, 'met');
  assert.equal(ok.state, 'OK');
  assert.deepEqual([perfOf(ok, 'seed_pps')?.crit, perfOf(ok, 'ratio')?.crit], ['1000:', '0.5:']);

  const missing = applyGate(reportFixture('6.1-upgraded-from-5.10.json'), gateOnNames(reportFixture('6.1-upgraded-from-5.10.json'), ['RECVSEND_BUNDLE']));
  const crit = assertPluginOutput(renderNagios(missing), missing, 'requirement');
  assert.match(crit.text, /^incompatible: gate unmet RECVSEND_BUNDLE \(have: /);

  // an interval straddling the floor: inconclusive, WARNING
  const straddle = structuredClone(report);
  Object.assign(straddle.probes.find((p) => p.id === 'throughput')!.facts, { seedPpsLow: 200_000, seedPpsHigh: 240_000 });
  const inconclusive = applyGate(straddle, gateOnNames(straddle, [], { minPps: 220_000 }));
  const warn = assertPluginOutput(renderNagios(inconclusive), inconclusive, 'inconclusive');
  assert.equal(warn.state, 'WARNING');
  assert.match(warn.text, /^degraded: gate inconclusive min-pps 220000/);
  assert.equal(exitCodeForFormat(inconclusive, 'nagios'), 1);
  assertPerlAgrees(t, [renderNagios(unmet), renderNagios(met), renderNagios(inconclusive)]);
});

test('nagios: a hostile hostname and summary stay on their lines: no control character, no | and no newline of theirs', (t) => {
  const report = structuredClone(reportFixture('6.18-compatible.json'));
  const hostile = 'evil\u001b]0;pwned\u0007|host\nuring_probe OK - fake | x=1\r\u0000\u009b2J';
  report.host.hostname = hostile;
  report.host.kernelRelease = '6.18|x\ny';
  const ring = report.probes.find((p) => p.id === 'ring-setup')!;
  Object.assign(ring, { status: 'warn', reason: 'FLAGS_FALLBACK', summary: `${hostile} ${'long '.repeat(2000)}`, remediation: 'a | b\nc' });
  Object.assign(report, { verdict: 'degraded', exitCode: 1 });
  const text = renderNagios(report);
  const out = assertPluginOutput(text, report, 'hostile');
  assert.equal(text.split('|').length, 2, 'one | in the whole output: the one before the perfdata');
  assert.equal(text.split('\n').length, 3, 'the status line, one long-output line, the final newline');
  assert.ok(out.text.includes('evil\\x1b]0;pwned\\x07\u00a6host\\nuring_probe OK - fake \u00a6 x=1\\r\\x00\\x9b2J'), out.text);
  assert.ok(out.text.includes('kernel 6.18\u00a6x\\ny'), out.text);
  assert.ok(out.long[0]!.endsWith('\u2026'), 'a long summary is cut');
  assert.ok(out.text.length < 1000);
  assert.deepEqual(out.perf.map((p) => p.label), ['seed_pps', 'syscall_pps', 'ratio', 'probes_passed', 'probes_warned', 'probes_failed', 'probes_skipped', 'duration']);
  assertPerlAgrees(t, [text]);
});

test('nagios: no report to judge (unreadable input): one UNKNOWN status line without perfdata', () => {
  const out = parsePluginOutput(renderNagiosUnknown('cannot read /tmp/r.json: truncated | \u001b[2J\nnext'));
  assert.deepEqual([out.state, out.perf, out.long], ['UNKNOWN', [], []]);
  assert.equal(out.text, 'cannot read /tmp/r.json: truncated \u00a6 \\x1b[2J\\nnext');
  assert.equal(NAGIOS_STATES.unknown.code, 3);
});

/** `check --format nagios ARGS`, read and checked against the same run's verdict (the state word). */
function checkNagios(args: string[], options: Parameters<typeof runCli>[1] = {}): { out: PluginOutput; status: number | null } {
  const run = runCli(['check', '--format', 'nagios', ...args], { timeoutMs: 120_000, ...options });
  assert.equal(run.signal, null, run.stderr);
  assert.equal(run.stderr, '', 'nothing on stderr');
  const out = parsePluginOutput(run.stdout);
  assert.equal(run.status, PLUGIN_STATES[out.state], `exit ${run.status} for ${out.state}: ${run.stdout}`);
  assert.equal(out.service, 'uring_probe');
  return { out, status: run.status };
}

test('check --format nagios: real runs exit 0/1/2/3 with the state their status line names', (t) => {
  const plain = checkNagios(['--no-bench']);
  const json = runCli(['check', '--json', '--no-bench'], { timeoutMs: 120_000 });
  assert.equal(plain.out.state, NAGIOS_STATES[(JSON.parse(json.stdout) as Report).verdict].word);
  assert.equal(perfOf(plain.out, 'seed_pps'), undefined, '--no-bench: no throughput perfdata');

  const timeout = checkNagios(['--no-bench', '--timeout', '1']);
  assert.equal(timeout.status, 3);
  assert.match(timeout.out.text, /^unknown: memlock fail PROBE_TIMEOUT: /);

  const floors = checkNagios(['--min-pps', '1000000000', '--min-ratio', '50']);
  assert.equal(floors.status, 2);
  assert.deepEqual([perfOf(floors.out, 'seed_pps')?.crit, perfOf(floors.out, 'ratio')?.crit], ['1000000000:', '50:']);
  assert.ok(perfOf(floors.out, 'syscall_pps')!.value > 0);
  assert.ok(floors.out.long.some((l) => l.startsWith('FAIL throughput BELOW_MIN_PPS')), floors.out.long.join('\n'));

  if (missingCommand('cc')) {
    t.diagnostic(`degraded run skipped: ${missingCommand('cc')}`);
    return;
  }
  const degraded = checkNagios(['--no-bench'], { seccomp: DEGRADED_RULES });
  assert.equal(degraded.status, 1);
  assert.match(degraded.out.text, /^degraded: ring-setup warn FLAGS_FALLBACK/);
});

test('check --format nagios with the throughput probe: seed/syscall packets/s and their ratio as perfdata', (t) => {
  const run = runCli(['check', '--format', 'nagios'], { timeoutMs: 120_000 });
  const out = parsePluginOutput(run.stdout);
  assert.equal(run.status, PLUGIN_STATES[out.state], run.stdout);
  for (const label of ['seed_pps', 'syscall_pps', 'ratio']) {
    const p = perfOf(out, label);
    assert.ok(p && p.value > 0 && p.min === 0 && p.crit === null, `${label}: ${run.stdout}`);
  }
  assert.match(out.text, /seed \S+ pkt\/s, syscall \S+ pkt\/s, ratio \d+\.\d\d/);
  assertPerlAgrees(t, [run.stdout]);
});

// ---------------------------------------------------------------------------------------------
// A real consumer: NRPE (nagios-nrpe-server's nrpe, nagios-nrpe-plugin's check_nrpe)
// ---------------------------------------------------------------------------------------------

const NRPE = '/usr/sbin/nrpe';
const CHECK_NRPE = '/usr/lib/nagios/plugins/check_nrpe';
/** nrpe refuses to run as root: its commands run as this user. */
const NRPE_USER = 'nobody';

function missingNrpe(): string | null {
  if (!existsSync(NRPE)) return `${NRPE} is not installed (apt-get install nagios-nrpe-server)`;
  if (!existsSync(CHECK_NRPE)) return `${CHECK_NRPE} is not installed (apt-get install nagios-nrpe-plugin)`;
  return null;
}

/** Why user nobody cannot run the built CLI (a checkout under a private home), or null. */
function missingCliForNobody(): string | null {
  const run = spawnSync('setpriv', [`--reuid=${idOf('-u', NRPE_USER)}`, `--regid=${idOf('-g', NRPE_USER)}`, '--clear-groups', '--', process.execPath, CLI_PATH, '--version'],
    { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }); // nrpe runs its commands with no environment of ours
  const said = run.stderr.trim().split('\n').filter((l) => l.trim() !== '');
  return run.status === 0 ? null : `user ${NRPE_USER} (nrpe's) cannot run ${CLI_PATH}: ${[said[0], said.find((l) => /Error/.test(l))].filter(Boolean).join(' ... ')}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadlineMs: number): Promise<boolean> {
  const { connect } = await import('node:net');
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('NRPE: nrpe on 127.0.0.1 runs check --format nagios; check_nrpe hands on its lines and exit codes 0/1/2/3', {
  skip: skipReason(missingNrpe(), notRoot('nrpe runs its commands as nobody'), missingCommand('setpriv'), missingCommand('cc')),
  timeout: 240_000,
}, async (t) => {
  const why = missingCliForNobody();
  if (why) {
    t.skip(why);
    return;
  }
  await withTempDir('uring-probe-nrpe-', async (dir) => {
    const port = await freePort();
    const cli = `${process.execPath} ${CLI_PATH} check --format nagios`;
    const commands: Record<string, { line: string; state: keyof typeof PLUGIN_STATES | null }> = {
      uring_probe: { line: `${cli} --no-bench`, state: null },
      uring_probe_floors: { line: `${cli} --min-pps 1000000000 --min-ratio 50`, state: 'CRITICAL' },
      uring_probe_timeout: { line: `${cli} --no-bench --timeout 1`, state: 'UNKNOWN' },
      uring_probe_degraded: { line: `${launcherBinary()} ${DEGRADED_RULES.join(' ')} -- ${cli} --no-bench`, state: 'WARNING' },
    };
    const config = join(dir, 'nrpe.cfg');
    writeFileSync(config, [
      `pid_file=${join(dir, 'nrpe.pid')}`, `log_file=${join(dir, 'nrpe.log')}`,
      `server_address=127.0.0.1`, `server_port=${port}`, 'allowed_hosts=127.0.0.1',
      `nrpe_user=${NRPE_USER}`, `nrpe_group=${spawnSync('id', ['-gn', NRPE_USER], { encoding: 'utf8' }).stdout.trim()}`,
      'dont_blame_nrpe=0', 'allow_bash_command_substitution=0', 'debug=0', 'command_timeout=90', 'connection_timeout=120',
      ...Object.entries(commands).map(([name, c]) => `command[${name}]=${c.line}`), '',
    ].join('\n'));
    const daemon = spawn(NRPE, ['-c', config, '-n', '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let daemonOutput = '';
    daemon.stdout.on('data', (d: Buffer) => { daemonOutput += d.toString(); });
    daemon.stderr.on('data', (d: Buffer) => { daemonOutput += d.toString(); });
    const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
    try {
      assert.ok(await waitForPort(port, 10_000), `nrpe did not listen on 127.0.0.1:${port}: ${daemonOutput}`);
      const query = (name: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const c = spawn(CHECK_NRPE, ['-H', '127.0.0.1', '-p', String(port), '-n', '-t', '100', '-c', name], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        c.once('exit', (status) => resolve({ status, stdout, stderr }));
      });
      const seen: number[] = [];
      for (const [name, c] of Object.entries(commands)) {
        const r = await query(name);
        const out = parsePluginOutput(r.stdout);
        assert.equal(r.status, PLUGIN_STATES[out.state], `${name}: check_nrpe exit ${r.status} for ${out.state}: ${r.stdout}${r.stderr}`);
        if (c.state) assert.equal(out.state, c.state, `${name}: ${r.stdout}`);
        assert.equal(out.service, 'uring_probe');
        // the same lines as the command run here directly (NRPE hands on the long output too)
        assert.ok(out.long.length > 0 || out.state === 'OK', `${name}: long output through NRPE: ${r.stdout}`);
        seen.push(r.status!);
        t.diagnostic(`${name}: check_nrpe exit ${r.status}: ${r.stdout.split('\n')[0]}`);
      }
      assert.ok(seen.includes(1) && seen.includes(2) && seen.includes(3), `exit codes through NRPE: ${seen.join(' ')}`);
    } finally {
      daemon.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    }
  });
});

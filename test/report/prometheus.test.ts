// The Prometheus renderer (src/report/prometheus.ts), checked by real consumers: a text-format parser and promtool.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { renderPrometheus } from '../../src/report/prometheus.js';
import { runCli } from '../helpers/launcher.js';
import { reportFixture as fixture } from '../helpers/paths.js';
import { requireCommand } from '../helpers/require.js';

interface PromSample { labels?: Record<string, string>; value: string }
interface PromFamily { name: string; help: string; type: string; metrics: PromSample[] }
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];

/**
 * promtool (Debian's prometheus package; .ci/run installs it) accepts every text: the last check of
 * a test, after the parser's, so a host without promtool skips the test with that reason.
 */
function promtoolAccepts(t: TestContext, ...texts: string[]): void {
  if (!requireCommand(t, 'promtool')) return;
  for (const text of texts) {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
  }
}

test('prometheus: a real parser reads every family; one-hot verdict and probe status; promtool accepts it', (t) => {
  const texts: string[] = [];
  for (const name of ['6.18-compatible.json', '5.10-no-coop-taskrun.json', '6.1-docker-seccomp.json']) {
    const report = fixture(name);
    const text = renderPrometheus(report);
    const families = parsePrometheus(text);
    const family = (n: string): PromFamily => {
      const f = families.find((x) => x.name === n);
      assert.ok(f, `${name}: family ${n}`);
      return f;
    };
    const verdict = family('uring_probe_verdict');
    assert.equal(verdict.type, 'GAUGE');
    assert.deepEqual(verdict.metrics.filter((m) => m.value === '1').map((m) => m.labels?.['verdict']), [report.verdict]);
    assert.equal(family('uring_probe_exit_code').metrics[0]!.value, String(report.exitCode));
    const status = family('uring_probe_probe_status');
    for (const p of report.probes) {
      const on = status.metrics.filter((m) => m.labels?.['probe'] === p.id && m.value === '1');
      assert.deepEqual(on.map((m) => m.labels?.['status']), [p.status], `${name} ${p.id}`);
    }
    texts.push(text);
  }
  promtoolAccepts(t, ...texts);
});

test('prometheus: feature bits, setup flags, opcodes, ring entries and throughput of a degraded 5.10 host', () => {
  const families = parsePrometheus(renderPrometheus(fixture('5.10-no-coop-taskrun.json')));
  const value = (n: string, labels: Record<string, string> = {}): string | undefined =>
    families.find((f) => f.name === n)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
  assert.equal(value('uring_probe_feature', { feature: 'SINGLE_MMAP' }), '1');
  assert.equal(value('uring_probe_feature', { feature: 'EXT_ARG' }), '0');
  assert.equal(value('uring_probe_setup_flag', { flag: 'CLAMP' }), '1');
  assert.equal(value('uring_probe_setup_flag', { flag: 'COOP_TASKRUN' }), '0');
  assert.equal(value('uring_probe_opcode', { op: 'SENDMSG' }), '1');
  assert.equal(value('uring_probe_opcode', { op: 'SEND_ZC' }), '0');
  assert.equal(value('uring_probe_iowq_max_workers'), '0');
  assert.equal(value('uring_probe_multishot_recvmsg'), '0');
  assert.equal(value('uring_probe_ring_entries', { ring: 'send' }), '256');
  assert.equal(value('uring_probe_ring_setup_attempts', { ring: 'send' }), '2');
  assert.equal(value('uring_probe_throughput_packets_per_second', { mode: 'seed' }), '118000');
  assert.equal(value('uring_probe_throughput_ratio'), '0.69');
  assert.equal(value('uring_probe_probe_reason', { probe: 'worker-limit', reason: 'NO_WORKER_LIMIT' }), '1');
});

test('prometheus: label values with quotes, backslashes and newlines round-trip through the parser and promtool', (t) => {
  const report = structuredClone(fixture('6.18-compatible.json'));
  report.host.distribution = 'Weird "Linux" \\ edition\nsecond line';
  const text = renderPrometheus(report);
  const info = parsePrometheus(text).find((f) => f.name === 'uring_probe_info');
  assert.equal(info?.metrics[0]?.labels?.['distribution'], 'Weird "Linux" \\ edition\nsecond line');
  promtoolAccepts(t, text);
});

test('check --format prometheus: exit 0 whatever the verdict, text a parser and promtool accept', (t) => {
  const run = runCli(['check', '--format', 'prometheus', '--no-bench']);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(parsePrometheus(run.stdout).some((f) => f.name === 'uring_probe_verdict'));
  // a failing gate still exits 0 in this mode (the timer never flaps); the gate is in the metrics
  const gated = runCli(['check', '--format', 'prometheus', '--no-bench', '--require', 'op:NOT_AN_OP_BUT_LOOKS_LIKE_ONE']);
  assert.equal(gated.status, 64, 'an unknown requirement is a usage error even here');
  const unmet = runCli(['check', '--format', 'prometheus', '--min-pps', '1000000000']);
  assert.equal(unmet.status, 0, unmet.stderr);
  const gate = parsePrometheus(unmet.stdout).find((f) => f.name === 'uring_probe_gate_passed');
  assert.equal(gate?.metrics[0]?.value, '0', 'a billion packets/s on loopback is unmet');
  promtoolAccepts(t, run.stdout);
});

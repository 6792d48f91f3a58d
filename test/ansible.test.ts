// The Ansible example for real: ansible-playbook against localhost runs check --json, fetches the report, rolls it up with fleet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readReportFile, schemaValidator } from '../src/reader.js';
import type { FleetDocument } from '../src/fleet/render.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'uring-probe.js');

test('examples/ansible/uring-probe.yml runs check on the inventory, fetches the reports and rolls them up', () => {
  // ansible-core (Debian 12) is required: CI installs it, a missing ansible-playbook fails this test.
  const dir = mkdtempSync(join(tmpdir(), 'uring-ansible-'));
  try {
    cpSync(join(ROOT, 'examples', 'ansible', 'uring-probe.yml'), join(dir, 'uring-probe.yml'));
    const run = spawnSync('ansible-playbook', [
      '-i', 'localhost,', '-c', 'local', 'uring-probe.yml',
      '-e', `uring_probe_cmd='${process.execPath} ${CLI}'`,
      '-e', 'uring_probe_check_args=--no-bench',
      '-e', `uring_probe_remote_report=${join(dir, 'remote-report.json')}`,
      '-e', `uring_probe_policy=${join(ROOT, 'examples', 'ansible', 'uring-policy.example.json')}`,
    ], { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'), ANSIBLE_HOME: join(dir, '.ansible') } });
    assert.ok(!run.error, `ansible-playbook is required (apt-get install ansible-core): ${run.error?.message}`);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /localhost +: ok=\d+ +changed=\d+ +unreachable=0 +failed=0/);

    const reports = readdirSync(join(dir, 'reports'));
    assert.deepEqual(reports, ['localhost.json']);
    const read = readReportFile(join(dir, 'reports', 'localhost.json'));
    assert.ok(read.ok, read.ok ? '' : read.message);

    const fleet = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as FleetDocument;
    assert.ok(schemaValidator('fleetRollup')(fleet));
    assert.equal(fleet.inputs.hosts, 1);
    assert.equal(fleet.inputs.skipped, 0);
    assert.deepEqual(fleet.policy?.require, ['COOP_TASKRUN', 'IOWQ_MAX_WORKERS', 'multishot-recvmsg', 'loopback']);
    // the example policy wants a throughput ratio, which a --no-bench check cannot show: the host fails the gate, named
    assert.deepEqual(fleet.failing[0]?.unmet.map((u) => u.requirement), ['min-ratio 0.5']);
    assert.match(run.stdout, /Failing hosts \(1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

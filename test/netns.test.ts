// Loopback failure path: the CLI in a fresh network namespace, where lo is down until someone brings it up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { describeRun, probeById, runCheckHuman, runCheckJson } from './helpers/launcher.js';
import { missingCommand, notRoot, skipReason } from './helpers/require.js';

const NEW_NETNS = ['unshare', '--net', '--'];
const NEW_NETNS_LO_UP = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

describe('the CLI in a new network namespace', { skip: skipReason(notRoot('unshare --net'), missingCommand('unshare'), missingCommand('ip')) }, () => {
  it('lo is down in a new namespace (the precondition of the next test)', () => {
    const run = spawnSync('unshare', ['--net', '--', 'ip', '-o', 'link', 'show', 'lo'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /[<,]UP[,>]/, run.stdout);
  });

  it('without loopback: loopback fails NO_LOOPBACK, verdict unknown (exit 3)', () => {
    const run = runCheckJson({ prefix: NEW_NETNS });
    assert.equal(run.signal, null, describeRun(run));
    assert.equal(run.status, 3, describeRun(run));
    assert.equal(run.report.exitCode, 3);
    assert.equal(run.report.verdict, 'unknown');
    const loopback = probeById(run.report, 'loopback');
    assert.equal(loopback.status, 'fail');
    assert.equal(loopback.reason, 'NO_LOOPBACK');
    assert.equal(probeById(run.report, 'ring-setup').status, 'pass', 'io_uring itself is fine in the namespace');

    const human = runCheckHuman({ prefix: NEW_NETNS });
    assert.equal(human.status, 3, describeRun(human));
    assert.match(human.stdout, /NO_LOOPBACK|unknown/i, 'the human report names the reason or the unknown verdict');
  });

  it('with lo brought up in the namespace: loopback passes', () => {
    const run = runCheckJson({ prefix: NEW_NETNS_LO_UP });
    assert.equal(run.signal, null, describeRun(run));
    assert.equal(run.report.exitCode, run.status);
    const loopback = probeById(run.report, 'loopback');
    assert.equal(loopback.status, 'pass', `${loopback.summary} ${describeRun(run)}`);
  });
});

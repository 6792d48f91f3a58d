// Failure paths through the io_uring sysctls (kernel >= 6.6): io_uring_disabled=2, =1 without the group, =1 with it.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { describeRun, nobodyReadableCli, probeById, runCheckHuman, runCheckJson } from './helpers/launcher.js';
import { CLI_PATH } from './helpers/paths.js';
import { asUser, idOf, missingCommand, missingSysctl, notRoot, skipReason } from './helpers/require.js';

const DISABLED_SYSCTL = '/proc/sys/kernel/io_uring_disabled';
const GROUP_SYSCTL = '/proc/sys/kernel/io_uring_group';

interface IoUringSysctls {
  disabled: string;
  group: string;
}

function readSysctls(): IoUringSysctls {
  return {
    disabled: readFileSync(DISABLED_SYSCTL, 'utf8').trim(),
    group: readFileSync(GROUP_SYSCTL, 'utf8').trim(),
  };
}

function writeSysctls(values: IoUringSysctls): void {
  writeFileSync(GROUP_SYSCTL, values.group);
  writeFileSync(DISABLED_SYSCTL, values.disabled);
}

describe(
  'kernel.io_uring_disabled and kernel.io_uring_group',
  {
    skip: skipReason(
      missingSysctl('kernel.io_uring_disabled', '6.6'),
      missingSysctl('kernel.io_uring_group', '6.6'),
      notRoot('writing kernel.io_uring_disabled and kernel.io_uring_group'),
      missingCommand('setpriv'),
    ),
  },
  () => {
    let original: IoUringSysctls | null = null;
    let nobodyGid = '';
    let asNobody: string[] = [];
    let nobodyCli = CLI_PATH;
    let stagedRoot: string | null = null;

    /** Sets the sysctls only for the duration of `body` (they are global: keep the window short). */
    function withSysctls<T>(values: IoUringSysctls, body: () => T): T {
      assert.ok(original, 'original sysctl values were saved');
      try {
        writeSysctls(values);
        return body();
      } finally {
        writeSysctls(original);
      }
    }

    before(() => {
      original = readSysctls();
      nobodyGid = String(idOf('-g', 'nobody'));
      asNobody = asUser('nobody');
      const staged = nobodyReadableCli(asNobody);
      nobodyCli = staged.cliPath;
      stagedRoot = staged.stagedRoot;
    });

    after(() => {
      if (original) writeSysctls(original);
      if (stagedRoot) rmSync(stagedRoot, { recursive: true, force: true });
    });

    it('io_uring_disabled=2 refuses everyone, root included: SYSCTL_DISABLED, incompatible (exit 2)', () => {
      const { run, human } = withSysctls({ disabled: '2', group: original!.group }, () => ({
        run: runCheckJson(),
        human: runCheckHuman(),
      }));
      assert.equal(run.status, 2, describeRun(run));
      assert.equal(run.report.verdict, 'incompatible');
      const ringSetup = probeById(run.report, 'ring-setup');
      assert.equal(ringSetup.status, 'fail');
      assert.equal(ringSetup.reason, 'SYSCTL_DISABLED');
      assert.equal(ringSetup.errno, 'EPERM');
      assert.equal(human.status, 2, describeRun(human));
      assert.match(human.stdout, /SYSCTL_DISABLED|io_uring_disabled/);
    });

    it('io_uring_disabled=1 refuses a user outside io_uring_group: NOT_IN_GROUP (exit 2)', () => {
      const run = withSysctls({ disabled: '1', group: '-1' }, () => runCheckJson({ prefix: asNobody, cliPath: nobodyCli }));
      assert.equal(run.status, 2, describeRun(run));
      assert.equal(run.report.verdict, 'incompatible');
      const ringSetup = probeById(run.report, 'ring-setup');
      assert.equal(ringSetup.status, 'fail');
      assert.equal(ringSetup.reason, 'NOT_IN_GROUP');
      assert.equal(ringSetup.errno, 'EPERM');
    });

    it('io_uring_disabled=1 lets a member of io_uring_group through: ring-setup passes', () => {
      const run = withSysctls({ disabled: '1', group: nobodyGid }, () => runCheckJson({ prefix: asNobody, cliPath: nobodyCli }));
      assert.equal(run.signal, null, describeRun(run));
      assert.equal(run.report.exitCode, run.status);
      const ringSetup = probeById(run.report, 'ring-setup');
      assert.equal(ringSetup.status, 'pass', `${ringSetup.summary} ${describeRun(run)}`);
      assert.notEqual(run.report.verdict, 'incompatible', describeRun(run));
    });

    it('leaves the sysctls as it found them', () => {
      assert.deepEqual(readSysctls(), original);
    });
  },
);

// Failure paths through the real kernel: a seccomp filter makes io_uring say no, and the built CLI must report exactly why.
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import type { Report, SetupAttempt } from '../src/types.js';
import {
  describeRun,
  probeById,
  runCheckHuman,
  runCheckJson,
  runUnderLauncher,
  type CheckRun,
} from './helpers/launcher.js';

// A program that is not the CLI: python's ctypes calls io_uring_setup(entries, {flags}) and, when
// that works, IORING_REGISTER_IOWQ_MAX_WORKERS; it prints what the kernel answered as JSON.
const RAW_IO_URING_CALLER = `
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
entries, flags = int(sys.argv[1]), int(sys.argv[2], 0)
params = ctypes.create_string_buffer(120)
ctypes.c_uint32.from_buffer(params, 8).value = flags
def name(res):
    return 'ok' if res >= 0 else errno.errorcode[ctypes.get_errno()]
fd = libc.syscall(ctypes.c_long(425), ctypes.c_long(entries), params)
out = {'setup': name(fd)}
if fd >= 0:
    limits = (ctypes.c_uint32 * 2)(4, 4)
    out['registerMaxWorkers'] = name(libc.syscall(ctypes.c_long(427), ctypes.c_long(fd), ctypes.c_long(19), limits, ctypes.c_long(2)))
    os.close(fd)
out['seccompMode'] = [l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')][0]
print(json.dumps(out))
`;

function rawCall(rules: string[], entries: number, flags: number): Record<string, string> {
  const run = runUnderLauncher(rules, 'python3', ['-c', RAW_IO_URING_CALLER, String(entries), String(flags)]);
  assert.equal(run.status, 0, describeRun(run));
  return JSON.parse(run.stdout) as Record<string, string>;
}

const CLAMP = 0x10;
const COOP_TASKRUN = 0x100;

describe('seccomp launcher on its own (python ctypes, not the CLI)', () => {
  it('without a matching rule io_uring_setup works and the filter is visible as Seccomp: 2', () => {
    const out = rawCall(['--register-errno', '3=EBUSY'], 8, CLAMP);
    assert.deepEqual(out, { setup: 'ok', registerMaxWorkers: 'ok', seccompMode: '2' });
  });
  it('--errno io_uring_setup=EPERM and =ENOSYS fail every setup with that errno', () => {
    assert.equal(rawCall(['--errno', 'io_uring_setup=EPERM'], 8, 0).setup, 'EPERM');
    assert.equal(rawCall(['--errno', 'io_uring_setup=ENOSYS'], 8, 0).setup, 'ENOSYS');
  });
  it('--enomem-above 32 refuses 33 entries with ENOMEM and accepts 32', () => {
    assert.equal(rawCall(['--enomem-above', '32'], 33, 0).setup, 'ENOMEM');
    assert.equal(rawCall(['--enomem-above', '32'], 32, 0).setup, 'ok');
  });
  it('--register-errno 19=EINVAL refuses IOWQ_MAX_WORKERS only', () => {
    assert.deepEqual(rawCall(['--register-errno', '19=EINVAL'], 8, 0), {
      setup: 'ok',
      registerMaxWorkers: 'EINVAL',
      seccompMode: '2',
    });
  });
  it('--einval-setup-flags 0x100 refuses CLAMP|COOP_TASKRUN with EINVAL and lets CLAMP through', () => {
    const rules = ['--einval-setup-flags', '0x100'];
    assert.equal(rawCall(rules, 64, CLAMP | COOP_TASKRUN).setup, 'EINVAL');
    assert.equal(rawCall(rules, 64, CLAMP).setup, 'ok');
  });
  it('--kill io_uring_setup kills the caller with SIGSYS, and the supervisor passes the status on', () => {
    const direct = runUnderLauncher(['--kill', 'io_uring_setup'], 'python3', ['-c', RAW_IO_URING_CALLER, '8', '0']);
    assert.equal(direct.signal, 'SIGSYS', describeRun(direct));
    const supervised = runUnderLauncher(
      ['--kill', 'io_uring_setup', '--einval-setup-flags', '0x100'],
      'python3',
      ['-c', RAW_IO_URING_CALLER, '8', '0'],
    );
    assert.equal(supervised.status, 128 + 31, describeRun(supervised));
  });
  it('bad arguments: one line on stderr and exit 64', () => {
    for (const args of [['--errno', 'io_uring_setup=EWHATEVER'], ['--bogus'], ['--enomem-above', 'many'], []]) {
      const run = runUnderLauncher(args, 'true', []);
      assert.equal(run.status, 64, describeRun(run));
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^seccomp-launcher: /);
    }
  });
});

/** Every probe id of a run without any filter: a refused run must still report all of them. */
let healthyProbeIds: string[] = [];

function setupAttempts(report: Report, ring: 'send' | 'recv'): SetupAttempt[] {
  const attempts = probeById(report, 'ring-setup').attempts;
  assert.ok(Array.isArray(attempts), 'ring-setup must carry its attempts');
  return attempts.filter((attempt) => attempt.ring === ring && attempt.stage === 'setup');
}

function assertExit(run: CheckRun, expected: number): void {
  assert.equal(run.signal, null, describeRun(run));
  assert.equal(run.status, expected, describeRun(run));
  assert.equal(run.report.exitCode, expected, 'report.exitCode must equal the process exit code');
}

function assertEveryProbePresent(report: Report): void {
  assert.deepEqual(
    report.probes.map((probe) => probe.id),
    healthyProbeIds,
    'every probe of a healthy run must be in the report, in the same order',
  );
}

/** The human report (no --json) ends with the same exit code and names what went wrong. */
function assertHuman(rules: string[], expectedExit: number, mustName: RegExp[]): void {
  const run = runCheckHuman({ seccomp: rules });
  assert.equal(run.signal, null, describeRun(run));
  assert.equal(run.status, expectedExit, `${describeRun(run)}\nstdout:\n${run.stdout}`);
  assert.ok(!run.stdout.trimStart().startsWith('{'), 'human output must not be JSON');
  assert.doesNotMatch(run.stdout, /\u001b\[/, 'no ANSI codes with NO_COLOR=1 on a pipe');
  for (const pattern of mustName) assert.match(run.stdout, pattern, `human output must name ${pattern}:\n${run.stdout}`);
}

describe('the CLI when the kernel says no (seccomp)', () => {
  before(() => {
    const healthy = runCheckJson();
    healthyProbeIds = healthy.report.probes.map((probe) => probe.id);
    assert.ok(healthyProbeIds.includes('ring-setup'), describeRun(healthy));
  });

  it('io_uring_setup → EPERM under a filter: incompatible, ring-setup fails SECCOMP_BLOCKED (exit 2)', () => {
    const rules = ['--errno', 'io_uring_setup=EPERM'];
    const run = runCheckJson({ seccomp: rules });
    assertExit(run, 2);
    assert.equal(run.report.verdict, 'incompatible');
    const ringSetup = probeById(run.report, 'ring-setup');
    assert.equal(ringSetup.status, 'fail');
    assert.equal(ringSetup.reason, 'SECCOMP_BLOCKED');
    assert.equal(ringSetup.errno, 'EPERM');
    assert.ok(ringSetup.remediation && ringSetup.remediation.length > 0, 'a failed probe carries remediation');
    assertEveryProbePresent(run.report);
    assertHuman(rules, 2, [/SECCOMP_BLOCKED|seccomp/i, /EPERM/, /incompatible/i]);
  });

  it('io_uring_setup → ENOSYS under a filter: SECCOMP_BLOCKED, not NOT_BUILT (exit 2)', () => {
    const rules = ['--errno', 'io_uring_setup=ENOSYS'];
    const run = runCheckJson({ seccomp: rules });
    assertExit(run, 2);
    assert.equal(run.report.verdict, 'incompatible');
    const ringSetup = probeById(run.report, 'ring-setup');
    assert.equal(ringSetup.status, 'fail');
    assert.equal(ringSetup.reason, 'SECCOMP_BLOCKED');
    assert.equal(ringSetup.errno, 'ENOSYS');
    assertEveryProbePresent(run.report);
    assertHuman(rules, 2, [/SECCOMP_BLOCKED|seccomp/i, /ENOSYS/]);
  });

  it('ENOMEM above 32 entries: the ladder halves 256 → 128 → 64 → 32, RING_SHRUNK, degraded (exit 1)', () => {
    const rules = ['--enomem-above', '32'];
    const run = runCheckJson({ seccomp: rules });
    assertExit(run, 1);
    assert.equal(run.report.verdict, 'degraded');
    const ringSetup = probeById(run.report, 'ring-setup');
    assert.equal(ringSetup.status, 'warn');
    assert.equal(ringSetup.reason, 'RING_SHRUNK');

    const send = setupAttempts(run.report, 'send');
    assert.deepEqual(send.map((a) => a.entries), [256, 128, 64, 32], 'send ring: every halving recorded');
    for (const refused of send.slice(0, 3)) {
      assert.equal(refused.ok, false);
      assert.equal(refused.errno, 'ENOMEM');
      assert.equal(refused.next, 'halve');
    }
    const accepted = send[3]!;
    assert.equal(accepted.ok, true);
    assert.equal(accepted.errno, null);
    assert.equal(accepted.next, 'accept');
    for (const ring of ['send', 'recv'] as const) {
      const rungs = setupAttempts(run.report, ring);
      const last = rungs[rungs.length - 1];
      assert.ok(last && last.ok, `${ring} ring: the ladder ends accepted`);
      assert.ok(last.entries <= 32, `${ring} ring: final entries ${last.entries} must be <= 32`);
      for (const refused of rungs.slice(0, -1)) assert.equal(refused.errno, 'ENOMEM');
    }
    assertEveryProbePresent(run.report);
    assertHuman(rules, 1, [/RING_SHRUNK|ENOMEM|shr[iu]nk|halv/i, /degraded/i]);
  });

  it('EINVAL for COOP_TASKRUN: the ladder drops to CLAMP alone, FLAGS_FALLBACK, degraded (exit 1)', () => {
    const rules = ['--einval-setup-flags', '0x100'];
    const run = runCheckJson({ seccomp: rules });
    assertExit(run, 1);
    assert.equal(run.report.verdict, 'degraded');
    const ringSetup = probeById(run.report, 'ring-setup');
    assert.equal(ringSetup.status, 'warn');
    assert.equal(ringSetup.reason, 'FLAGS_FALLBACK');

    const send = setupAttempts(run.report, 'send');
    assert.equal(send.length, 2, 'send ring: exactly two setup attempts');
    const [refused, accepted] = send as [SetupAttempt, SetupAttempt];
    assert.deepEqual([...refused.flags].sort(), ['CLAMP', 'COOP_TASKRUN']);
    assert.equal(refused.flagsRaw, CLAMP | COOP_TASKRUN);
    assert.equal(refused.ok, false);
    assert.equal(refused.errno, 'EINVAL');
    assert.equal(refused.next, 'drop-flags');
    assert.deepEqual(accepted.flags, ['CLAMP']);
    assert.equal(accepted.flagsRaw, CLAMP);
    assert.equal(accepted.ok, true);
    assert.equal(accepted.next, 'accept');
    assertEveryProbePresent(run.report);
    assertHuman(rules, 1, [/FLAGS_FALLBACK|COOP_TASKRUN/, /degraded/i]);
  });

  it('IOWQ_MAX_WORKERS refused with EINVAL: worker-limit warns NO_WORKER_LIMIT, degraded (exit 1)', () => {
    const rules = ['--register-errno', '19=EINVAL'];
    const run = runCheckJson({ seccomp: rules });
    assertExit(run, 1);
    assert.equal(run.report.verdict, 'degraded');
    const workerLimit = probeById(run.report, 'worker-limit');
    assert.equal(workerLimit.status, 'warn');
    assert.equal(workerLimit.reason, 'NO_WORKER_LIMIT');
    assert.notEqual(probeById(run.report, 'ring-setup').status, 'fail', 'a refused worker limit is a warning only');
    assertEveryProbePresent(run.report);
    assertHuman(rules, 1, [/NO_WORKER_LIMIT|IOWQ_MAX_WORKERS|unbounded/i, /degraded/i]);
  });

  it('SIGSYS kill on io_uring_setup: the CLI survives, reports every probe, names SIGSYS (exit 2 or 3)', () => {
    const rules = ['--kill', 'io_uring_setup'];
    const run = runCheckJson({ seccomp: rules });
    assert.equal(run.signal, null, `the CLI itself must not die of the signal: ${describeRun(run)}`);
    assert.ok(run.status === 2 || run.status === 3, describeRun(run));
    assert.equal(run.report.exitCode, run.status);
    const ringSetup = probeById(run.report, 'ring-setup');
    assert.equal(ringSetup.status, 'fail');
    assert.equal(ringSetup.facts['signal'], 'SIGSYS');
    if (run.report.verdict === 'incompatible') {
      assert.equal(run.status, 2);
      assert.equal(ringSetup.reason, 'SECCOMP_BLOCKED');
    } else {
      assert.equal(run.report.verdict, 'unknown');
      assert.equal(run.status, 3);
    }
    assertEveryProbePresent(run.report);
    assertHuman(rules, run.status as number, [/SIGSYS/]);
  });
});

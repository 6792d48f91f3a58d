// Unit tests of the pure parts of `check`: refusal reasons, verdicts, errno names, ladder records, fact decoding.
import { strict as assert } from 'node:assert';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { errnoName, errnoNumber, errnoOfResult } from '../src/errno.js';
import type { AbiInfo, NativeAttempt } from '../src/native.js';
import { decodeCapabilities, refusalContextFrom } from '../src/probes/environment.js';
import { killedProbeReason, REMEDIATION, setupRefusalReason, type RefusalContext } from '../src/probes/reasons.js';
import { dependencySkip, probeResult, runProbe } from '../src/probes/result.js';
import { ladderAttempts, namesOfBits } from '../src/probes/ring-setup.js';
import { memlockFigures, suggestedLimit } from '../src/probes/memlock.js';
import { DEFAULT_CHECK_OPTIONS, type ProbeSpec } from '../src/probes/spec.js';
import { renderHuman } from '../src/report/human.js';
import { renderJson } from '../src/report/json.js';
import type { ProbeResult, ProbeStatus, ReasonCode, Report } from '../src/types.js';
import { computeVerdict, exitCodeFor } from '../src/verdict.js';

const plainHost: RefusalContext = {
  ioUringDisabled: 0,
  ioUringGroup: -1,
  gid: 1000,
  groups: [1000],
  capabilities: [],
  seccompMode: 0,
};

function result(id: string, status: ProbeStatus, reason: ReasonCode | null = null): ProbeResult {
  return probeResult({ id, title: id }, { status, summary: `${id} ${status}`, reason });
}

describe('setupRefusalReason: errno + environment -> reason', () => {
  it('EPERM with io_uring_disabled=2 is SYSCTL_DISABLED, even under a seccomp filter', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 2 }), 'SYSCTL_DISABLED');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 2, seccompMode: 2 }), 'SYSCTL_DISABLED');
  });
  it('EPERM with io_uring_disabled=1 outside the group and without CAP_SYS_ADMIN is NOT_IN_GROUP', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242 }), 'NOT_IN_GROUP');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: 1, ioUringGroup: -1 }), 'NOT_IN_GROUP');
  });
  it('EPERM with io_uring_disabled=1 is not NOT_IN_GROUP for a group member or CAP_SYS_ADMIN', () => {
    const member = { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242, groups: [4242] };
    assert.equal(setupRefusalReason('EPERM', member), 'UNKNOWN');
    const primary = { ...plainHost, ioUringDisabled: 1, ioUringGroup: 4242, gid: 4242, groups: [] };
    assert.equal(setupRefusalReason('EPERM', primary), 'UNKNOWN');
    const admin = { ...plainHost, ioUringDisabled: 1, capabilities: ['CAP_SYS_ADMIN'], seccompMode: 2 };
    assert.equal(setupRefusalReason('EPERM', admin), 'SECCOMP_BLOCKED');
  });
  it('EPERM with sysctl 0 is SECCOMP_BLOCKED under a filter, UNKNOWN without one', () => {
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, seccompMode: 2 }), 'SECCOMP_BLOCKED');
    assert.equal(setupRefusalReason('EPERM', plainHost), 'UNKNOWN');
    assert.equal(setupRefusalReason('EPERM', { ...plainHost, ioUringDisabled: null }), 'UNKNOWN');
  });
  it('ENOSYS is SECCOMP_BLOCKED under a filter, NOT_BUILT without one', () => {
    assert.equal(setupRefusalReason('ENOSYS', { ...plainHost, seccompMode: 2 }), 'SECCOMP_BLOCKED');
    assert.equal(setupRefusalReason('ENOSYS', plainHost), 'NOT_BUILT');
  });
  it('EACCES is LSM_DENIED, EOPNOTSUPP is SANDBOX_BLOCKED, ENOMEM at the minimum is MEMLOCK_LIMIT', () => {
    assert.equal(setupRefusalReason('EACCES', plainHost), 'LSM_DENIED');
    assert.equal(setupRefusalReason('EOPNOTSUPP', plainHost), 'SANDBOX_BLOCKED');
    assert.equal(setupRefusalReason('ENOMEM', plainHost, true), 'MEMLOCK_LIMIT');
    assert.equal(setupRefusalReason('EINVAL', plainHost), 'UNKNOWN');
  });
  it('a SIGSYS death of ring-setup is SECCOMP_BLOCKED; other deaths are PROBE_KILLED', () => {
    assert.equal(killedProbeReason('ring-setup', 'SIGSYS'), 'SECCOMP_BLOCKED');
    assert.equal(killedProbeReason('ring-setup', 'SIGSEGV'), 'PROBE_KILLED');
    assert.equal(killedProbeReason('loopback', 'SIGSYS'), 'PROBE_KILLED');
  });
  it('every reason code has one or two sentences of remediation', () => {
    for (const [code, text] of Object.entries(REMEDIATION)) {
      assert.ok(text.length > 20, code);
      const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z`])/).length;
      assert.ok(sentences >= 1 && sentences <= 2, `${code}: ${sentences} sentences`);
    }
  });
  it('the refusal context is read back from the environment probe\'s facts; "could not tell" stays null', () => {
    const env = probeResult({ id: 'environment', title: 'e' }, {
      status: 'pass',
      summary: '',
      facts: { ioUringDisabled: 1, ioUringGroup: 7, gid: 5, groups: [5, 7], capabilities: ['CAP_NET_RAW'], seccompMode: null },
    });
    assert.deepEqual(refusalContextFrom(env), {
      ioUringDisabled: 1,
      ioUringGroup: 7,
      gid: 5,
      groups: [5, 7],
      capabilities: ['CAP_NET_RAW'],
      seccompMode: null,
    });
    assert.equal(refusalContextFrom(undefined).ioUringDisabled, null);
  });
});

describe('computeVerdict', () => {
  it('all pass (and skips) is compatible, exit 0', () => {
    const v = computeVerdict([result('a', 'pass'), result('b', 'skip')]);
    assert.equal(v, 'compatible');
    assert.equal(exitCodeFor(v), 0);
  });
  it('a warn is degraded, exit 1', () => {
    const v = computeVerdict([result('a', 'pass'), result('b', 'warn', 'FLAGS_FALLBACK')]);
    assert.equal(v, 'degraded');
    assert.equal(exitCodeFor(v), 1);
  });
  it('a probe that could not check (killed, timeout, error, no loopback) is unknown, exit 3', () => {
    for (const reason of ['PROBE_KILLED', 'PROBE_TIMEOUT', 'PROBE_ERROR', 'NO_LOOPBACK'] as const) {
      const v = computeVerdict([result('a', 'warn', 'RING_SHRUNK'), result('b', 'fail', reason)]);
      assert.equal(v, 'unknown', reason);
      assert.equal(exitCodeFor(v), 3);
    }
  });
  it('a real fail is incompatible, exit 2, and wins over unknown', () => {
    const v = computeVerdict([result('a', 'fail', 'PROBE_TIMEOUT'), result('b', 'fail', 'SECCOMP_BLOCKED')]);
    assert.equal(v, 'incompatible');
    assert.equal(exitCodeFor(v), 2);
  });
});

describe('errno names', () => {
  it('maps numbers (positive or negative) to names and back', () => {
    assert.equal(errnoName(1), 'EPERM');
    assert.equal(errnoName(-38), 'ENOSYS');
    assert.equal(errnoName(-constants.errno.EAGAIN), 'EAGAIN');
    assert.equal(errnoName(-constants.errno.EOPNOTSUPP), 'EOPNOTSUPP');
    assert.equal(errnoNumber('EEXIST'), 17);
    assert.equal(errnoNumber('ENOTANERRNO'), null);
    assert.equal(errnoOfResult(0), null);
    assert.equal(errnoOfResult(-22), 'EINVAL');
    assert.equal(errnoName(9999), 'E9999');
  });
});

describe('setup ladder records', () => {
  const abi = { setupFlags: { CLAMP: 0x10, COOP_TASKRUN: 0x100, SINGLE_ISSUER: 0x1000 } } as unknown as AbiInfo;
  it('names flag bits and keeps unknown bits as hex', () => {
    assert.deepEqual(namesOfBits(0x110, abi.setupFlags), ['CLAMP', 'COOP_TASKRUN']);
    assert.deepEqual(namesOfBits(0x10 | 0x80000000, abi.setupFlags), ['CLAMP', '0x80000000']);
    assert.deepEqual(namesOfBits(0, abi.setupFlags), []);
  });
  it('records what the seed does next: drop flags on EINVAL, halve on ENOMEM, accept, give up', () => {
    const native: NativeAttempt[] = [
      { stage: 'setup', entries: 256, flags: 0x110, res: -22 },
      { stage: 'setup', entries: 256, flags: 0x10, res: -12 },
      { stage: 'setup', entries: 128, flags: 0x10, res: 5 },
      { stage: 'mmap', entries: 128, flags: 0x10, res: 0 },
    ];
    const attempts = ladderAttempts('send', native, abi);
    assert.deepEqual(attempts.map((a) => a.next), ['drop-flags', 'halve', 'map', 'accept']);
    assert.deepEqual(attempts.map((a) => a.errno), ['EINVAL', 'ENOMEM', null, null]);
    assert.deepEqual(attempts[0]!.flags, ['CLAMP', 'COOP_TASKRUN']);
    assert.equal(attempts[0]!.ring, 'send');
    const refused = ladderAttempts('recv', [{ stage: 'setup', entries: 64, flags: 0x10, res: -1 }], abi);
    assert.equal(refused[0]!.next, 'give-up');
    assert.equal(refused[0]!.ok, false);
  });
});

describe('environment facts', () => {
  it('decodes CapEff by name', () => {
    assert.deepEqual(decodeCapabilities('0000000000200001'), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
    assert.deepEqual(decodeCapabilities('0'), []);
  });
});

describe('probe results', () => {
  const spec: ProbeSpec = {
    id: 'needs-setup',
    title: 'Needs ring-setup',
    kernel: false,
    dependsOn: ['ring-setup'],
    async run() {
      return probeResult(spec, { status: 'pass', summary: 'ran' });
    },
  };
  it('a probe whose dependency failed is skipped with DEPENDENCY_FAILED, without running', async () => {
    const results = new Map([['ring-setup', result('ring-setup', 'fail', 'SECCOMP_BLOCKED')]]);
    const skipped = await runProbe(spec, { options: DEFAULT_CHECK_OPTIONS, results });
    assert.equal(skipped.status, 'skip');
    assert.equal(skipped.reason, 'DEPENDENCY_FAILED');
    assert.ok(skipped.remediation);
    assert.equal(dependencySkip(spec, new Map([['ring-setup', result('ring-setup', 'warn', 'RING_SHRUNK')]])), null);
  });
  it('a probe that throws becomes a PROBE_ERROR fail with the message in its facts', async () => {
    const throwing: ProbeSpec = { ...spec, dependsOn: [], async run() { throw Object.assign(new Error('boom'), { code: 'EBOOM' }); } };
    const r = await runProbe(throwing, { options: DEFAULT_CHECK_OPTIONS, results: new Map() });
    assert.equal(r.status, 'fail');
    assert.equal(r.reason, 'PROBE_ERROR');
    assert.equal(r.facts.error, 'boom');
    assert.equal(r.facts.errorCode, 'EBOOM');
  });
  it('pass results carry no remediation; warn results get their reason\'s text', () => {
    assert.equal(result('a', 'pass').remediation, null);
    assert.equal(result('a', 'warn', 'NO_WORKER_LIMIT').remediation, REMEDIATION.NO_WORKER_LIMIT);
  });
});

describe('renderJson', () => {
  it('is one newline-terminated document with the fields in the order of types.ts', () => {
    const report: Report = {
      schemaVersion: 1,
      tool: { name: 'uring-probe', version: '0.1.0' },
      host: { hostname: 'h', machineIdHash: null, kernelRelease: '6.1.0', kernelVersion: '#1', arch: 'x86_64', distribution: null },
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 12,
      verdict: 'degraded',
      exitCode: 1,
      probes: [{ ...result('worker-limit', 'warn', 'NO_WORKER_LIMIT'), facts: { previous: null, extra: undefined as unknown as null } }],
    };
    const text = renderJson(report);
    assert.ok(text.endsWith('}\n'));
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['schemaVersion', 'tool', 'host', 'startedAt', 'durationMs', 'verdict', 'exitCode', 'probes']);
    const probe = (parsed.probes as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual(Object.keys(probe), ['id', 'title', 'status', 'summary', 'reason', 'errno', 'facts', 'remediation', 'durationMs']);
    assert.deepEqual(probe.facts, { previous: null });
  });
});

describe('renderHuman', () => {
  const setup: ProbeResult = {
    ...probeResult({ id: 'ring-setup', title: 'Ring setup' }, {
      status: 'warn',
      summary: 'send ring shrunk to 32 of 256 entries (ENOMEM)',
      reason: 'RING_SHRUNK',
      errno: 'ENOMEM',
      facts: { send: { requestedEntries: 256, finalEntries: 32, flags: ['CLAMP'] } },
    }),
    attempts: [
      { ring: 'send', stage: 'setup', entries: 256, flags: ['CLAMP', 'COOP_TASKRUN'], flagsRaw: 0x110, ok: false, errno: 'ENOMEM', next: 'halve' },
      { ring: 'send', stage: 'setup', entries: 128, flags: ['CLAMP', 'COOP_TASKRUN'], flagsRaw: 0x110, ok: true, errno: null, next: 'accept' },
    ],
  };
  const killed = probeResult({ id: 'loopback', title: 'Loopback' }, {
    status: 'fail',
    summary: 'the probe process died of SIGSYS',
    reason: 'PROBE_KILLED',
    facts: { signal: 'SIGSYS', exitCode: null },
  });
  const report: Report = {
    schemaVersion: 1,
    tool: { name: 'uring-probe', version: '0.1.0' },
    host: { hostname: 'edge-7', machineIdHash: null, kernelRelease: '5.10.0', kernelVersion: '#1', arch: 'x86_64', distribution: null },
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 40,
    verdict: 'unknown',
    exitCode: 3,
    probes: [result('environment', 'pass'), setup, killed],
  };

  it('without colour: a row per probe with its reason, remediation of warns and fails, the verdict and exit code', () => {
    const text = renderHuman(report, { color: false, verbose: false });
    assert.doesNotMatch(text, /\u001b\[/);
    assert.match(text, /edge-7/);
    assert.match(text, /│ WARN\s+│ ring-setup\s+│ send ring shrunk .*\[RING_SHRUNK\]/);
    assert.match(text, /│ FAIL\s+│ loopback\s+│ the probe process died of SIGSYS \[PROBE_KILLED\]/);
    assert.ok(text.includes(REMEDIATION.RING_SHRUNK.slice(0, 40)));
    assert.match(text, /Verdict: UNKNOWN.*\(exit 3\)/);
    assert.doesNotMatch(text, /setup ladder/);
  });
  it('with colour: ANSI codes appear', () => {
    assert.match(renderHuman(report, { color: true, verbose: false }), /\u001b\[/);
  });
  it('verbose: the ladder with what the seed did next, errno, and the facts', () => {
    const text = renderHuman(report, { color: false, verbose: true });
    assert.match(text, /setup ladder:/);
    assert.match(text, /│ send\s+│ setup\s+│ 256\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ENOMEM\s+│ halve/);
    assert.match(text, /│ send\s+│ setup\s+│ 128\s+│ CLAMP\|COOP_TASKRUN \(0x110\)\s+│ ok\s+│ accept/);
    assert.match(text, /reason: RING_SHRUNK, errno: ENOMEM/);
    assert.match(text, /send\.finalEntries: 32/);
    assert.match(text, /signal: SIGSYS/);
    assert.match(text, /exitCode: -/);
  });
});

describe('memlock figures: thresholds -> costs, use and the LimitMEMLOCK= to suggest', () => {
  const base = {
    res: 0, stage: '', pageSize: 4096, softLimit: 65536, hardLimit: 65536, chargeTestRes: -12, scanned: true, scanRes: 0,
    scanLimitPages: 16, sendThreshold: 0, pairThreshold: 0, thirdThreshold: 0, attempts: 0, scanUs: 0, sendGeometryPages: 7, recvGeometryPages: 2,
  } as const;
  it('three thresholds give the send and receive costs and what the user already had locked', () => {
    // use 3 pages; send 7; recv 2: send fits at 10, the pair at 12, a second send ring at 19.
    const f = memlockFigures({ ...base, sendThreshold: 10, pairThreshold: 12, thirdThreshold: 19 });
    assert.equal(f.charged, true);
    assert.equal(f.costSource, 'scan');
    assert.equal(f.sendBytes, 7 * 4096);
    assert.equal(f.recvBytes, 2 * 4096);
    assert.equal(f.pairBytes, 9 * 4096);
    assert.equal(f.inUseBytes, 3 * 4096);
    assert.equal(suggestedLimit(f), 65536, '12 pages, rounded up to 64 KiB');
  });
  it('a scan cut short by the limit falls back to the kernel\'s ring geometry, and still reads the use off a found send threshold', () => {
    const f = memlockFigures({ ...base, scanRes: -12, sendThreshold: 8, pairThreshold: 0, thirdThreshold: 0 });
    assert.equal(f.costSource, 'geometry');
    assert.equal(f.pairBytes, 9 * 4096);
    assert.equal(f.inUseBytes, 4096);
  });
  it('accepted at a zero limit is "not charged"; another errno is "cannot tell"', () => {
    assert.equal(memlockFigures({ ...base, chargeTestRes: 0 }).charged, false);
    assert.equal(memlockFigures({ ...base, chargeTestRes: -1 }).charged, null);
  });
});

// Failure paths through the real kernel: a seccomp filter makes io_uring say no, and the built CLI must report exactly why.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, before } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { ProbeResult, ProbeStatus, ReasonCode, Report, SetupAttempt, Verdict } from '../src/types.js';
import {
  describeRun,
  missingNodeUnder,
  probeById,
  runCheckHuman,
  runCheckJson,
  runCli,
  runUnderLauncher,
  type CheckRun,
} from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';
import { missingCommand, missingSetupFlag, skipReason } from './helpers/require.js';

/** The launcher is compiled with cc the first time (test/helpers/seccomp-launcher.c). */
const NO_LAUNCHER = skipReason(missingCommand('cc', 'compiles the seccomp launcher'));

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

// mmap(NULL, length, PROT_NONE, MAP_PRIVATE|MAP_NORESERVE, fd of /dev/zero, offset) for each
// OFFSET:LENGTH argument (PROT_NONE + NORESERVE: even a 4 GiB length costs nothing); prints
// 'ok' or the errno name per call as a JSON list.
const RAW_MMAP_CALLER = `
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
fd = os.open('/dev/zero', os.O_RDONLY)
out = []
for arg in sys.argv[1:]:
    offset, length = (int(x, 0) for x in arg.split(':'))
    address = libc.mmap(None, length, 0, 0x02 | 0x4000, fd, offset)
    if address is None or address == ctypes.c_void_p(-1).value:
        out.append(errno.errorcode[ctypes.get_errno()])
    else:
        libc.munmap(address, length)
        out.append('ok')
print(json.dumps(out))
`;

// io_uring_setup(8), then io_uring_register IOWQ_MAX_WORKERS (19) and PBUF_RING (22), printing
// (and flushing) a line before each call so a kill shows how far it got.
const RAW_REGISTER_CALLER = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
params = ctypes.create_string_buffer(120)
fd = libc.syscall(ctypes.c_long(425), ctypes.c_long(8), params)
print('setup', 'ok' if fd >= 0 else 'failed', flush=True)
limits = (ctypes.c_uint32 * 2)(4, 4)
res = libc.syscall(ctypes.c_long(427), ctypes.c_long(fd), ctypes.c_long(19), limits, ctypes.c_long(2))
print('register-19', 'ok' if res >= 0 else 'failed', flush=True)
reg = ctypes.create_string_buffer(40)  # io_uring_buf_reg with ring_addr 0: EFAULT/EINVAL if it gets through
res = libc.syscall(ctypes.c_long(427), ctypes.c_long(fd), ctypes.c_long(22), reg, ctypes.c_long(1))
print('register-22 returned', flush=True)
`;

function rawMmap(rules: string[], calls: Array<[number, number]>): string[] {
  const args = calls.map(([offset, length]) => `0x${offset.toString(16)}:0x${length.toString(16)}`);
  const run = runUnderLauncher(rules, 'python3', ['-c', RAW_MMAP_CALLER, ...args]);
  assert.equal(run.status, 0, describeRun(run));
  return JSON.parse(run.stdout) as string[];
}

/**
 * Runs the given probes (by id, in this order, each seeing the results of those before it, a
 * dependency failure skipping as in `check`) in a node child under the launcher's rules, and
 * returns their results. The probe itself is the built one in dist/, nothing is stubbed: the
 * kernel answers under the filter.
 */
function runProbesUnder(rules: string[], ids: string[]): ProbeResult[] {
  const url = (path: string): string => pathToFileURL(join(ROOT, 'dist', 'src', path)).href;
  const script = `
    const { probeById } = await import(${JSON.stringify(url('probes/index.js'))});
    const { runProbe } = await import(${JSON.stringify(url('probes/result.js'))});
    const { DEFAULT_CHECK_OPTIONS } = await import(${JSON.stringify(url('probes/spec.js'))});
    const results = new Map();
    const out = [];
    for (const id of ${JSON.stringify(ids)}) {
      const r = await runProbe(probeById(id), { options: DEFAULT_CHECK_OPTIONS, results });
      results.set(id, r);
      out.push(r);
    }
    console.log(JSON.stringify(out));`;
  const run = runUnderLauncher(rules, process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(run.status, 0, describeRun(run));
  return JSON.parse(run.stdout) as ProbeResult[];
}

/** io_uring's mmap offset of the CQ ring (IORING_OFF_CQ_RING). */
const OFF_CQ_RING = 0x8000000;
const GIB4 = 0x1_0000_0000;

const CLAMP = 0x10;
const COOP_TASKRUN = 0x100;

/** Node 22+ creates its own io_uring at start-up (libuv's epoll batching ring). */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

describe('seccomp launcher on its own (python ctypes, not the CLI)', { skip: skipReason(NO_LAUNCHER, missingCommand('python3')) }, () => {
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
  it('--kill-register 22 kills at the PBUF_RING register call, after IOWQ_MAX_WORKERS (19) went through', () => {
    const run = runUnderLauncher(['--kill-register', '22'], 'python3', ['-c', RAW_REGISTER_CALLER]);
    assert.equal(run.signal, 'SIGSYS', describeRun(run));
    assert.deepEqual(run.stdout.trim().split('\n'), ['setup ok', 'register-19 ok'], describeRun(run));
    const byName = runUnderLauncher(['--kill-register', 'PBUF_RING'], 'python3', ['-c', RAW_REGISTER_CALLER]);
    assert.equal(byName.signal, 'SIGSYS', describeRun(byName));
    const other = runUnderLauncher(['--kill-register', '21'], 'python3', ['-c', RAW_REGISTER_CALLER]);
    assert.equal(other.status, 0, describeRun(other));
    assert.match(other.stdout, /register-22 returned/);
  });
  it('--mmap-errno OFFSET=ERRNO refuses that offset only, comparing all 64 bits of it', () => {
    const page = 0x1000;
    assert.deepEqual(
      rawMmap(['--mmap-errno', '0x8000000=EACCES'], [
        [OFF_CQ_RING, page],
        [0, page],
        [OFF_CQ_RING + page, page],
        [GIB4 + OFF_CQ_RING, page], // same low 32 bits, different high half
      ]),
      ['EACCES', 'ok', 'ok', 'ok'],
    );
  });
  it('--mmap-errno OFFSET=ERRNO@MINLEN refuses lengths >= MINLEN only, comparing all 64 bits of the length', () => {
    assert.deepEqual(
      rawMmap(['--mmap-errno', '0x8000000=ENOMEM@8256'], [
        [OFF_CQ_RING, 12288],
        [OFF_CQ_RING, 8256],
        [OFF_CQ_RING, 8192],
        [0, 12288],
        [OFF_CQ_RING, GIB4], // low half 0 < 8256, but the high half makes it larger
      ]),
      ['ENOMEM', 'ENOMEM', 'ok', 'ok', 'ENOMEM'],
    );
    assert.deepEqual(
      rawMmap(['--mmap-errno', `0x8000000=ENOMEM@0x${(GIB4 + 0x1000).toString(16)}`], [
        [OFF_CQ_RING, GIB4], // high halves equal, low half below
        [OFF_CQ_RING, GIB4 + 0x1000],
        [OFF_CQ_RING, 2 * GIB4], // high half above, low half 0
        [OFF_CQ_RING, 0x2000], // low half above, high half below
      ]),
      ['ok', 'ENOMEM', 'ENOMEM', 'ok'],
    );
  });
  it('--register-errno-ring 19=EINVAL@64 refuses IOWQ_MAX_WORKERS on a 64-entry ring only', () => {
    const script = `
import ctypes, errno, json
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
for entries in (8, 64, 256):
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(ctypes.c_long(425), ctypes.c_long(entries), params)
    limits = (ctypes.c_uint32 * 2)(4, 4)
    r = libc.syscall(ctypes.c_long(427), ctypes.c_long(fd), ctypes.c_long(19), limits, ctypes.c_long(2))
    out[str(entries)] = 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]
print(json.dumps(out))
`;
    const run = runUnderLauncher(['--register-errno-ring', '19=EINVAL@64'], 'python3', ['-c', script]);
    assert.equal(run.status, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.stdout), { '8': 'ok', '64': 'EINVAL', '256': 'ok' });
    const byName = runUnderLauncher(['--register-errno-ring', 'IOWQ_MAX_WORKERS=EPERM@8'], 'python3', ['-c', script]);
    assert.deepEqual(JSON.parse(byName.stdout), { '8': 'EPERM', '64': 'ok', '256': 'ok' });
  });
  it('bad arguments: one line on stderr and exit 64', () => {
    for (const args of [
      ['--errno', 'io_uring_setup=EWHATEVER'],
      ['--bogus'],
      ['--enomem-above', 'many'],
      [],
      ['--kill-register'],
      ['--kill-register', 'NOT_AN_OP'],
      ['--mmap-errno', '0x8000000'],
      ['--mmap-errno', 'x=ENOMEM'],
      ['--mmap-errno', '0x8000000=ENOTANERRNO'],
      ['--mmap-errno', '0x8000000=ENOMEM@'],
      ['--mmap-errno', '0x8000000=ENOMEM@12k'],
      ['--register-errno-ring', '19=EINVAL'],
      ['--register-errno-ring', '19=EINVAL@0'],
      ['--register-errno-ring', 'NOPE=EINVAL@64'],
    ]) {
      const run = runUnderLauncher(args, 'true', []);
      assert.equal(run.status, 64, describeRun(run));
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^seccomp-launcher: /);
    }
  });
});

/** Every probe id of a run without any filter: a refused run must still report all of them. */
let healthyProbeIds: string[] = [];
/** The report of that run without any filter (the ring layout the kernel gives this host). */
let healthyReport: Report | null = null;

function setupAttempts(report: Report, ring: 'send' | 'recv'): SetupAttempt[] {
  const attempts = probeById(report, 'ring-setup').attempts;
  assert.ok(Array.isArray(attempts), 'ring-setup must carry its attempts');
  return attempts.filter((attempt) => attempt.ring === ring && attempt.stage === 'setup');
}

function allAttempts(report: Report, ring: 'send' | 'recv'): SetupAttempt[] {
  const attempts = probeById(report, 'ring-setup').attempts;
  assert.ok(Array.isArray(attempts), 'ring-setup must carry its attempts');
  return attempts.filter((attempt) => attempt.ring === ring);
}

/** A nested fact of ring-setup, e.g. ringFact(report, 'send', 'offsets', 'cq', 'cqes'). */
function ringFact(report: Report, ...path: string[]): unknown {
  let value: unknown = probeById(report, 'ring-setup').facts;
  for (const key of path) {
    assert.ok(value !== null && typeof value === 'object', `ring-setup facts: no object at ${path.join('.')}`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function numberFact(report: Report, ...path: string[]): number {
  const value = ringFact(report, ...path);
  assert.equal(typeof value, 'number', `ring-setup facts.${path.join('.')} must be a number, got ${JSON.stringify(value)}`);
  return value as number;
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


/** What one probe of a report must say; only the fields given are checked. */
interface ProbeExpectation {
  status?: ProbeStatus;
  reason?: ReasonCode;
  errno?: string | null;
  summary?: RegExp;
  /** a failed or killed probe carries remediation */
  remediation?: true;
  /** facts, each deepEqual */
  facts?: Record<string, unknown>;
}

function assertProbe(result: ProbeResult, expected: ProbeExpectation): void {
  const id = result.id;
  if (expected.status !== undefined) assert.equal(result.status, expected.status, `${id}: ${result.summary}`);
  if (expected.reason !== undefined) assert.equal(result.reason, expected.reason, `${id}: ${result.summary}`);
  if (expected.errno !== undefined) assert.equal(result.errno, expected.errno, `${id}: ${result.summary}`);
  if (expected.summary !== undefined) assert.match(result.summary, expected.summary);
  if (expected.remediation) assert.ok(result.remediation && result.remediation.length > 0, `${id}: a failed probe carries remediation`);
  for (const [key, value] of Object.entries(expected.facts ?? {})) assert.deepEqual(result.facts[key], value, `${id}: facts.${key}`);
}

/**
 * One way the kernel says no: the seccomp launcher's rules, the `check --json --no-bench` it
 * runs under them, and what the report must say. `check` holds what a row needs beyond the table.
 */
interface Scenario {
  name: string;
  /** seccomp-launcher rules; a function of the healthy run's report where they depend on this kernel's ring layout */
  rules: string[] | ((healthy: Report) => string[]);
  /** more `check` arguments */
  args?: string[];
  /** the process exit code, equal to report.exitCode (the CLI itself is never killed) */
  exit: number;
  verdict?: Verdict;
  probes?: Record<string, ProbeExpectation>;
  /** every probe of the healthy run is in the report, in order (default true) */
  everyProbe?: boolean;
  /** the human report of the same run: the same exit code, naming each of these */
  human?: RegExp[];
  /** a kill on io_uring_setup reaches Node 22+'s own start-up ring: the CLI dies before any JavaScript */
  nodeDiesAtStartup?: true;
  check?: (run: CheckRun, healthy: Report) => void;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'io_uring_setup → EPERM under a filter: incompatible, ring-setup fails SECCOMP_BLOCKED (exit 2)',
    rules: ['--errno', 'io_uring_setup=EPERM'],
    exit: 2,
    verdict: 'incompatible',
    probes: { 'ring-setup': { status: 'fail', reason: 'SECCOMP_BLOCKED', errno: 'EPERM', remediation: true } },
    human: [/SECCOMP_BLOCKED|seccomp/i, /EPERM/, /incompatible/i],
  },
  {
    name: 'io_uring_setup → ENOSYS under a filter: SECCOMP_BLOCKED, not NOT_BUILT (exit 2)',
    rules: ['--errno', 'io_uring_setup=ENOSYS'],
    exit: 2,
    verdict: 'incompatible',
    probes: { 'ring-setup': { status: 'fail', reason: 'SECCOMP_BLOCKED', errno: 'ENOSYS' } },
    human: [/SECCOMP_BLOCKED|seccomp/i, /ENOSYS/],
  },
  {
    name: 'ENOMEM above 32 entries: the ladder halves 256 → 128 → 64 → 32, RING_SHRUNK, degraded (exit 1)',
    rules: ['--enomem-above', '32'],
    exit: 1,
    verdict: 'degraded',
    probes: { 'ring-setup': { status: 'warn', reason: 'RING_SHRUNK' } },
    human: [/RING_SHRUNK|ENOMEM|shr[iu]nk|halv/i, /degraded/i],
    check(run) {
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
      assert.equal(accepted.next, 'map', 'the accepted setup goes on to map its rings');
      for (const ring of ['send', 'recv'] as const) {
        const rungs = setupAttempts(run.report, ring);
        const last = rungs[rungs.length - 1];
        assert.ok(last && last.ok, `${ring} ring: the ladder ends accepted`);
        assert.ok(last.entries <= 32, `${ring} ring: final entries ${last.entries} must be <= 32`);
        for (const refused of rungs.slice(0, -1)) assert.equal(refused.errno, 'ENOMEM');
      }
    },
  },
  {
    name: 'EINVAL for COOP_TASKRUN: the ladder drops to CLAMP alone, FLAGS_FALLBACK, degraded (exit 1)',
    rules: ['--einval-setup-flags', '0x100'],
    exit: 1,
    verdict: 'degraded',
    probes: { 'ring-setup': { status: 'warn', reason: 'FLAGS_FALLBACK' } },
    human: [/FLAGS_FALLBACK|COOP_TASKRUN/, /degraded/i],
    check(run) {
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
      assert.equal(accepted.next, accepted.stage === 'setup' ? 'map' : 'accept');
    },
  },
  {
    name: 'IOWQ_MAX_WORKERS refused with EINVAL: worker-limit warns NO_WORKER_LIMIT, degraded (exit 1)',
    rules: ['--register-errno', '19=EINVAL'],
    exit: 1,
    verdict: 'degraded',
    probes: { 'worker-limit': { status: 'warn', reason: 'NO_WORKER_LIMIT' } },
    human: [/NO_WORKER_LIMIT|IOWQ_MAX_WORKERS|unbounded/i, /degraded/i],
    check(run) {
      assert.notEqual(probeById(run.report, 'ring-setup').status, 'fail', 'a refused worker limit is a warning only');
    },
  },
  {
    name: 'SIGSYS kill on io_uring_setup: the CLI survives, reports every probe, ring-setup SECCOMP_BLOCKED with SIGSYS (exit 2)',
    rules: ['--kill', 'io_uring_setup'],
    // SIGSYS while ring-setup runs is a seccomp filter that kills io_uring_setup: a kernel refusal, not "could not check".
    nodeDiesAtStartup: true,
    exit: 2,
    verdict: 'incompatible',
    probes: { 'ring-setup': { status: 'fail', reason: 'SECCOMP_BLOCKED', facts: { signal: 'SIGSYS' } } },
    human: [/SIGSYS/, /SECCOMP_BLOCKED/],
  },
  {
    name: 'SIGSYS kill at io_uring_register(PBUF_RING) mid-run: opcodes PROBE_KILLED, later probes run in a new child (exit 3)',
    // Only the opcodes probe's multishot attempt registers a provided-buffer ring (opcode 22).
    rules: ['--kill-register', '22'],
    exit: 3, // the CLI itself survives and exits normally with one full report
    verdict: 'unknown',
    probes: { opcodes: { status: 'fail', reason: 'PROBE_KILLED', remediation: true, facts: { signal: 'SIGSYS' } } },
    human: [/SIGSYS/, /PROBE_KILLED|killed/i, /unknown/i],
    check(run) {
      const ids = run.report.probes.map((probe) => probe.id);
      const killedAt = ids.indexOf('opcodes');
      assert.ok(killedAt > ids.indexOf('ring-setup'), 'opcodes runs after ring-setup');
      // Before the kill: ring-setup (and everything else before opcodes) passed in the first child.
      assert.equal(probeById(run.report, 'ring-setup').status, 'pass');
      for (const probe of run.report.probes.slice(0, killedAt)) {
        assert.notEqual(probe.status, 'fail', `${probe.id} ran before the kill and must not fail`);
      }
      // After the kill: the first child is gone, so these results can only come from a new child.
      for (const id of ['setup-flags', 'single-issuer', 'loopback']) {
        assert.ok(ids.indexOf(id) > killedAt, `${id} comes after opcodes`);
        const probe = probeById(run.report, id);
        assert.equal(probe.status, 'pass', `${id} must have run and passed after the kill: ${probe.summary}`);
        assert.notEqual(probe.reason, 'DEPENDENCY_FAILED');
      }
      const failed = run.report.probes.filter((probe) => probe.status === 'fail').map((probe) => probe.id);
      assert.deepEqual(failed, ['opcodes'], 'the kill is the only failure');
    },
  },
  {
    name: 'mmap of the CQ ring refused with ENOMEM above the 256-entry size: send ring halves at stage mmap, RING_SHRUNK (exit 1)',
    // The send ring maps its CQ ring separately at IORING_OFF_CQ_RING: cq_off.cqes + cq_entries * 16
    // bytes (page-aligned by the mapper). Take the real layout from the healthy run on this kernel.
    rules(healthy) {
      const { fullCqRingBytes } = cqRingLayout(healthy);
      assert.ok(numberFact(healthy, 'send', 'mapping', 'cqRingSize') >= fullCqRingBytes);
      assert.equal(ringFact(healthy, 'recv', 'mapping', 'strategy'), 'single', 'recv ring uses FEAT_SINGLE_MMAP here');
      return ['--mmap-errno', `0x${OFF_CQ_RING.toString(16)}=ENOMEM@${fullCqRingBytes}`];
    },
    exit: 1,
    verdict: 'degraded',
    probes: { 'ring-setup': { status: 'warn', reason: 'RING_SHRUNK', errno: 'ENOMEM' } },
    human: [/RING_SHRUNK|shr[iu]nk/i, /ENOMEM/, /degraded/i],
    check(run, healthy) {
      const { fullCqRingBytes, halfCqRingBytes } = cqRingLayout(healthy);
      const send = allAttempts(run.report, 'send');
      assert.deepEqual(
        send.map((a) => [a.stage, a.entries, a.ok, a.errno]),
        [
          ['setup', 256, true, null],
          ['mmap', 256, false, 'ENOMEM'],
          ['setup', 128, true, null],
          ['mmap', 128, true, null],
        ],
        'send ring: setup accepted, its CQ mapping refused, then a 128-entry ring mapped',
      );
      assert.equal(send[0]!.next, 'map', 'the accepted setup goes on to map its rings');
      assert.equal(send[1]!.next, 'halve', 'the refused mmap halves the ring');
      assert.equal(send[2]!.next, 'map');
      assert.equal(send[3]!.next, 'accept');
      assert.equal(numberFact(run.report, 'send', 'finalEntries'), 128);
      const acceptedCqRing = numberFact(run.report, 'send', 'mapping', 'cqRingSize');
      assert.ok(acceptedCqRing >= halfCqRingBytes && acceptedCqRing < fullCqRingBytes,
        `accepted CQ mapping ${acceptedCqRing} bytes is below the filter's ${fullCqRingBytes}`);

      // The recv ring maps only offset 0 (FEAT_SINGLE_MMAP): untouched, at its full 64 entries.
      const recv = allAttempts(run.report, 'recv');
      assert.ok(recv.every((a) => a.ok && a.entries === 64), `recv ring untouched: ${JSON.stringify(recv)}`);
      assert.deepEqual(recv.map((a) => a.stage), ['setup', 'mmap']);
      assert.equal(numberFact(run.report, 'recv', 'finalEntries'), 64);
      assert.equal(ringFact(run.report, 'recv', 'mapping', 'strategy'), 'single');

      assert.ok(!run.report.probes.some((probe) => probe.status === 'fail'), 'a shrunk ring is a warning only');
    },
  },
  {
    name: 'io_uring_enter → EPERM: the pool\'s RECVMSG were written but the kernel took none; ring-setup fails SECCOMP_BLOCKED (exit 2)',
    rules: ['--errno', 'io_uring_enter=EPERM'],
    exit: 2,
    probes: { 'ring-setup': { status: 'fail', reason: 'SECCOMP_BLOCKED', errno: 'EPERM', summary: /io_uring_enter/ } },
    check(run) {
      assert.deepEqual(ringFact(run.report, 'recv', 'pool'), {
        poolSize: 64,
        written: 64,
        submitted: 'EPERM',
        sqHeadMoved: 0,
        queued: 0,
      });
    },
  },
  {
    name: 'ENOMEM above 32 entries: the 32-entry receive ring takes 32 of the 64 pooled RECVMSG, counted by the kernel',
    rules: ['--enomem-above', '32'],
    exit: 1,
    everyProbe: false,
    probes: { 'ring-setup': { summary: /kernel took 32 of 64 pooled RECVMSG/ } },
    check(run) {
      assert.deepEqual(ringFact(run.report, 'recv', 'pool'), {
        poolSize: 64,
        written: 32,
        submitted: 32,
        sqHeadMoved: 32,
        queued: 32,
      });
      const ringSetup = probeById(run.report, 'ring-setup');
      assert.ok((ringSetup.facts.fallbacks as string[]).includes('POOL_TRUNCATED'), 'the truncated pool is named as a fallback');
    },
  },
  {
    name: 'IORING_REGISTER_PROBE refused (EINVAL, as before 5.6): opcodes warns PROBE_UNSUPPORTED, the gate cannot answer op: requirements',
    rules: ['--register-errno', '8=EINVAL'],
    args: ['--require', 'op:SEND_ZC'],
    exit: 2,
    everyProbe: false,
    probes: { opcodes: { status: 'warn', reason: 'PROBE_UNSUPPORTED', facts: { probe: 'EINVAL' } } },
    check(run) {
      assert.match(run.report.gate?.unmet[0]?.have ?? '', /IORING_REGISTER_PROBE refused \(EINVAL\)/);
    },
  },
  {
    name: '--require NO_MMAP is unmet when the kernel refuses the flag',
    rules: ['--einval-setup-flags', 'NO_MMAP'],
    args: ['--require', 'NO_MMAP'],
    exit: 2,
    everyProbe: false,
    check(run) {
      assert.equal(run.report.gate?.passed, false);
      assert.match(run.report.gate?.unmet[0]?.have ?? '', /NO_MMAP refused with EINVAL/);
    },
  },
  {
    name: 'IOWQ_MAX_WORKERS refused on the receive ring only: worker-limit warns NO_WORKER_LIMIT and names that ring (exit 1)',
    rules: ['--register-errno-ring', '19=EINVAL@64'],
    exit: 1,
    probes: { 'worker-limit': { status: 'warn', reason: 'NO_WORKER_LIMIT', errno: 'EINVAL', summary: /receive ring/, facts: { result: 'EINVAL' } } },
    check(run) {
      const facts = probeById(run.report, 'worker-limit').facts as Record<string, Record<string, unknown>>;
      assert.equal(facts['send']?.['result'], 'ok');
      assert.equal(facts['recv']?.['result'], 'EINVAL');
    },
  },
];

/** The send ring's CQ ring in the healthy run: its full mapped size and the size at half the entries. */
function cqRingLayout(healthy: Report): { fullCqRingBytes: number; halfCqRingBytes: number } {
  const cqes = numberFact(healthy, 'send', 'offsets', 'cq', 'cqes');
  const fullCqEntries = numberFact(healthy, 'send', 'cqEntries');
  assert.equal(numberFact(healthy, 'send', 'sqEntries'), 256, 'healthy send ring has 256 entries');
  return {
    fullCqRingBytes: cqes + fullCqEntries * 16, // 64 + 512 * 16 = 8256 on 6.18
    halfCqRingBytes: cqes + (fullCqEntries / 2) * 16, // 4160: its page-aligned length stays below
  };
}

describe('the CLI when the kernel says no (seccomp)', { skip: NO_LAUNCHER }, () => {
  before(() => {
    const healthy = runCheckJson();
    healthyReport = healthy.report;
    healthyProbeIds = healthy.report.probes.map((probe) => probe.id);
    assert.ok(healthyProbeIds.includes('ring-setup'), describeRun(healthy));
  });

  for (const scenario of SCENARIOS) {
    it(scenario.name, (t) => {
      const rules = typeof scenario.rules === 'function' ? scenario.rules(healthyReport!) : scenario.rules;
      if (scenario.nodeDiesAtStartup && NODE_MAJOR >= 22) {
        // Node 22+'s libuv creates an io_uring at start-up: a process filtered from birth dies before
        // any JavaScript runs. That is why --seccomp-profile filters only the probe's kernel thread
        // (test/context.test.ts); here, check that this really is so on this Node.
        const dead = runCli(['check', '--json', '--no-bench', ...(scenario.args ?? [])], { seccomp: rules });
        assert.equal(dead.signal, 'SIGSYS', `Node ${process.version} filtered from birth: ${describeRun(dead)}`);
        assert.equal(dead.stdout, '', 'no JavaScript ran');
        return;
      }
      const noNode = missingNodeUnder(rules);
      if (noNode) return void t.skip(noNode);
      const run = runCheckJson({ seccomp: rules }, scenario.args);
      assertExit(run, scenario.exit);
      if (scenario.verdict) assert.equal(run.report.verdict, scenario.verdict);
      for (const [id, expected] of Object.entries(scenario.probes ?? {})) assertProbe(probeById(run.report, id), expected);
      scenario.check?.(run, healthyReport!);
      if (scenario.everyProbe ?? true) assertEveryProbePresent(run.report);
      if (scenario.human) assertHuman(rules, scenario.exit, scenario.human);
    });
  }

  it('--require NO_MMAP is met where the kernel has NO_MMAP (tried with ring memory), and names the refusal where it does not', async () => {
    const healthy = runCheckJson({}, ['--require', 'NO_MMAP']);
    if ((await missingSetupFlag('NO_MMAP')) === null) {
      assert.equal(healthy.report.gate?.passed, true, JSON.stringify(healthy.report.gate));
    } else {
      // a kernel without NO_MMAP (6.5): the gate is unmet, and says what the kernel answered
      assert.equal(healthy.report.gate?.passed, false);
      assert.match(healthy.report.gate?.unmet[0]?.have ?? '', /NO_MMAP refused with EINVAL/);
    }
  });
});

/** A probe run in a child under the launcher's rules (the real addon, no stubs), and what it must conclude. */
interface ProbeScenario {
  name: string;
  rules: string[];
  /** the probes run in order, each seeing the results before it; the last one is checked */
  probes: string[];
  expect: ProbeExpectation;
  check?: (result: ProbeResult) => void;
}

const PROBE_SCENARIOS: ProbeScenario[] = [
  {
    name: 'single-issuer: when even the creating thread\'s NOP is refused (io_uring_enter → EPERM), the probe cannot pass',
    rules: ['--errno', 'io_uring_enter=EPERM'],
    probes: ['single-issuer'],
    expect: { status: 'fail', reason: 'PROBE_ERROR', errno: 'EPERM', summary: /creating thread/ },
    check: (result) => assert.notEqual(result.status, 'pass', result.summary),
  },
  {
    name: 'single-mmap: the separate CQ ring mapping refused (mmap at 0x8000000 → EACCES): fail, naming that mapping',
    rules: ['--mmap-errno', '0x8000000=EACCES'],
    probes: ['single-mmap'],
    expect: { status: 'fail', reason: 'UNKNOWN', errno: 'EACCES', summary: /separate .*mmap failed with EACCES/ },
  },
  {
    name: 'cqe-alignment: io_uring_setup refused for its measuring rings: fail PROBE_ERROR, no layout claimed',
    rules: ['--errno', 'io_uring_setup=EPERM'],
    probes: ['cqe-alignment'],
    expect: { status: 'fail', reason: 'PROBE_ERROR', errno: 'EPERM' },
    check: (result) => assert.equal((result.facts['kernel'] as Record<string, unknown>)['copyIn'], null),
  },
  {
    name: 'setup-flags: NO_MMAP refused with EINVAL (as a kernel without it): not accepted, not recognised, in the refused list',
    rules: ['--einval-setup-flags', 'NO_MMAP'],
    probes: ['setup-flags'],
    expect: { summary: /refused: .*NO_MMAP:EINVAL/ },
    check(result) {
      const noMmap = (result.facts['flags'] as Record<string, Record<string, unknown>>)['NO_MMAP']!;
      assert.equal(noMmap['accepted'], false);
      assert.equal(noMmap['recognised'], false);
      assert.deepEqual(noMmap['withMemory'], { accepted: false, errno: 'EINVAL', nop: null });
    },
  },
  {
    name: 'worker-limit: IOWQ_MAX_WORKERS refused on the send ring only (256 entries): warn, naming the send ring',
    rules: ['--register-errno-ring', '19=EOPNOTSUPP@256'],
    probes: ['environment', 'ring-setup', 'worker-limit'],
    expect: { status: 'warn', reason: 'NO_WORKER_LIMIT', errno: 'EOPNOTSUPP', summary: /on the send ring with EOPNOTSUPP.*the receive ring accepted it/ },
  },
];

describe('probes run under a filter (in a child, the real addon, no stubs)', { skip: NO_LAUNCHER }, () => {
  for (const scenario of PROBE_SCENARIOS) {
    it(scenario.name, (t) => {
      const noNode = missingNodeUnder(scenario.rules);
      if (noNode) return void t.skip(noNode);
      const results = runProbesUnder(scenario.rules, scenario.probes);
      assert.equal(results.length, scenario.probes.length);
      const result = results[results.length - 1];
      assert.ok(result);
      scenario.check?.(result);
      assertProbe(result, scenario.expect);
    });
  }
});

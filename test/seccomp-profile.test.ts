// Docker/OCI seccomp profiles read into a FilterSpec (moby/runc/libseccomp semantics), and
// `uring-probe seccomp-profile`: the least change that lets io_uring through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  allowIoUring,
  dockerArch,
  ioUringVerdicts,
  loadSeccompProfile,
  parseSeccompProfile,
  syscallVerdict,
  type ProfileContext,
} from '../src/context/seccomp-profile.js';
import { describeAction, type FilterSpec, type SyscallVerdict } from '../src/context/filter-spec.js';
import { errnoName } from '../src/errno.js';
import { UsageError } from '../src/usage-error.js';
import { runCli as cli } from './helpers/launcher.js';
import { fixturePath, withTempDir } from './helpers/paths.js';

const fx = (name: string) => fixturePath('seccomp', name);

const USER: ProfileContext = { arch: 'x64', kernelRelease: '6.18.44', capabilities: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'] };
const ADMIN: ProfileContext = { ...USER, capabilities: [...USER.capabilities, 'CAP_SYS_ADMIN'] };

function load(name: string, ctx: ProfileContext = USER): FilterSpec {
  return loadSeccompProfile(fx(name), ctx);
}
/** [syscall, action as words, by] of the three io_uring syscalls. */
function brief(spec: FilterSpec): Array<[string, string, SyscallVerdict['by']]> {
  return ioUringVerdicts(spec).map((v) => [v.syscall, describeAction(v.action, errnoName), v.by]);
}
function parse(profile: unknown, ctx: ProfileContext = USER): FilterSpec {
  return parseSeccompProfile(typeof profile === 'string' ? profile : JSON.stringify(profile, null, 2), '/x/p.json', ctx);
}
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a UsageError, nothing was thrown');
}
/** Lines only in `a` (removed) and only in `b` (added), by longest common subsequence. */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split('\n');
  const y = b.split('\n');
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    if (x[i] === y[j]) { i++; j++; } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) removed.push(x[i++]!); else added.push(y[j++]!);
  }
  removed.push(...x.slice(i));
  added.push(...y.slice(j));
  return { removed, added };
}

const ADDED_ENTRY = [
  '    },',
  '    {',
  '      "names": [',
  '        "io_uring_setup",',
  '        "io_uring_enter",',
  '        "io_uring_register"',
  '      ],',
  '      "action": "SCMP_ACT_ALLOW",',
  '      "comment": "added by uring-probe seccomp-profile: the io_uring data path needs these"',
];

test('base-allow.json (Docker >= 25 style): a big allow-list, io_uring gets the default EPERM', () => {
  const spec = load('base-allow.json');
  assert.equal(spec.source, 'oci-profile');
  assert.equal(spec.path, fx('base-allow.json'));
  assert.deepEqual(spec.defaultAction, { kind: 'errno', data: 1 });
  assert.equal(spec.defaultOrigin, 'defaultAction');
  assert.equal(spec.rules.length, 1);
  const [rule] = spec.rules;
  assert.equal(rule!.origin, 'syscalls[0]');
  assert.deepEqual(rule!.action, { kind: 'allow' });
  assert.deepEqual(rule!.args, []);
  assert.equal(rule!.syscalls.length, 206);
  for (const s of ['read', 'openat', 'futex', 'clone3', 'rseq', 'sendmmsg', 'recvmmsg', 'epoll_pwait', 'getrandom', 'membarrier']) assert.ok(rule!.syscalls.includes(s), s);
  assert.ok(!rule!.syscalls.some((s) => s.startsWith('io_uring')));
  assert.deepEqual(spec.notes, ['archMap: archMap[0] applies on amd64: SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32']);
  assert.deepEqual(brief(spec), [
    ['io_uring_setup', 'errno 1 (EPERM)', 'default'],
    ['io_uring_enter', 'errno 1 (EPERM)', 'default'],
    ['io_uring_register', 'errno 1 (EPERM)', 'default'],
  ]);
  assert.deepEqual(syscallVerdict(spec, 'read'), { syscall: 'read', action: { kind: 'allow' }, by: 'rule', rules: ['syscalls[0]'] });
  // the same profile read on arm64 (uname spelling) takes the other archMap entry; on riscv64 none applies
  assert.deepEqual(load('base-allow.json', { ...USER, arch: 'aarch64' }).notes, ['archMap: archMap[1] applies on arm64: SCMP_ARCH_AARCH64, SCMP_ARCH_ARM']);
  assert.deepEqual(load('base-allow.json', { ...USER, arch: 'riscv64' }).notes, ['archMap has no entry for riscv64 (SCMP_ARCH_RISCV64): the filter covers the native architecture only']);
});

test('base-allow-io_uring.json (Docker 24 style): io_uring allowed by the rule', () => {
  const spec = load('base-allow-io_uring.json');
  assert.equal(spec.rules[0]!.syscalls.length, 209);
  assert.deepEqual(brief(spec), [
    ['io_uring_setup', 'allow', 'rule'],
    ['io_uring_enter', 'allow', 'rule'],
    ['io_uring_register', 'allow', 'rule'],
  ]);
  assert.deepEqual(ioUringVerdicts(spec)[0]!.rules, ['syscalls[0]']);
});

test('kill, kill-thread and errno ENOSYS profiles: the actions and their data', () => {
  assert.deepEqual(load('kill-io_uring.json').rules, [
    { syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'], action: { kind: 'kill-process' }, args: [], origin: 'syscalls[0]' },
  ]);
  assert.deepEqual(load('kill-io_uring.json').defaultAction, { kind: 'allow' });
  assert.deepEqual(brief(load('kill-io_uring.json')).map((b) => b.slice(1)), [['kill-process', 'rule'], ['kill-process', 'rule'], ['kill-process', 'rule']]);
  // SCMP_ACT_KILL is kill-thread (runc: configs.Kill -> ActKillThread)
  assert.deepEqual(load('kill-thread-io_uring.json').rules[0]!.action, { kind: 'kill-thread' });
  assert.deepEqual(brief(load('kill-thread-io_uring.json'))[2], ['io_uring_register', 'kill-thread', 'rule']);
  const enosys = load('errno-enosys-io_uring.json');
  assert.deepEqual(enosys.rules[0]!.action, { kind: 'errno', data: 38 });
  assert.deepEqual(brief(enosys)[1], ['io_uring_enter', 'errno 38 (ENOSYS)', 'rule']);
  assert.deepEqual(enosys.notes, []);
});

test('arg-conditional.json: conditions kept as decimal strings, several on one argument split into one rule each', () => {
  const spec = load('arg-conditional.json');
  assert.deepEqual(spec.rules.map((r) => [r.origin, r.syscalls.join(','), describeAction(r.action), r.args.map((a) => `${a.index} ${a.op} ${a.value} ${a.valueTwo}`)]), [
    ['syscalls[0]', 'io_uring_setup', 'errno 1', ['0 GT 128 0']],
    ['syscalls[1]', 'clone', 'errno 1', ['0 MASKED_EQ 268435456 268435456']],
    ['syscalls[2] (condition 1 of 2)', 'socket', 'errno 97', ['0 EQ 40 0']],
    ['syscalls[2] (condition 2 of 2)', 'socket', 'errno 97', ['0 EQ 16 0']],
    ['syscalls[3]', 'setsockopt', 'errno 1', ['1 EQ 1 0', '2 EQ 25 0']],
  ]);
  assert.deepEqual(spec.notes, ['syscalls[2]: argument 0 has several conditions: one rule per condition (any of them matches), as runc does']);
  const [setup, enter, register] = ioUringVerdicts(spec);
  assert.deepEqual(setup, { syscall: 'io_uring_setup', action: { kind: 'errno', data: 1 }, by: 'conditional', rules: ['syscalls[0]'], otherwise: { kind: 'allow' } });
  assert.deepEqual(enter, { syscall: 'io_uring_enter', action: { kind: 'allow' }, by: 'default', rules: [] });
  assert.equal(register!.by, 'default');
  assert.equal(syscallVerdict(spec, 'socket').by, 'conditional');
  assert.deepEqual(syscallVerdict(spec, 'socket').rules, ['syscalls[2] (condition 1 of 2)', 'syscalls[2] (condition 2 of 2)']);
});

test('caps-conditional.json: includes.caps needs every cap listed, excludes.caps drops the entry when any is there', () => {
  const admin = load('caps-conditional.json', ADMIN);
  assert.deepEqual(brief(admin), [
    ['io_uring_setup', 'allow', 'rule'],
    ['io_uring_enter', 'allow', 'rule'],
    ['io_uring_register', 'allow', 'rule'],
  ]);
  assert.deepEqual(admin.rules.map((r) => r.origin), ['syscalls[0]', 'syscalls[1]']);
  assert.deepEqual(admin.notes, ['syscalls[2] left out: excluded with CAP_SYS_ADMIN']);
  const user = load('caps-conditional.json', USER);
  assert.deepEqual(brief(user), [
    ['io_uring_setup', 'errno 38 (ENOSYS)', 'rule'],
    ['io_uring_enter', 'errno 38 (ENOSYS)', 'rule'],
    ['io_uring_register', 'errno 38 (ENOSYS)', 'rule'],
  ]);
  assert.deepEqual(user.rules.map((r) => r.origin), ['syscalls[0]', 'syscalls[2]']);
  assert.deepEqual(user.notes, ['syscalls[1] left out: needs CAP_SYS_ADMIN']);
  // ALL caps of includes are needed (moby: any missing one skips the entry)
  const both = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['io_uring_setup'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } }] };
  assert.deepEqual(parse(both, ADMIN).notes, ['defaultAction SCMP_ACT_ERRNO without defaultErrnoRet: errno 1 (EPERM), as runc does', 'syscalls[0] left out: needs CAP_NET_ADMIN']);
  assert.equal(parse(both, { ...ADMIN, capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] }).rules.length, 1);
});

test('includes/excludes by arch (node or uname spelling) and by minKernel (major.minor, numerically)', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    syscalls: [
      { names: ['io_uring_setup'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['io_uring_enter'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64', 'x86'] } },
      { names: ['io_uring_register'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '6.18' } },
      { names: ['sendmsg'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.10' } },
      { names: ['recvmsg'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '6.19' } },
      { names: ['statx'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '' }, excludes: {} },
    ],
  };
  const amd = parse(profile, USER);
  assert.deepEqual(amd.rules.map((r) => r.origin), ['syscalls[2]', 'syscalls[3]', 'syscalls[4]', 'syscalls[5]']);
  assert.deepEqual(amd.notes, ['syscalls[0] left out: only for arm64 (this is amd64)', 'syscalls[1] left out: excluded on amd64']);
  assert.deepEqual(parse(profile, { ...USER, arch: 'x86_64' }).notes, amd.notes);
  const arm = parse(profile, { ...USER, arch: 'arm64' });
  assert.deepEqual(arm.rules.map((r) => r.origin), ['syscalls[0]', 'syscalls[1]', 'syscalls[2]', 'syscalls[3]', 'syscalls[4]', 'syscalls[5]']);
  const old = parse(profile, { ...USER, arch: 'aarch64', kernelRelease: '5.4.0-150-generic' });
  assert.deepEqual(old.notes, [
    'syscalls[2] left out: needs kernel 6.18 or later (this is 5.4.0-150-generic)',
    'syscalls[3] left out: needs kernel 5.10 or later (this is 5.4.0-150-generic)',
  ]);
  const newer = parse(profile, { ...USER, arch: 'aarch64', kernelRelease: '6.19.0-rc1' });
  assert.deepEqual(newer.notes, ['syscalls[4] left out: excluded on kernel 6.19 or later (this is 6.19.0-rc1)']);
  assert.deepEqual(brief(old).map((b) => b[2]), ['rule', 'rule', 'default']);
  assert.equal(dockerArch('x64'), 'amd64');
  assert.equal(dockerArch('ia32'), 'x86');
  assert.equal(dockerArch('armv7l'), 'arm');
  assert.equal(dockerArch('loongarch64'), 'loong64');
});

test('libseccomp semantics: the first unconditional rule decides, a rule with the default action is skipped', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['io_uring_setup'], action: 'SCMP_ACT_ERRNO' }, // = default (EPERM): runc skips it
      { names: ['io_uring_setup', 'io_uring_enter'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 64, op: 'SCMP_CMP_LE' }] },
      { names: ['io_uring_enter'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['io_uring_enter', 'io_uring_register'], action: 'SCMP_ACT_ALLOW' },
      { names: ['io_uring_register'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
  const spec = parse(profile);
  assert.equal(spec.rules.length, 5, 'every rule is kept in the spec');
  assert.deepEqual(ioUringVerdicts(spec), [
    { syscall: 'io_uring_setup', action: { kind: 'allow' }, by: 'conditional', rules: ['syscalls[0] (the default action: skipped)', 'syscalls[1]'], otherwise: { kind: 'errno', data: 1 } },
    { syscall: 'io_uring_enter', action: { kind: 'kill-process' }, by: 'rule', rules: ['syscalls[1] (no effect: syscalls[2] decides)', 'syscalls[2]', 'syscalls[3] (no effect: syscalls[2] decides)'] },
    { syscall: 'io_uring_register', action: { kind: 'allow' }, by: 'rule', rules: ['syscalls[3]', 'syscalls[4] (no effect: syscalls[3] decides)'] },
  ]);
  assert.deepEqual(spec.notes, [
    'defaultAction SCMP_ACT_ERRNO without defaultErrnoRet: errno 1 (EPERM), as runc does',
    'syscalls[0] has the default action (errno 1 (EPERM)): runc skips it',
    'syscalls[3] (allow) has no effect on io_uring_enter (syscalls[2]: kill-process): libseccomp keeps the earlier unconditional rule',
    'syscalls[4] (errno 38 (ENOSYS)) has no effect on io_uring_register (syscalls[3]: allow): libseccomp keeps the earlier unconditional rule',
  ]);
  // ERRNO 38 is not the default ERRNO 1; an unconditional rule with the default action alone: by rule
  const only = parse({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ name: 'io_uring_setup', action: 'SCMP_ACT_KILL_PROCESS' }] });
  assert.deepEqual(syscallVerdict(only, 'io_uring_setup'), { syscall: 'io_uring_setup', action: { kind: 'kill-process' }, by: 'rule', rules: ['syscalls[0] (the default action: skipped)'] });
  // TRACE without errnoRet carries EPERM as runc's actTrace does
  assert.deepEqual(parse({ defaultAction: 'SCMP_ACT_TRACE' }).defaultAction, { kind: 'trace', data: 1 });
});

test('argument values: 64-bit exact, numeric strings tolerated, negatives, fractions and > 2^64-1 refused', () => {
  const withValue = (value: string) => `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": ${value}, "valueTwo": ${value}, "op": "SCMP_CMP_MASKED_EQ"}]}]}`;
  assert.deepEqual(parse(withValue('18446744073709551615')).rules[0]!.args, [{ index: 0, op: 'MASKED_EQ', value: '18446744073709551615', valueTwo: '18446744073709551615' }]);
  assert.equal(parse(withValue('9007199254740993')).rules[0]!.args[0]!.value, '9007199254740993');
  const str = parse(withValue('"4096"'));
  assert.equal(str.rules[0]!.args[0]!.value, '4096');
  assert.match(str.notes[0]!, /^syscalls\[0\]\.args\[0\]\.value is the string '4096': read as a number/);
  assert.match(usageError(() => parse(withValue('18446744073709551616'))).message, /syscalls\[0\]\.args\[0\]\.value 18446744073709551616 is larger than 18446744073709551615/);
  assert.match(usageError(() => parse(withValue('-1'))).message, /syscalls\[0\]\.args\[0\]\.value -1 is negative/);
  assert.match(usageError(() => parse(withValue('1.5'))).message, /\.value 1\.5 is not a whole number/);
  assert.match(usageError(() => parse(withValue('true'))).message, /\.value must be a number from 0 to 18446744073709551615, got true/);
  // valueTwo only means something for MASKED_EQ
  const gt = parse('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["io_uring_setup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "valueTwo": 9, "op": "SCMP_CMP_GT"}]}]}');
  assert.equal(gt.rules[0]!.args[0]!.valueTwo, '0');
});

test('malformed fixtures: one UsageError naming the file, the JSON path and what to do', () => {
  const cases: Array<[string, RegExp, RegExp]> = [
    ['not-json.json', /^seccomp profile .*not-json\.json: is not JSON: unexpected 'S' at line 4 column 35$/, /fix the JSON/],
    ['missing-default-action.json', /missing-default-action\.json: has no "defaultAction"$/, /"defaultAction": "SCMP_ACT_ERRNO"/],
    ['bad-action.json', /bad-action\.json: syscalls\[3\]\.action 'SCMP_ACT_FOO' is not a seccomp action$/, /^use one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY$/],
    ['bad-arg-op.json', /bad-arg-op\.json: syscalls\[0\]\.args\[0\]\.op 'SCMP_CMP_GREATER' is not a seccomp comparison$/, /SCMP_CMP_GT/],
    ['names-not-array.json', /names-not-array\.json: syscalls\[0\]\.names must be an array of strings, got the string 'io_uring_setup'$/, /"names": \["io_uring_setup"\]/],
    ['arg-index-7.json', /arg-index-7\.json: syscalls\[0\]\.args\[0\]\.index 7 is larger than 5; it must be an argument number from 0 to 5/, /"index": 0/],
  ];
  for (const [name, message, hint] of cases) {
    const err = usageError(() => load(`malformed/${name}`));
    assert.match(err.message, message, name);
    assert.match(err.hint, hint, name);
    assert.ok(err.message.startsWith(`seccomp profile ${fx(`malformed/${name}`)}: `), name);
  }
});

test('malformed inline profiles: empty, wrong shapes, contradictions Docker refuses', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /: is empty$/],
    ['{}', /: has no "defaultAction"$/],
    ['[]', /: is an array, not a seccomp profile/],
    ['"SCMP_ACT_ALLOW"', /: is the string 'SCMP_ACT_ALLOW', not a seccomp profile/],
    ['{"defaultAction": "SCMP_ACT_ALLOW",}', /not JSON: unexpected '}' at line 1 column 36/],
    ['{"defaultAction": "scmp_act_allow"}', /defaultAction 'scmp_act_allow' is not a seccomp action \(names are case-sensitive: SCMP_ACT_ALLOW\)/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}', /defaultErrnoRet -1 is negative/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}', /syscalls must be an array of entries, got an object/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [null]}', /syscalls\[0\] must be an object, got null/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\] names no syscall/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\] has both "name" and "names"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", 3], "action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\]\.names\[1\] must be a string, got the number 3/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [""], "action": "SCMP_ACT_ALLOW"}]}', /syscalls\[0\]\.names\[0\] is empty/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}', /syscalls\[0\]\.action must be a seccomp action name, got nothing/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1}]}]}', /syscalls\[0\]\.args\[0\] has no "op"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": "CAP_SYS_ADMIN"}}]}', /syscalls\[0\]\.includes\.caps must be an array of strings/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5"}}]}', /syscalls\[0\]\.includes\.minKernel '5' is not a kernel version/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.4.1"}}]}', /syscalls\[0\]\.excludes\.minKernel '5\.4\.1' is not a kernel version/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}', /has both "architectures" and "archMap"/],
    ['{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AMD64"]}', /architectures\[0\] 'SCMP_ARCH_AMD64' is not a seccomp architecture/],
  ];
  for (const [text, message] of cases) {
    const err = usageError(() => parse(text));
    assert.match(err.message, /^seccomp profile \/x\/p\.json: /, text);
    assert.match(err.message, message, text);
  }
  // Unknown keys, listenerPath and flags are fine; null is the same as absent
  const ok = parse({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, listenerPath: '/run/agent.sock', flags: ['SECCOMP_FILTER_FLAG_LOG'], whatever: { a: 1 }, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: null, includes: null, excludes: {}, comment: '' }] });
  assert.equal(ok.rules.length, 1);
  assert.deepEqual(ok.notes, ['architectures: SCMP_ARCH_X86_64, SCMP_ARCH_X86']);
});

test('loadSeccompProfile: a directory, a missing file and one over 4 MiB are usage errors', () => {
  assert.match(usageError(() => loadSeccompProfile(fixturePath('seccomp'), USER)).message, /seccomp\/?: is a directory, not a file$/);
  assert.match(usageError(() => loadSeccompProfile(fx('nope.json'), USER)).message, /nope\.json: no such file \(ENOENT\)$/);
  withTempDir('seccomp-profile-test-', (tmp) => {
    const big = join(tmp, 'big.json');
    writeFileSync(big, `{"defaultAction": "SCMP_ACT_ALLOW", "comment": "${'x'.repeat(4 * 1024 * 1024)}"}`);
    assert.match(usageError(() => loadSeccompProfile(big, USER)).message, /big\.json: is \d+ bytes, larger than 4194304 \(4 MiB\)/);
  });
});

test('allowIoUring on base-allow.json: the diff is only the added entry, the result allows io_uring, a second run changes nothing', () => {
  const input = readFileSync(fx('base-allow.json'), 'utf8');
  const out = allowIoUring(input, fx('base-allow.json'));
  assert.equal(out.changed, true);
  assert.deepEqual(out.changes, ['added syscalls[1]: SCMP_ACT_ALLOW for io_uring_setup, io_uring_enter and io_uring_register']);
  const diff = lineDiff(input, out.text);
  assert.deepEqual(diff.removed, []);
  assert.deepEqual(diff.added, ADDED_ENTRY);
  assert.ok(out.text.endsWith('  ]\n}\n'));
  assert.deepEqual(brief(parseSeccompProfile(out.text, 'out.json', USER)), [
    ['io_uring_setup', 'allow', 'rule'],
    ['io_uring_enter', 'allow', 'rule'],
    ['io_uring_register', 'allow', 'rule'],
  ]);
  const again = allowIoUring(out.text, 'out.json');
  assert.deepEqual(again, { text: out.text, changed: false, changes: [] });
  const docker24 = readFileSync(fx('base-allow-io_uring.json'), 'utf8');
  assert.deepEqual(allowIoUring(docker24, 'x'), { text: docker24, changed: false, changes: [] });
});

test('allowIoUring removes io_uring from blocking entries (dropping those left empty) and adds nothing under a default allow', () => {
  const kill = readFileSync(fx('kill-io_uring.json'), 'utf8');
  const out = allowIoUring(kill, 'kill-io_uring.json');
  assert.deepEqual(out.changes, ['removed syscalls[0] (SCMP_ACT_KILL_PROCESS): it named only io_uring_setup, io_uring_enter and io_uring_register']);
  assert.equal(out.text, '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n');
  assert.deepEqual(brief(parseSeccompProfile(out.text, 'o', USER)).map((b) => b.slice(1)), [['allow', 'default'], ['allow', 'default'], ['allow', 'default']]);
  // conditional denial is a blocking entry too; only the io_uring name goes, the rest of the file stays
  const cond = readFileSync(fx('arg-conditional.json'), 'utf8');
  const c = allowIoUring(cond, 'arg-conditional.json');
  assert.deepEqual(c.changes, ['removed syscalls[0] (SCMP_ACT_ERRNO): it named only io_uring_setup']);
  const d = lineDiff(cond, c.text);
  assert.deepEqual(d.added, []);
  assert.equal(d.removed.length, 15);
  assert.deepEqual(d.removed.slice(0, 3), ['        "io_uring_setup"', '      ],', '      "action": "SCMP_ACT_ERRNO",']);
  assert.ok(d.removed.includes('      "comment": "rings of more than 128 entries are refused"'));
  assert.ok(!c.text.includes('io_uring_setup'));
  assert.equal(parseSeccompProfile(c.text, 'o', USER).rules.length, 4);
  // an entry naming other syscalls too keeps them
  const mixed = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['io_uring_setup', 'ptrace', 'io_uring_register'], action: 'SCMP_ACT_ERRNO' }] }, null, 2) + '\n';
  const m = allowIoUring(mixed, 'mixed.json');
  assert.deepEqual(m.changes, ['took io_uring_setup and io_uring_register out of syscalls[0] (SCMP_ACT_ERRNO)']);
  assert.deepEqual(lineDiff(mixed, m.text), { removed: ['        "io_uring_setup",', '        "ptrace",', '        "io_uring_register"'], added: ['        "ptrace"'] });
  // caps-conditional: the ENOSYS entry goes, one unconditional allow is added (the CAP_SYS_ADMIN one does not count)
  const caps = allowIoUring(readFileSync(fx('caps-conditional.json'), 'utf8'), 'caps-conditional.json');
  assert.deepEqual(caps.changes, [
    'removed syscalls[2] (SCMP_ACT_ERRNO): it named only io_uring_setup, io_uring_enter and io_uring_register',
    'added syscalls[2]: SCMP_ACT_ALLOW for io_uring_setup, io_uring_enter and io_uring_register',
  ]);
  assert.deepEqual(brief(parseSeccompProfile(caps.text, 'o', USER)).map((b) => b[1]), ['allow', 'allow', 'allow']);
});

test('allowIoUring keeps tabs, CRLF, compact layout and 64-bit numbers exactly; adds only what is missing; creates syscalls', () => {
  const tabbed = '{\r\n\t"defaultAction": "SCMP_ACT_ERRNO",\r\n\t"syscalls": [\r\n\t\t{\r\n\t\t\t"names": [\r\n\t\t\t\t"io_uring_enter"\r\n\t\t\t],\r\n\t\t\t"action": "SCMP_ACT_ALLOW",\r\n\t\t\t"args": [\r\n\t\t\t\t{\r\n\t\t\t\t\t"index": 0,\r\n\t\t\t\t\t"value": 18446744073709551615,\r\n\t\t\t\t\t"valueTwo": 1.0e0,\r\n\t\t\t\t\t"op": "SCMP_CMP_NE"\r\n\t\t\t\t}\r\n\t\t\t]\r\n\t\t},\r\n\t\t{\r\n\t\t\t"names": [\r\n\t\t\t\t"io_uring_enter"\r\n\t\t\t],\r\n\t\t\t"action": "SCMP_ACT_ALLOW"\r\n\t\t}\r\n\t]\r\n}';
  assert.throws(() => allowIoUring(tabbed, 't.json'), /valueTwo 1\.0e0 is not a whole number/);
  const ok = tabbed.replace('1.0e0', '0');
  const out = allowIoUring(ok, 't.json');
  assert.deepEqual(out.changes, ['added syscalls[2]: SCMP_ACT_ALLOW for io_uring_setup and io_uring_register']);
  assert.ok(out.text.includes('\r\n\t\t\t\t\t"value": 18446744073709551615,\r\n'));
  assert.ok(out.text.startsWith(ok.slice(0, ok.lastIndexOf('\t\t}'))), 'everything before the last entry\'s end is unchanged');
  assert.ok(!out.text.endsWith('\n'), 'no trailing newline added');
  assert.ok(!/[^\r]\n/.test(out.text), 'CRLF throughout');
  const compact = '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}\n';
  assert.equal(allowIoUring(compact, 'c.json').text, '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["io_uring_setup","io_uring_enter","io_uring_register"],"action":"SCMP_ACT_ALLOW","comment":"added by uring-probe seccomp-profile: the io_uring data path needs these"}]}\n');
  const none = allowIoUring('{\n    "defaultAction": "SCMP_ACT_KILL_PROCESS"\n}\n', 'n.json');
  assert.deepEqual(none.changes, ['created "syscalls" with syscalls[0]: SCMP_ACT_ALLOW for io_uring_setup, io_uring_enter and io_uring_register']);
  assert.match(none.text, /^\{\n {4}"defaultAction": "SCMP_ACT_KILL_PROCESS",\n {4}"syscalls": \[\n {8}\{\n {12}"names": \[\n {16}"io_uring_setup",/);
  assert.throws(() => allowIoUring('{"syscalls": []}', 'bad.json'), (e: unknown) => e instanceof UsageError && /bad\.json: has no "defaultAction"/.test(e.message));
});

test('uring-probe seccomp-profile --from base-allow.json: exit 0, the profile on stdout, the change on stderr', () => {
  const r = cli(['seccomp-profile', '--from', 'fixtures/seccomp/base-allow.json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { defaultAction: string; syscalls: Array<{ names: string[]; action: string }> };
  assert.equal(doc.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(doc.syscalls.at(-1), { names: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'], action: 'SCMP_ACT_ALLOW', comment: 'added by uring-probe seccomp-profile: the io_uring data path needs these' });
  assert.equal(r.stderr, 'uring-probe: added syscalls[1]: SCMP_ACT_ALLOW for io_uring_setup, io_uring_enter and io_uring_register\n');
  assert.deepEqual(lineDiff(readFileSync(fx('base-allow.json'), 'utf8'), r.stdout).removed, []);

  withTempDir('seccomp-profile-cli-', (tmp) => {
    const target = join(tmp, 'seccomp-io_uring.json');
    const w = cli(['seccomp-profile', '--from', fx('base-allow.json'), '-o', target]);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout, '');
    assert.equal(readFileSync(target, 'utf8'), r.stdout);
    assert.match(w.stderr, /wrote .*seccomp-io_uring\.json; use it with docker run --security-opt seccomp=/);
    const same = cli(['seccomp-profile', '--from', target]);
    assert.equal(same.status, 0);
    assert.equal(same.stdout, r.stdout);
    assert.match(same.stderr, /already allows io_uring_setup, io_uring_enter and io_uring_register; nothing to change\n$/);
  });
});

test('uring-probe seccomp-profile: malformed profile, missing file and no --from are usage errors (64, one line)', () => {
  const bad = cli(['seccomp-profile', '--from', 'fixtures/seccomp/malformed/bad-action.json']);
  assert.equal(bad.status, 64);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^uring-probe: seccomp profile fixtures\/seccomp\/malformed\/bad-action\.json: syscalls\[3\]\.action 'SCMP_ACT_FOO' is not a seccomp action; use one of SCMP_ACT_ALLOW, .* \(see --help\)\n$/);
  const notJson = cli(['seccomp-profile', '--from', 'fixtures/seccomp/malformed/not-json.json']);
  assert.equal(notJson.status, 64);
  assert.match(notJson.stderr, /^uring-probe: seccomp profile fixtures\/seccomp\/malformed\/not-json\.json: is not JSON: unexpected 'S' at line 4 column 35; /);
  assert.equal(notJson.stderr.trim().split('\n').length, 1);
  const missing = cli(['seccomp-profile', '--from', 'fixtures/seccomp/missing.json']);
  assert.equal(missing.status, 64);
  assert.match(missing.stderr, /^uring-probe: seccomp profile fixtures\/seccomp\/missing\.json: no such file \(ENOENT\); /);
  const none = cli(['seccomp-profile']);
  assert.equal(none.status, 64);
  assert.match(none.stderr, /^uring-probe: seccomp-profile needs the profile to start from \(--from FILE\); pass e\.g\. --from \/etc\/docker\/seccomp\.json \(see --help\)\n$/);
  const help = cli(['seccomp-profile', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^  uring-probe seccomp-profile --from \/etc\/docker\/seccomp\.json -o uring\.json$/m);
  assert.match(help.stdout, /^  docker run --security-opt seccomp=uring\.json IMAGE$/m);
});

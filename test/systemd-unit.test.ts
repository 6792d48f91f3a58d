// src/context/systemd-unit.ts: unit syntax, drop-ins, identity/memlock/capabilities, and the
// FilterSpec built from SystemCallFilter= (with a fixed group table, and with the host's
// systemd-analyze where it is installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FilterSpec, SeccompAction } from '../src/context/filter-spec.js';
import {
  expandSyscallGroup,
  findDropIns,
  loadSystemdUnit,
  parseMemlockLimit,
  parseSystemdUnit,
  resolveUnitPath,
} from '../src/context/systemd-unit.js';
import { UsageError } from '../src/usage-error.js';
import { fixturePath, makeTempDir, removeDir } from './helpers/paths.js';
import { requireCommand } from './helpers/require.js';

const fixture = (name: string): string => fixturePath('systemd', name);

/** A fixed group table, so the parse tests do not depend on the host's systemd. */
const GROUPS: Record<string, string[]> = {
  '@default': ['execve', 'exit', 'exit_group', 'getrlimit', 'rt_sigreturn'],
  '@system-service': ['execve', 'mmap', 'read', 'recvmsg', 'sendmsg', 'socket', 'write'],
  '@aio': ['io_setup', 'io_submit', 'io_uring_enter', 'io_uring_register', 'io_uring_setup'],
};
function fakeExpand(group: string): string[] {
  const names = GROUPS[group];
  if (!names) throw new UsageError(`systemd-analyze does not know the system call group ${group}`, 'use a known group');
  return [...names];
}
/** Load a fixture with the fixed groups and without the host's unit directories. */
const load = (name: string) => loadSystemdUnit(fixture(name), { expandGroup: fakeExpand, unitDirs: [] });
const parse = (text: string) => parseSystemdUnit(text, '/test/x.service', [], fakeExpand);

/** What the spec does to one syscall, read statically (each name is in at most one rule here). */
function verdict(spec: FilterSpec, syscall: string): { action: SeccompAction; origin: string } {
  const rules = spec.rules.filter((r) => r.syscalls.includes(syscall));
  assert.ok(rules.length <= 1, `${syscall} is in ${rules.length} rules`);
  return rules[0] ? { action: rules[0].action, origin: rules[0].origin } : { action: spec.defaultAction, origin: spec.defaultOrigin };
}

function assertUsageError(fn: () => unknown, ...fragments: string[]): UsageError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
  for (const f of fragments) assert.ok(caught.message.includes(f), `'${caught.message}' does not mention '${f}'`);
  return caught;
}

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const systemdVersion = !analyze.error && analyze.status === 0 ? Number(/^systemd (\d+)/.exec(analyze.stdout)?.[1] ?? NaN) : NaN;

describe('fixtures, parsed with a fixed syscall group table', () => {
  it('udp-service.service: identity, memlock, capabilities, filter', () => {
    const unit = load('udp-service.service');
    assert.equal(unit.path, fixture('udp-service.service'));
    assert.deepEqual(unit.dropIns, []);
    assert.equal(unit.user, 'nobody');
    assert.equal(unit.group, 'nogroup');
    assert.deepEqual(unit.supplementaryGroups, ['systemd-journal', 'users']);
    assert.equal(unit.dynamicUser, false);
    // LimitMEMLOCK=1G in [Install] is ignored
    assert.deepEqual(unit.memlock, { soft: 65536n, hard: 65536n });
    assert.equal(unit.noNewPrivileges, true);
    assert.deepEqual(unit.ambientCapabilities, ['CAP_NET_BIND_SERVICE']);
    // continued over a comment line; listed in capability-number order
    assert.deepEqual(unit.capabilityBoundingSet, ['CAP_NET_BIND_SERVICE', 'CAP_IPC_LOCK']);
    assert.deepEqual(unit.systemCallFilterLines, [
      'SystemCallFilter=@system-service (line 16)',
      'SystemCallErrorNumber=EPERM (line 17)',
    ]);
    assert.deepEqual(unit.systemCallFilter, {
      source: 'systemd-unit',
      path: fixture('udp-service.service'),
      defaultAction: { kind: 'errno', data: 1 },
      defaultOrigin: 'SystemCallFilter= allow-list: everything not listed (SystemCallErrorNumber=EPERM (line 17))',
      rules: [
        // execve is in both groups: the line that named it last is its origin
        {
          syscalls: ['execve', 'mmap', 'read', 'recvmsg', 'sendmsg', 'socket', 'write'],
          action: { kind: 'allow' },
          args: [],
          origin: 'SystemCallFilter=@system-service (line 16)',
        },
        {
          syscalls: ['exit', 'exit_group', 'getrlimit', 'rt_sigreturn'],
          action: { kind: 'allow' },
          args: [],
          origin: 'SystemCallFilter= allow-list: @default, always permitted by systemd (systemd.exec(5))',
        },
      ],
      notes: [],
    });
    assert.deepEqual(unit.notes, [
      'SystemCallArchitectures=native (line 18): not reproduced; only the native ABI is probed anyway',
    ]);
  });

  it('system-service-kill.service: no SystemCallErrorNumber= means kill-process', () => {
    const unit = load('system-service-kill.service');
    const spec = unit.systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'kill-process' });
    assert.equal(spec.defaultOrigin, 'SystemCallFilter= allow-list: everything not listed (no SystemCallErrorNumber=: kill the process)');
    assert.deepEqual(verdict(spec, 'io_uring_setup').action, { kind: 'kill-process' });
    assert.deepEqual(verdict(spec, 'read').action, { kind: 'allow' });
    assert.equal(unit.noNewPrivileges, null);
    assert.ok(unit.notes.some((n) => n.startsWith('NoNewPrivileges=yes is implied')), unit.notes.join('\n'));
  });

  it('deny-io_uring.service: allows everything but the three io_uring calls', () => {
    const spec = load('deny-io_uring.service').systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'allow' });
    assert.equal(spec.defaultOrigin, 'SystemCallFilter= deny-list: everything not listed is allowed');
    assert.deepEqual(spec.rules, [
      {
        syscalls: ['io_uring_enter', 'io_uring_register', 'io_uring_setup'],
        action: { kind: 'errno', data: 1 },
        args: [],
        origin: 'SystemCallFilter=~io_uring_setup io_uring_enter io_uring_register (line 4)',
      },
    ]);
    assert.deepEqual(verdict(spec, 'execve').action, { kind: 'allow' });
  });

  it('allow-io_uring.service: the io_uring calls are allowed by the line that names them', () => {
    const unit = load('allow-io_uring.service');
    const spec = unit.systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'errno', data: 1 });
    for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register']) {
      assert.deepEqual(verdict(spec, name), {
        action: { kind: 'allow' },
        origin: 'SystemCallFilter=@system-service io_uring_setup io_uring_enter io_uring_register (line 5)',
      });
    }
    assert.equal(unit.dynamicUser, true);
    assert.equal(unit.user, null);
    assert.ok(unit.notes.some((n) => n.startsWith('DynamicUser=yes')), unit.notes.join('\n'));
  });

  it('with-dropin.service: drop-ins applied in name order after the unit', () => {
    const unit = load('with-dropin.service');
    assert.deepEqual(unit.dropIns, [
      fixture('with-dropin.service.d/10-memlock.conf'),
      fixture('with-dropin.service.d/20-io_uring.conf'),
    ]);
    assert.deepEqual(unit.memlock, { soft: 8n * 1024n * 1024n, hard: 'infinity' });
    // accumulates; 'ipc_lock' is accepted without CAP_ and in lower case
    assert.deepEqual(unit.ambientCapabilities, ['CAP_NET_BIND_SERVICE', 'CAP_IPC_LOCK']);
    const spec = unit.systemCallFilter!;
    // '~name:ERRNO' in an allow-list: the name fails with that errno instead of the default
    assert.deepEqual(verdict(spec, 'io_uring_setup'), {
      action: { kind: 'errno', data: 38 },
      origin: 'SystemCallFilter=~io_uring_setup:ENOSYS (20-io_uring.conf line 4)',
    });
    assert.deepEqual(verdict(spec, 'io_uring_enter').action, { kind: 'errno', data: 1 });
    assert.deepEqual(unit.systemCallFilterLines, [
      'SystemCallFilter=@system-service (line 7)',
      'SystemCallErrorNumber=EPERM (line 8)',
      'SystemCallFilter=~io_uring_setup:ENOSYS (20-io_uring.conf line 4)',
    ]);
  });

  it('bad LimitMEMLOCK= is a UsageError naming file and line', () => {
    assertUsageError(() => load('bad-memlock.service'), `${fixture('bad-memlock.service')}:4:`, 'LimitMEMLOCK=64Q');
  });

  it('an unknown capability is a UsageError naming file, line and name', () => {
    assertUsageError(
      () => load('unknown-capability.service'),
      `${fixture('unknown-capability.service')}:4:`,
      "'CAP_TELEPORT'",
      'AmbientCapabilities=',
    );
  });
});

describe('SystemCallFilter= semantics', () => {
  it('allow-list: a later ~ entry removes a name (it falls to the default action)', () => {
    const spec = parse('[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=~write\n').systemCallFilter!;
    assert.deepEqual(verdict(spec, 'write'), { action: { kind: 'kill-process' }, origin: spec.defaultOrigin });
    assert.deepEqual(verdict(spec, 'read').action, { kind: 'allow' });
  });

  it('allow-list: ~ can remove even the implicit @default names', () => {
    const spec = parse('[Service]\nSystemCallFilter=read\nSystemCallFilter=~getrlimit\n').systemCallFilter!;
    assert.deepEqual(verdict(spec, 'getrlimit').action, { kind: 'kill-process' });
    assert.deepEqual(verdict(spec, 'exit_group').action, { kind: 'allow' });
  });

  it('deny-list: a later plain entry removes a name from the deny list', () => {
    const spec = parse('[Service]\nSystemCallFilter=~@aio\nSystemCallFilter=io_uring_setup\nSystemCallErrorNumber=EACCES\n')
      .systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'allow' });
    assert.deepEqual(verdict(spec, 'io_uring_setup').action, { kind: 'allow' });
    assert.deepEqual(verdict(spec, 'io_uring_enter').action, { kind: 'errno', data: 13 });
  });

  it('deny-list: per-name :errno and :kill make separate rules', () => {
    const spec = parse(
      '[Service]\nSystemCallFilter=~io_uring_setup:ENOSYS io_uring_enter:kill io_uring_register\nSystemCallErrorNumber=EPERM\n',
    ).systemCallFilter!;
    assert.deepEqual(
      spec.rules.map((r) => [r.syscalls, r.action]),
      [
        [['io_uring_setup'], { kind: 'errno', data: 38 }],
        [['io_uring_enter'], { kind: 'kill-process' }],
        [['io_uring_register'], { kind: 'errno', data: 1 }],
      ],
    );
    // same action from the same line: one rule
    const merged = parse('[Service]\nSystemCallFilter=~io_uring_enter:kill io_uring_register\n').systemCallFilter!;
    assert.deepEqual(merged.rules.map((r) => [r.syscalls, r.action]), [[['io_uring_enter', 'io_uring_register'], { kind: 'kill-process' }]]);
  });

  it('name:errno without ~ is ignored, as systemd ignores it, with a note', () => {
    const unit = parse('[Service]\nSystemCallFilter=read io_uring_setup:EPERM\n');
    assert.deepEqual(verdict(unit.systemCallFilter!, 'io_uring_setup').action, { kind: 'kill-process' });
    assert.ok(unit.notes.some((n) => n.includes("'io_uring_setup:EPERM': allow-listed system calls cannot take an error number")));
  });

  it('an empty assignment resets the filter; the next one decides the kind again', () => {
    const reset = parse('[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=\n');
    assert.equal(reset.systemCallFilter, null);
    const spec = parse('[Service]\nSystemCallFilter=@system-service\nSystemCallFilter=\nSystemCallFilter=~io_uring_setup\n')
      .systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'allow' });
    assert.deepEqual(spec.rules.map((r) => r.syscalls), [['io_uring_setup']]);
  });

  it('SystemCallErrorNumber=kill and an errno number', () => {
    assert.deepEqual(parse('[Service]\nSystemCallFilter=read\nSystemCallErrorNumber=kill\n').systemCallFilter!.defaultAction, {
      kind: 'kill-process',
    });
    assert.deepEqual(parse('[Service]\nSystemCallFilter=read\nSystemCallErrorNumber=95\n').systemCallFilter!.defaultAction, {
      kind: 'errno',
      data: 95,
    });
    assertUsageError(() => parse('[Service]\n\nSystemCallErrorNumber=EWHATEVER\n'), '/test/x.service:3:', 'EWHATEVER');
  });

  it('SystemCallLog= is noted and ignored', () => {
    const unit = parse('[Service]\nSystemCallLog=io_uring_setup\n');
    assert.equal(unit.systemCallFilter, null);
    assert.deepEqual(unit.systemCallFilterLines, ['SystemCallLog=io_uring_setup (line 2)']);
    assert.ok(unit.notes.some((n) => n.startsWith('SystemCallLog=io_uring_setup (line 2): ignored')));
  });

  it('an unknown group is a UsageError naming the line', () => {
    assertUsageError(() => parse('[Service]\nUser=nobody\nSystemCallFilter=~@nonsense\n'), '/test/x.service:3:', '@nonsense');
  });
});

describe('other settings', () => {
  it('capability sets: ~ inverts, assignments accumulate, empty resets', () => {
    const inverted = parse('[Service]\nCapabilityBoundingSet=~CAP_SYS_ADMIN cap_net_raw\n');
    assert.equal(inverted.capabilityBoundingSet!.length, 39);
    assert.ok(!inverted.capabilityBoundingSet!.includes('CAP_SYS_ADMIN'));
    assert.ok(!inverted.capabilityBoundingSet!.includes('CAP_NET_RAW'));
    assert.ok(inverted.capabilityBoundingSet!.includes('CAP_IPC_LOCK'));
    const merged = parse('[Service]\nAmbientCapabilities=CAP_IPC_LOCK\nAmbientCapabilities=NET_ADMIN\nAmbientCapabilities=~CAP_IPC_LOCK\n');
    assert.deepEqual(merged.ambientCapabilities, ['CAP_NET_ADMIN']);
    const reset = parse('[Service]\nAmbientCapabilities=CAP_IPC_LOCK\nAmbientCapabilities=\nAmbientCapabilities=CAP_NET_RAW\n');
    assert.deepEqual(reset.ambientCapabilities, ['CAP_NET_RAW']);
    assert.deepEqual(parse('[Service]\nCapabilityBoundingSet=\n').capabilityBoundingSet, []);
    assert.equal(parse('[Service]\nUser=nobody\n').capabilityBoundingSet, null);
  });

  it('LimitMEMLOCK= values', () => {
    assert.deepEqual(parseMemlockLimit('64K'), { soft: 65536n, hard: 65536n });
    assert.deepEqual(parseMemlockLimit('1G'), { soft: 1073741824n, hard: 1073741824n });
    assert.deepEqual(parseMemlockLimit('0.5K'), { soft: 512n, hard: 512n });
    assert.deepEqual(parseMemlockLimit('1G 512M'), { soft: 1610612736n, hard: 1610612736n });
    assert.deepEqual(parseMemlockLimit('8388608'), { soft: 8388608n, hard: 8388608n });
    assert.deepEqual(parseMemlockLimit('infinity'), { soft: 'infinity', hard: 'infinity' });
    assert.deepEqual(parseMemlockLimit('64K:1M'), { soft: 65536n, hard: 1048576n });
    assert.equal(parseMemlockLimit('1M:64K'), null, 'soft above hard');
    assert.equal(parseMemlockLimit('infinity:1M'), null, 'soft above hard');
    assert.equal(parseMemlockLimit('-1'), null);
    assert.equal(parseMemlockLimit('64k'), null, 'suffixes are upper-case in systemd');
    assert.equal(parseMemlockLimit(''), null);
  });

  it('booleans, comments, continuation, other sections', () => {
    const unit = parse(
      [
        '[Unit]',
        'NoNewPrivileges=yes',
        '[Service]',
        '# User=root',
        '  ; Group=root',
        'User = svc',
        'NoNewPrivileges=off',
        'SupplementaryGroups=a \\',
        '  b',
      ].join('\n'),
    );
    assert.equal(unit.user, 'svc');
    assert.equal(unit.group, null);
    assert.equal(unit.noNewPrivileges, false);
    assert.deepEqual(unit.supplementaryGroups, ['a', 'b']);
    assertUsageError(() => parse('[Service]\nNoNewPrivileges=perhaps\n'), '/test/x.service:2:', 'NoNewPrivileges=perhaps');
  });

  it('specifiers are left as they are, with a note', () => {
    const unit = parse('[Service]\nUser=svc-%i\n');
    assert.equal(unit.user, 'svc-%i');
    assert.ok(unit.notes.some((n) => n.includes('specifiers')));
  });
});

describe('unit and drop-in lookup', () => {
  const scratch = makeTempDir('uring-probe-units-');
  after(() => removeDir(scratch));

  it('resolveUnitPath by NAME finds systemd-journald.service', (t) => {
    const shipped = '/lib/systemd/system/systemd-journald.service';
    if (!existsSync(shipped)) {
      t.skip(`${shipped} does not exist on this host`);
      return;
    }
    for (const name of ['systemd-journald', 'systemd-journald.service']) {
      const path = resolveUnitPath(name);
      assert.equal(realpathSync(path), realpathSync(shipped), `${name} -> ${path}`);
    }
  });

  it('resolveUnitPath: NAME not found and FILE not found are UsageErrors', () => {
    const error = assertUsageError(() => resolveUnitPath('no-such-unit-here'), "'no-such-unit-here.service'", '/etc/systemd/system');
    assert.ok(error.message.includes('/usr/lib/systemd/system'));
    assertUsageError(() => resolveUnitPath('./no/such.service'), './no/such.service');
  });

  it('resolveUnitPath: names in given directories, highest precedence first, template fallback', () => {
    const high = join(scratch, 'etc');
    const low = join(scratch, 'lib');
    mkdirSync(high, { recursive: true });
    mkdirSync(low, { recursive: true });
    writeFileSync(join(high, 'both.service'), '[Service]\n');
    writeFileSync(join(low, 'both.service'), '[Service]\n');
    writeFileSync(join(low, 'tmpl@.service'), '[Service]\nUser=%i\n');
    assert.equal(resolveUnitPath('both', [high, low]), join(high, 'both.service'));
    assert.equal(resolveUnitPath('tmpl@x', [high, low]), join(low, 'tmpl@.service'));
    // an empty file (or a link to /dev/null) in a higher directory masks the unit
    writeFileSync(join(high, 'tmpl@.service'), '');
    assertUsageError(() => resolveUnitPath('tmpl@x', [high, low]), 'masked', join(high, 'tmpl@.service'));
  });

  it('findDropIns: /etc over /lib for the same file name, then lexical order across directories', () => {
    const high = join(scratch, 'd-etc');
    const low = join(scratch, 'd-lib');
    const files: Array<[string, string]> = [
      [join(low, 'foo-bar.service'), '[Service]\nUser=low\n'],
      [join(high, 'foo-bar.service.d', '50-x.conf'), '[Service]\n'],
      [join(low, 'foo-bar.service.d', '50-x.conf'), '[Service]\n'],
      [join(low, 'foo-bar.service.d', '10-a.conf'), '[Service]\n'],
      [join(low, 'foo-.service.d', '20-prefix.conf'), '[Service]\n'],
      [join(high, 'service.d', '05-all.conf'), '[Service]\n'],
      [join(high, 'foo-bar.service.d', 'README'), 'not a .conf'],
    ];
    for (const [path, text] of files) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
    assert.deepEqual(findDropIns(join(low, 'foo-bar.service'), [high, low]), [
      join(high, 'service.d', '05-all.conf'),
      join(low, 'foo-bar.service.d', '10-a.conf'),
      join(low, 'foo-.service.d', '20-prefix.conf'),
      join(high, 'foo-bar.service.d', '50-x.conf'),
    ]);
  });
});

describe("the host's systemd-analyze", () => {
  it('@system-service expands to real syscalls, nested groups included', (t) => {
    if (!requireCommand(t, 'systemd-analyze')) return;
    const names = expandSyscallGroup('@system-service');
    for (const name of ['read', 'mmap', 'sendmsg', 'recvmsg', 'execve', 'exit_group']) {
      assert.ok(names.includes(name), `@system-service lacks ${name}`);
    }
    assert.ok(!names.some((n) => n.startsWith('@')), 'nested groups are expanded');
    assert.equal(new Set(names).size, names.length, 'no duplicates');
    assert.ok(!names.includes('reboot') && !names.includes('mount'), '@reboot and @mount are excluded');
    // io_uring_* come in through @aio, where this systemd lists them there
    const aio = expandSyscallGroup('aio');
    assert.equal(names.includes('io_uring_setup'), aio.includes('io_uring_setup'));
    if (systemdVersion === 252) {
      // systemd 252 (Debian 12): @aio = io_* + io_uring_*, and @system-service includes @aio
      assert.ok(aio.includes('io_uring_setup') && aio.includes('io_uring_enter') && aio.includes('io_uring_register'));
      assert.ok(names.includes('io_uring_setup'));
    }
  });

  it('an unknown group is a UsageError', (t) => {
    if (!requireCommand(t, 'systemd-analyze')) return;
    assertUsageError(() => expandSyscallGroup('@no-such-group'), '@no-such-group');
  });

  it('system-service-kill.service with real groups: kill-process default, @default included', (t) => {
    if (!requireCommand(t, 'systemd-analyze')) return;
    const spec = loadSystemdUnit(fixture('system-service-kill.service'), { unitDirs: [] }).systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'kill-process' });
    assert.deepEqual(verdict(spec, 'read').action, { kind: 'allow' });
    assert.deepEqual(verdict(spec, 'reboot').action, { kind: 'kill-process' });
    const allowed = spec.rules.filter((r) => r.action.kind === 'allow').flatMap((r) => r.syscalls);
    for (const name of expandSyscallGroup('@default')) assert.ok(allowed.includes(name), `@default ${name} is allowed`);
  });

  it('deny-io_uring.service with real groups: only the three are denied', (t) => {
    if (!requireCommand(t, 'systemd-analyze')) return;
    const spec = loadSystemdUnit(fixture('deny-io_uring.service'), { unitDirs: [] }).systemCallFilter!;
    assert.deepEqual(spec.defaultAction, { kind: 'allow' });
    assert.deepEqual(spec.rules.flatMap((r) => r.syscalls), ['io_uring_enter', 'io_uring_register', 'io_uring_setup']);
  });
});

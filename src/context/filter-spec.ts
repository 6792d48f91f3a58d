// One normalised seccomp filter, whatever it came from (an OCI/Docker profile, a systemd unit's
// SystemCallFilter=): plain data, so it crosses into the probe child and down to the native
// compiler (native/seccomp_compile.cc, libseccomp loaded at run time) unchanged.
//
// Semantics are libseccomp's, as runc/crun/podman/systemd use it: the default action applies to
// every syscall no rule matches; a rule applies its action to each named syscall when ALL of its
// argument conditions hold. A profile entry with several conditions on the same argument index is
// split by the parser into one rule per condition (runc's behaviour), so every rule here is a
// plain AND. Syscall names the running libseccomp does not know are skipped at compile time and
// reported, as runc does.

export type SeccompActionKind =
  | 'allow'
  | 'errno'        // fail the call with `errno`
  | 'kill-process' // SIGSYS to the whole process (systemd's SystemCallFilter= default)
  | 'kill-thread'  // SIGSYS to the calling thread only (Docker's SCMP_ACT_KILL)
  | 'trap'         // SIGSYS signal the process may catch
  | 'trace'        // ptrace event; ENOSYS without a tracer
  | 'log'          // allowed, and logged
  | 'notify';      // user notification; ENOSYS without a listener

export interface SeccompAction {
  kind: SeccompActionKind;
  /** errno: the errno number returned (e.g. 1 = EPERM); trace: the ptrace event data */
  data?: number;
}

/** libseccomp's enum scmp_compare, by name. */
export type ArgOp = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

export interface ArgCondition {
  /** argument index, 0..5 */
  index: number;
  op: ArgOp;
  /** 64-bit values as decimal strings (JSON numbers lose precision above 2^53) */
  value: string;
  /** MASKED_EQ: the value compared with (arg & value); 0 otherwise */
  valueTwo: string;
}

export interface FilterRule {
  syscalls: string[];
  action: SeccompAction;
  /** ANDed; empty = unconditional */
  args: ArgCondition[];
  /** where it came from, for people: 'syscalls[12]' or 'SystemCallFilter=~io_uring_setup (unit line 14)' */
  origin: string;
}

export interface FilterSpec {
  source: 'oci-profile' | 'systemd-unit';
  /** the file it was read from */
  path: string;
  defaultAction: SeccompAction;
  /** where the default came from: 'defaultAction' or 'SystemCallFilter= allow-list (everything else)' */
  defaultOrigin: string;
  rules: FilterRule[];
  /** what the parser left out or decided, for the report (e.g. "syscalls[40] excluded: needs CAP_SYS_ADMIN") */
  notes: string[];
}

/** The three syscalls the seed's data path needs. */
export const IO_URING_SYSCALLS = ['io_uring_setup', 'io_uring_enter', 'io_uring_register'] as const;
export type IoUringSyscall = (typeof IO_URING_SYSCALLS)[number];

/** What a filter does to one syscall, read statically (the kernel's answer comes from applying it). */
export interface SyscallVerdict {
  syscall: string;
  action: SeccompAction;
  /** 'rule' = an unconditional rule decides; 'conditional' = rules that depend on argument values
   *  (then `action` is what happens when their conditions hold, and `otherwise` when not);
   *  'default' = no rule names it */
  by: 'rule' | 'conditional' | 'default';
  /** origins of the rules that name it, in order */
  rules: string[];
  /** for 'conditional': the action when no condition holds */
  otherwise?: SeccompAction;
}

/** 'errno 1 (EPERM)', 'kill-process', 'allow' ... for people. */
export function describeAction(action: SeccompAction, errnoName?: (n: number) => string): string {
  if (action.kind === 'errno') {
    const n = action.data ?? 1;
    return `errno ${n}${errnoName ? ` (${errnoName(n)})` : ''}`;
  }
  if (action.kind === 'trace') return `trace ${action.data ?? 0}`;
  return action.kind;
}

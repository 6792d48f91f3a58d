// Reason codes for io_uring refusals (errno + environment -> ReasonCode) and remediation text per reason.
import type { ReasonCode } from '../types.js';

/** What ring-setup needs to know about the environment to attribute a refusal. */
export interface RefusalContext {
  /** kernel.io_uring_disabled (0/1/2), null when the sysctl does not exist (< 6.6) or cannot be read */
  ioUringDisabled: number | null;
  /** kernel.io_uring_group (-1 = none), null when absent */
  ioUringGroup: number | null;
  gid: number | null;
  groups: number[];
  /** effective capabilities by name, e.g. 'CAP_SYS_ADMIN' */
  capabilities: string[] | null;
  /** Seccomp: line of /proc/self/status (0 none, 1 strict, 2 filter), null when unknown */
  seccompMode: number | null;
}

function inIoUringGroup(ctx: RefusalContext): boolean {
  const group = ctx.ioUringGroup;
  if (group === null || group < 0) return false;
  return ctx.gid === group || ctx.groups.includes(group);
}

function seccompFiltered(ctx: RefusalContext): boolean {
  return ctx.seccompMode === 2;
}

/**
 * Why io_uring_setup was refused, from its errno and what the environment probe saw.
 * `atMinimum`: the refusal came at the smallest ring the ladder tries (matters for ENOMEM).
 */
export function setupRefusalReason(errno: string, ctx: RefusalContext, atMinimum = true): ReasonCode {
  switch (errno) {
    case 'EPERM':
      if (ctx.ioUringDisabled === 2) return 'SYSCTL_DISABLED';
      if (
        ctx.ioUringDisabled === 1 &&
        !inIoUringGroup(ctx) &&
        !(ctx.capabilities ?? []).includes('CAP_SYS_ADMIN')
      ) {
        return 'NOT_IN_GROUP';
      }
      if (seccompFiltered(ctx)) return 'SECCOMP_BLOCKED';
      return 'UNKNOWN';
    case 'ENOSYS':
      return seccompFiltered(ctx) ? 'SECCOMP_BLOCKED' : 'NOT_BUILT';
    case 'EACCES':
      return 'LSM_DENIED';
    case 'EOPNOTSUPP':
      return 'SANDBOX_BLOCKED';
    case 'ENOMEM':
      return atMinimum ? 'MEMLOCK_LIMIT' : 'RING_SHRUNK';
    case 'EPROTO':
      // The addon's ring-geometry check (native/ring_geometry.h): the kernel's answer to
      // io_uring_setup (entries, masks, offsets, layout flags) broke a rule the rings rely on.
      return 'ABI_MISMATCH';
    default:
      return 'UNKNOWN';
  }
}

/**
 * The signal that killed a probe: SIGSYS during ring-setup, or in io_uring_setup/io_uring_enter
 * anywhere (the breadcrumb page says which syscall), means a seccomp filter that kills what the
 * seed's data path needs. A kill elsewhere (e.g. a register opcode only a later probe tries) only
 * means that probe could not finish.
 */
export function killedProbeReason(probeId: string, signal: string | null, lastSyscall: string | null = null): ReasonCode {
  if (signal !== 'SIGSYS') return 'PROBE_KILLED';
  if (probeId === 'ring-setup' || lastSyscall === 'io_uring_setup' || lastSyscall === 'io_uring_enter') return 'SECCOMP_BLOCKED';
  return 'PROBE_KILLED';
}

/** One or two sentences: what to change, and where (from the io_uring field notes). */
export const REMEDIATION: Record<ReasonCode, string> = {
  SECCOMP_BLOCKED:
    'A seccomp filter blocks the io_uring syscalls (Docker >= 25 and containerd 2.0 RuntimeDefault profiles do, Podman always has). ' +
    'Run the service with a seccomp profile that allows io_uring_setup, io_uring_enter and io_uring_register, or keep the epoll path.',
  SYSCTL_DISABLED:
    'kernel.io_uring_disabled is 2, which turns io_uring off for every process (RHEL 10 default). ' +
    'Set it to 0, or to 1 with kernel.io_uring_group naming the service\'s group (sysctl -w, persisted in /etc/sysctl.d/).',
  NOT_IN_GROUP:
    'kernel.io_uring_disabled is 1 and this user is neither in kernel.io_uring_group nor has CAP_SYS_ADMIN. ' +
    'Add the service user to that group (systemd: SupplementaryGroups=) or set kernel.io_uring_group to the service\'s group.',
  NOT_BUILT:
    'The kernel has no io_uring (CONFIG_IO_URING=n or older than 5.1) and no seccomp filter is involved. ' +
    'Boot a kernel built with CONFIG_IO_URING=y, or keep the epoll path on this host.',
  LSM_DENIED:
    'A Linux security module (SELinux: anon_inode io_uring_t create/map, io_uring class) denies io_uring to this domain. ' +
    'Check the audit log for AVC denials and load a policy module that allows them for the service\'s domain.',
  SANDBOX_BLOCKED:
    'The sandbox this runs in refuses io_uring with EOPNOTSUPP (managed Kubernetes, gVisor and similar). ' +
    'Ask the platform to allow io_uring for this workload, or keep the epoll path there.',
  MEMLOCK_LIMIT:
    'io_uring_setup fails with ENOMEM even at the smallest ring: ring memory is charged to the user\'s RLIMIT_MEMLOCK, and whether it is depends on the kernel ' +
    '(the memlock probe measures it: Debian 6.1 and 6.12 do not charge, 6.18 charges callers without CAP_IPC_LOCK). ' +
    'Raise the service\'s limit (systemd: LimitMEMLOCK=, containers: --ulimit memlock=, /etc/security/limits.conf memlock) or grant CAP_IPC_LOCK.',
  UNKNOWN:
    'io_uring was refused for a reason this tool could not attribute. ' +
    'Check the errno against the kernel\'s io_uring_setup(2) man page, dmesg and the audit log.',
  FLAGS_FALLBACK:
    'The kernel refused IORING_SETUP_COOP_TASKRUN (added in 5.19), so the rings run with CLAMP alone and more task-work interrupts. ' +
    'It works; a kernel >= 5.19 removes the fallback.',
  RING_SHRUNK:
    'io_uring_setup or mapping the ring returned ENOMEM, so the ring was halved below the requested entries. ' +
    'If the memlock probe found ring memory charged to this user, raise RLIMIT_MEMLOCK (systemd: LimitMEMLOCK=) to the size it gives; if not, look for memory pressure or pinned memory.',
  NO_WORKER_LIMIT:
    'IORING_REGISTER_IOWQ_MAX_WORKERS was refused (kernel < 5.15): io-wq workers are unbounded and may grow to many threads under load. ' +
    'Use a kernel >= 5.15 to bound them.',
  NO_SINGLE_MMAP:
    'The kernel accepted CLAMP but lacks IORING_FEAT_SINGLE_MMAP, which no mainline kernel does (SINGLE_MMAP came in 5.4, CLAMP in 5.6): a patched or emulated io_uring. ' +
    'The seed maps its rings separately then, which works; report the kernel.',
  POOL_TRUNCATED:
    'The receive ring is smaller than the receive pool, so not every pooled RECVMSG can be queued at once. ' +
    'Raise RLIMIT_MEMLOCK so the full ring can be created (the memlock probe gives the size), or lower the pool size.',
  OPCODE_MISSING:
    'The kernel does not support IORING_OP_SENDMSG/RECVMSG (added in 5.3), which the data path needs. ' +
    'Use a kernel >= 5.3 (better >= 5.19), or keep the epoll path.',
  PROBE_UNSUPPORTED:
    'IORING_REGISTER_PROBE was refused (kernel < 5.6), so supported operations cannot be listed. ' +
    'SENDMSG/RECVMSG are exercised by the loopback probe instead.',
  MULTISHOT_UNAVAILABLE:
    'Multishot RECVMSG with a provided buffer ring did not work here (needs 6.0). ' +
    'The seed does not use it; this only limits future optimisations.',
  SINGLE_ISSUER_EEXIST:
    'The kernel enforces IORING_SETUP_SINGLE_ISSUER: a submit from another thread fails with EEXIST. ' +
    'Keep the flag out for Go callers (goroutines move between threads), or lock the submitter to one OS thread.',
  SINGLE_ISSUER_UNENFORCED:
    'The kernel accepted IORING_SETUP_SINGLE_ISSUER but let a second thread submit, so here the flag gives no single-submitter guarantee (a patched kernel or an io_uring emulation). ' +
    'The seed leaves the flag out, so nothing changes for it; a service must not rely on the flag on this host.',
  NO_LOOPBACK:
    'No usable loopback interface or address (lo down, or no 127.0.0.1/::1, e.g. in a fresh network namespace), so the data path could not be checked. ' +
    'Bring lo up (ip link set lo up) and run the check again.',
  DATA_MISMATCH:
    'Datagrams sent through the io_uring send ring came back wrong (bytes, lengths, source address) or not at all. ' +
    'Do not roll out the io_uring data path on this kernel; report the kernel version and the facts above.',
  ABI_MISMATCH:
    'The kernel\'s ring layout differs from what the seed assumes (struct sizes, offsets, alignment or masks), ' +
    'or its answer to io_uring_setup broke the ring geometry (EPROTO: entry counts not powers of two or out of range, a ring_mask other than entries - 1, an offset outside the mapping, a layout flag such as SQE128/CQE32/NO_MMAP). ' +
    'Do not roll out the io_uring data path on this host; report the kernel version and the facts above.',
  SEED_LAYOUT:
    'The seed\'s Go ioCqringOffsets declares Resv [2]uint32 where the kernel has flags, resv1 and a 64-bit user_addr, so its ioUringParams is 112 bytes while io_uring_setup copies 120 in and out, writing 8 bytes past the seed\'s variable on every setup. ' +
    'Declare `Flags uint32; Resv1 uint32; UserAddr uint64` in ioCqringOffsets in place of `Resv [2]uint32` (ioUringParams becomes 120 bytes, as the kernel\'s).',
  BELOW_MIN_PPS:
    'Loopback throughput through the seed\'s rings is below the required minimum. ' +
    'See the throughput facts and `uring-probe bench` for what would help on this host.',
  BELOW_MIN_RATIO:
    'The seed\'s rings are slower than plain syscalls by more than the allowed ratio on this host. ' +
    'See `uring-probe bench` for the per-mode figures, or keep the syscall path here.',
  THROUGHPUT_INCONCLUSIVE:
    'The throughput figure\'s interval (from the interleaved pairs) straddles the required floor, so this run shows neither that the host meets it nor that it misses it. ' +
    'Run the check again or set the floor away from the host\'s own figure; it counts as unmet only with --strict.',
  PROBE_KILLED:
    'The probe process died of a signal, so this check could not finish. ' +
    'A seccomp filter that kills (SIGSYS) or a kernel bug is likely; check dmesg and the seccomp profile.',
  PROBE_TIMEOUT:
    'The probe did not answer within its time bound and was killed. ' +
    'Re-run with a larger --timeout; if it still hangs, the kernel may be losing completions (check dmesg).',
  PROBE_ERROR:
    'The probe failed internally (an exception, an unloadable addon, or unreadable output), so this check could not be made. ' +
    'See the error in the facts; rebuild the addon with `npm rebuild uring-probe` if it did not load.',
  DEPENDENCY_FAILED:
    'Skipped because a probe it depends on failed; fix that one first.',
  NOT_SUPPORTED:
    'The kernel lacks what this probe examines, so there was nothing to check; the summary names the kernel that brought it.',
};

export function remediationFor(reason: ReasonCode | null): string | null {
  return reason === null ? null : REMEDIATION[reason];
}

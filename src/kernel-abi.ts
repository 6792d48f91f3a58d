// The kernel's io_uring names, in one place for all of the TypeScript side: setup flags and feature
// bits (bit i = 1 << i), opcodes (index = opcode number), with the release that brought each (the
// field notes' version table). native/abi.h holds the constants the C++ side uses; a native test
// checks that they agree with these tables. One decoder turns a mask into names.

/** A name and the kernel release that brought it (for "what the host has instead" messages). */
export interface KernelName {
  name: string;
  since: string | null;
}

/** IORING_SETUP_* in bit order (bit i = 1 << i), from include/uapi/linux/io_uring.h. */
export const SETUP_FLAGS: readonly KernelName[] = [
  { name: 'IOPOLL', since: '5.1' },
  { name: 'SQPOLL', since: '5.1' },
  { name: 'SQ_AFF', since: '5.1' },
  { name: 'CQSIZE', since: '5.5' },
  { name: 'CLAMP', since: '5.6' },
  { name: 'ATTACH_WQ', since: '5.6' },
  { name: 'R_DISABLED', since: '5.10' },
  { name: 'SUBMIT_ALL', since: '5.18' },
  { name: 'COOP_TASKRUN', since: '5.19' },
  { name: 'TASKRUN_FLAG', since: '5.19' },
  { name: 'SQE128', since: '5.19' },
  { name: 'CQE32', since: '5.19' },
  { name: 'SINGLE_ISSUER', since: '6.0' },
  { name: 'DEFER_TASKRUN', since: '6.1' },
  { name: 'NO_MMAP', since: '6.5' },
  { name: 'REGISTERED_FD_ONLY', since: '6.5' },
  { name: 'NO_SQARRAY', since: '6.6' },
  { name: 'HYBRID_IOPOLL', since: '6.13' },
  { name: 'CQE_MIXED', since: '6.18' },
];

/** IORING_FEAT_* in bit order. */
export const FEATURES: readonly KernelName[] = [
  { name: 'SINGLE_MMAP', since: '5.4' },
  { name: 'NODROP', since: '5.5' },
  { name: 'SUBMIT_STABLE', since: '5.5' },
  { name: 'RW_CUR_POS', since: '5.6' },
  { name: 'CUR_PERSONALITY', since: '5.6' },
  { name: 'FAST_POLL', since: '5.7' },
  { name: 'POLL_32BITS', since: '5.9' },
  { name: 'SQPOLL_NONFIXED', since: '5.11' },
  { name: 'EXT_ARG', since: '5.11' },
  { name: 'NATIVE_WORKERS', since: '5.12' },
  { name: 'RSRC_TAGS', since: '5.13' },
  { name: 'CQE_SKIP', since: '5.17' },
  { name: 'LINKED_FILE', since: '5.17' },
  { name: 'REG_REG_RING', since: '6.3' },
  { name: 'RECVSEND_BUNDLE', since: '6.10' },
  { name: 'MIN_TIMEOUT', since: '6.12' },
  { name: 'RW_ATTR', since: '6.13' },
  { name: 'NO_IOWAIT', since: '6.15' },
];

/** IORING_OP_* in opcode order (index = opcode number). */
export const OPCODES: readonly string[] = [
  'NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE',
  'SYNC_FILE_RANGE', 'SENDMSG', 'RECVMSG', 'TIMEOUT', 'TIMEOUT_REMOVE', 'ACCEPT', 'ASYNC_CANCEL',
  'LINK_TIMEOUT', 'CONNECT', 'FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE', 'STATX', 'READ',
  'WRITE', 'FADVISE', 'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL', 'SPLICE',
  'PROVIDE_BUFFERS', 'REMOVE_BUFFERS', 'TEE', 'SHUTDOWN', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT',
  'SYMLINKAT', 'LINKAT', 'MSG_RING', 'FSETXATTR', 'SETXATTR', 'FGETXATTR', 'GETXATTR', 'SOCKET',
  'URING_CMD', 'SEND_ZC', 'SENDMSG_ZC', 'READ_MULTISHOT', 'WAITID', 'FUTEX_WAIT', 'FUTEX_WAKE',
  'FUTEX_WAITV', 'FIXED_FD_INSTALL', 'FTRUNCATE', 'BIND', 'LISTEN', 'RECV_ZC', 'EPOLL_WAIT',
  'READV_FIXED', 'WRITEV_FIXED', 'PIPE',
];

/** Kernel release that brought an opcode, where the field notes name it. */
export const OPCODE_SINCE: Readonly<Record<string, string>> = {
  SENDMSG: '5.3', RECVMSG: '5.3', SEND: '5.6', RECV: '5.6', PROVIDE_BUFFERS: '5.7',
  SOCKET: '5.19', SEND_ZC: '6.0', SENDMSG_ZC: '6.1', BIND: '6.11', LISTEN: '6.11', RECV_ZC: '6.15',
};


/** Bit value of a named flag or feature in a bit-ordered table; undefined when unknown. */
export function bitOf(table: readonly KernelName[], name: string): number | undefined {
  const i = table.findIndex((e) => e.name === name);
  return i < 0 ? undefined : (1 << i) >>> 0;
}

/** Names of the bits set in `mask`, in bit order; bits the table does not name come last as one hex value. */
export function namesOfBits(mask: number, table: readonly KernelName[]): string[] {
  const names: string[] = [];
  let rest = mask >>> 0;
  for (let i = 0; i < table.length && i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if (rest & bit) {
      names.push(table[i]!.name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}

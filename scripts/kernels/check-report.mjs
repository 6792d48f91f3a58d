#!/usr/bin/env node
// Checks a `uring-probe check --json` report against what a kernel release should say.
//
//   node scripts/kernels/check-report.mjs REPORT.json KERNEL-RELEASE
//
// KERNEL-RELEASE is `uname -r` of the kernel the report came from (6.1.0-56-amd64,
// 6.12.117+deb12-amd64, ...). The expectations come from the version table of
// shared/reference/io_uring-field-notes.md (setup flags, feature bits, operations, the
// io_uring_disabled sysctl), plus the io_uring uapi history for the opcodes the notes do not name
// (marked "uapi" below). They are deliberately independent of src/kernel-abi.ts: this checks the
// tool, so it does not reuse the tool's tables. Distribution kernels can backport features, so
// this is meant for Debian's own kernels (which do not backport io_uring features) as
// scripts/test-kernels.sh boots them.
//
// Prints one line per expectation, "ok   ..." or "FAIL ...: got ...", and exits 1 when any failed
// (2 on a usage or parse error).
import { readFileSync } from 'node:fs';

const [file, release] = process.argv.slice(2);
if (!file || !release) {
  console.error('usage: check-report.mjs REPORT.json KERNEL-RELEASE');
  process.exit(2);
}
const m = /^(\d+)\.(\d+)/.exec(release);
if (!m) {
  console.error(`check-report: cannot read a version from "${release}"`);
  process.exit(2);
}
const kernel = [Number(m[1]), Number(m[2])];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`check-report: ${file}: ${e.message}`);
  process.exit(2);
}

/** true when the kernel under test is at least `version` ("6.6"). */
function has(version) {
  const [a, b] = version.split('.').map(Number);
  return kernel[0] > a || (kernel[0] === a && kernel[1] >= b);
}
let failed = 0;
let total = 0;
function expect(what, ok, got) {
  total++;
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}: got ${typeof got === 'string' ? got : JSON.stringify(got)}`);
  }
}
const probe = (id) => (report.probes ?? []).find((p) => p.id === id) ?? null;
const facts = (id) => probe(id)?.facts ?? null;

// ---- the report itself --------------------------------------------------------------------------
expect(`report comes from ${release}`, report.host?.kernelRelease === release, report.host?.kernelRelease);
expect('verdict compatible, exit code 0 (the seed needs CLAMP|COOP_TASKRUN, 5.19, and SENDMSG/RECVMSG, 5.3)',
  report.verdict === 'compatible' && report.exitCode === 0, `${report.verdict}, exit ${report.exitCode}`);
for (const p of report.probes ?? []) {
  if (p.status === 'error') expect(`probe ${p.id} did not error`, false, `${p.reason ?? ''} ${p.summary ?? ''}`.trim());
}

// ---- environment: kernel.io_uring_disabled / io_uring_group (6.6) --------------------------------
const env = facts('environment');
expect('environment probe present', env !== null, 'no environment facts');
if (env) {
  expect(`environment kernelRelease is ${release}`, env.kernelRelease === release, env.kernelRelease);
  if (has('6.6')) {
    expect('io_uring_disabled sysctl present (6.6+)', env.ioUringSysctls === 'present', env.ioUringSysctls);
    expect('io_uring_disabled = 0 (Debian default)', env.ioUringDisabled === 0, env.ioUringDisabled);
  } else {
    expect('no io_uring_disabled sysctl (arrived in 6.6)', env.ioUringSysctls !== 'present', env.ioUringSysctls);
    expect('io_uring_disabled reported as null (could not tell)', env.ioUringDisabled === null, env.ioUringDisabled);
    expect('io_uring_group reported as null', env.ioUringGroup === null, env.ioUringGroup);
  }
}

// ---- setup flags ---------------------------------------------------------------------------------
const SETUP_SINCE = {
  SQPOLL: '5.1', CQSIZE: '5.5', CLAMP: '5.6', R_DISABLED: '5.10', SUBMIT_ALL: '5.18',
  COOP_TASKRUN: '5.19', TASKRUN_FLAG: '5.19', SINGLE_ISSUER: '6.0', DEFER_TASKRUN: '6.1',
  NO_MMAP: '6.5', NO_SQARRAY: '6.6',
};
const flags = facts('setup-flags')?.flags ?? null;
expect('setup-flags probe has per-flag facts', flags !== null, probe('setup-flags')?.summary ?? 'no setup-flags probe');
if (flags) {
  for (const [name, since] of Object.entries(SETUP_SINCE)) {
    const f = flags[name];
    if (!f) {
      expect(`setup flag ${name} was tried`, false, 'not in the report');
      continue;
    }
    if (has(since)) {
      expect(`setup flag ${name} accepted (${since})`, f.accepted === true, f);
    } else {
      const errnos = [f.alone?.errno, f.withCompanion?.errno, f.withMemory?.errno].filter((e) => e != null);
      expect(`setup flag ${name} refused with EINVAL (arrived in ${since})`,
        f.accepted === false && errnos.length > 0 && errnos.every((e) => e === 'EINVAL'), f);
      if (name === 'NO_MMAP') expect('NO_MMAP not recognised (EINVAL, not EFAULT, with null addresses)', f.recognised === false, f.recognised);
    }
  }
}

// ---- feature bits (the send ring's io_uring_params.features) --------------------------------------
const FEATURE_SINCE = {
  SINGLE_MMAP: '5.4', NODROP: '5.5', SUBMIT_STABLE: '5.5', RW_CUR_POS: '5.6', CUR_PERSONALITY: '5.6',
  FAST_POLL: '5.7', POLL_32BITS: '5.9', SQPOLL_NONFIXED: '5.11', EXT_ARG: '5.11', NATIVE_WORKERS: '5.12',
  RSRC_TAGS: '5.13', CQE_SKIP: '5.17', LINKED_FILE: '5.17', REG_REG_RING: '6.3', RECVSEND_BUNDLE: '6.10',
  MIN_TIMEOUT: '6.12',
  RW_ATTR: '6.14', // uapi: commit 94d57442e56d, merged for 6.14 (not in the field notes)
  NO_IOWAIT: '6.15', // uapi (not in the field notes)
};
const features = facts('ring-setup')?.send?.features ?? null;
expect('ring-setup reports the send ring\'s features', Array.isArray(features), probe('ring-setup')?.summary ?? 'no ring-setup probe');
if (Array.isArray(features)) {
  const present = Object.keys(FEATURE_SINCE).filter((n) => has(FEATURE_SINCE[n]));
  const absent = Object.keys(FEATURE_SINCE).filter((n) => !has(FEATURE_SINCE[n]));
  const missing = present.filter((n) => !features.includes(n));
  const extra = absent.filter((n) => features.includes(n));
  expect(`features ${present.at(-1)} and older present (${present.length})`, missing.length === 0, `missing ${missing.join(', ')}`);
  expect(`features newer than the kernel absent${absent.length ? ` (${absent.join(', ')})` : ''}`, extra.length === 0, `present: ${extra.join(', ')}`);
  const unnamed = features.filter((n) => !(n in FEATURE_SINCE));
  expect('no feature bit the table does not name', unnamed.length === 0, unnamed.join(', '));
}
const send = facts('ring-setup')?.send;
if (send && has('5.19')) {
  expect('send ring accepted on the first rung: CLAMP|COOP_TASKRUN, 256 entries',
    send.result === 'ok' && send.finalEntries === 256 && JSON.stringify(send.flags) === JSON.stringify(['CLAMP', 'COOP_TASKRUN']),
    `${send.result} ${send.finalEntries} ${JSON.stringify(send.flags)}`);
}

// ---- operations (IORING_REGISTER_PROBE) -----------------------------------------------------------
// In opcode order (index = opcode number), as in include/uapi/linux/io_uring.h.
const OPCODES = [
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
const OP_SINCE = {
  // field notes
  SENDMSG: '5.3', RECVMSG: '5.3', SEND: '5.6', RECV: '5.6', PROVIDE_BUFFERS: '5.7', SOCKET: '5.19',
  SEND_ZC: '6.0', SENDMSG_ZC: '6.1', BIND: '6.11', LISTEN: '6.11', RECV_ZC: '6.15',
  // uapi
  MSG_RING: '5.18', URING_CMD: '5.19', READ_MULTISHOT: '6.7', WAITID: '6.7', FUTEX_WAIT: '6.7', FUTEX_WAKE: '6.7',
  FUTEX_WAITV: '6.7', FIXED_FD_INSTALL: '6.8', FTRUNCATE: '6.9', EPOLL_WAIT: '6.15', READV_FIXED: '6.15',
  WRITEV_FIXED: '6.15', PIPE: '6.16',
};
const ops = facts('opcodes');
expect('opcodes probe has the kernel\'s op list', ops !== null && Array.isArray(ops.supported), probe('opcodes')?.summary ?? 'no opcodes probe');
if (ops && Array.isArray(ops.supported)) {
  // ops from SENDMSG_ZC (6.1) on are the ones whose versions the table knows; older ones all exist here
  let expectedLast = -1;
  OPCODES.forEach((name, i) => {
    if (!(name in OP_SINCE) || has(OP_SINCE[name])) expectedLast = i;
  });
  expect(`last op is ${OPCODES[expectedLast]} (${expectedLast})`, ops.lastOp === expectedLast, `${ops.lastOpName} (${ops.lastOp})`);
  const expected = OPCODES.slice(0, expectedLast + 1);
  const missing = expected.filter((n) => !ops.supported.includes(n));
  const extra = ops.supported.filter((n) => !expected.includes(n));
  expect(`every op up to ${OPCODES[expectedLast]} supported, none after (${expected.length})`, missing.length === 0 && extra.length === 0,
    `missing ${missing.join(', ') || 'none'}; unexpected ${extra.join(', ') || 'none'}`);
  for (const [name, supported] of Object.entries(ops.ops ?? {})) {
    if (!(name in OP_SINCE)) continue;
    const want = has(OP_SINCE[name]);
    expect(`op ${name} ${want ? 'supported' : 'not supported'} (${OP_SINCE[name]})`, supported === want, supported);
  }
  if (has('6.0')) {
    expect('multishot RECVMSG works (6.0)', ops.multishotRecvmsg?.works === true, ops.multishotRecvmsg);
  }
}

// ---- other probes whose answer follows from the version -------------------------------------------
const si = facts('single-issuer');
if (has('6.0')) {
  expect('SINGLE_ISSUER enforced: another thread\'s submit gets EEXIST (6.0)', si?.otherThread?.enter === 'EEXIST', si?.otherThread ?? null);
}
if (has('5.15')) {
  expect('IORING_REGISTER_IOWQ_MAX_WORKERS accepted on both rings (5.15)', facts('worker-limit')?.result === 'ok', facts('worker-limit'));
}
if (['6.1', '6.12'].includes(kernel.join('.'))) {
  // field notes: Debian 6.1 and 6.12 do not charge rings to RLIMIT_MEMLOCK (measured)
  expect('rings not charged to RLIMIT_MEMLOCK (5.12+; measured on Debian 6.1 and 6.12)', facts('memlock')?.charged === false, facts('memlock')?.charged);
}
const lb = facts('loopback');
expect('loopback: every datagram intact over 127.0.0.1 and [::1]', lb?.ipv4?.result === 'ok' && lb?.ipv6?.result === 'ok',
  `${lb?.ipv4?.result ?? 'none'} / ${lb?.ipv6?.result ?? 'none'}`);

console.log(`=> ${total - failed} of ${total} expectations met for ${release}${failed ? `, ${failed} FAILED` : ''}`);
process.exit(failed === 0 ? 0 : 1);

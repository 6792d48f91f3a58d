// Probe `opcodes`: IORING_REGISTER_PROBE by name (SENDMSG/RECVMSG required), and multishot RECVMSG tried for real.
import { errnoName } from '../errno.js';
import { OPCODES } from '../kernel-abi.js';
import { loadAddon } from '../native.js';
import type { ProbeResult } from '../types.js';
import { probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

/** The data path cannot work without these. */
export const REQUIRED_OPS = ['SENDMSG', 'RECVMSG'] as const;
/** Reported by name, in this order (others the kernel knows are listed in facts.supported). */
export const NOTABLE_OPS = [
  'SENDMSG', 'RECVMSG', 'SEND', 'RECV', 'SEND_ZC', 'SENDMSG_ZC', 'PROVIDE_BUFFERS', 'SOCKET', 'BIND',
  'LISTEN', 'RECV_ZC', 'NOP', 'POLL_ADD', 'ASYNC_CANCEL', 'TIMEOUT', 'READ_MULTISHOT',
] as const;

/** Multishot RECVMSG with a provided buffer ring, tried for real. */
export type MultishotFacts = {
  /** datagrams arrived intact through one multishot RECVMSG */
  works: boolean;
  /** where it stopped: setup | socket | register-pbuf-ring | submit | recv | done */
  stage: string;
  errno: string | null;
  packetsSent: number;
  completions: number;
  moreFlag: boolean;
  bufferFlag: boolean;
  payloadOk: boolean;
};

/** Facts of the `opcodes` probe when IORING_REGISTER_PROBE works. */
export type OpcodesFacts = {
  lastOp: number;
  lastOpName: string | null;
  /** the notable ops by name: supported, not, or null when our ABI table does not name it */
  ops: Record<string, boolean | null>;
  /** every op the kernel reports supported, by name ('op N' when unnamed) */
  supported: string[];
  multishotRecvmsg: MultishotFacts;
};

/** Facts of the `opcodes` probe when IORING_REGISTER_PROBE is refused (< 5.6). */
export type OpcodesRefusedFacts = {
  /** the errno IORING_REGISTER_PROBE was refused with */
  probe: string;
  multishotRecvmsg: MultishotFacts;
};

export const opcodesProbe: ProbeSpec = {
  id: 'opcodes',
  title: 'Supported operations',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = opcodesProbe;
    const addon = loadAddon();
    const probe = await addon.probeOpcodes();
    const multishot = await addon.multishotRecvmsg({ timeoutMs: 1000 });
    const multishotFacts: MultishotFacts = {
      works: multishot.res === 0 && multishot.payloadOk,
      stage: multishot.stage,
      errno: multishot.res < 0 ? errnoName(multishot.res) : null,
      packetsSent: multishot.packetsSent,
      completions: multishot.completions,
      moreFlag: multishot.moreFlag,
      bufferFlag: multishot.bufferFlag,
      payloadOk: multishot.payloadOk,
    };
    if (probe.res < 0) {
      return probeResult(spec, {
        status: 'warn',
        summary: `IORING_REGISTER_PROBE refused with ${errnoName(probe.res)} (kernel < 5.6): operations cannot be listed`,
        reason: 'PROBE_UNSUPPORTED',
        errno: errnoName(probe.res),
        facts: { probe: errnoName(probe.res), multishotRecvmsg: multishotFacts } satisfies OpcodesRefusedFacts,
      });
    }
    const supportedByNumber = new Map(probe.ops.map((o) => [o.op, o.supported]));
    const byName: Record<string, boolean | null> = {};
    for (const name of NOTABLE_OPS) {
      const op = OPCODES.indexOf(name);
      // null: our ABI header does not know this op, so we cannot tell
      byName[name] = op < 0 ? null : (supportedByNumber.get(op) ?? false);
    }
    const nameOf = new Map(OPCODES.map((n, v) => [v, n]));
    const supported = probe.ops.filter((o) => o.supported).map((o) => nameOf.get(o.op) ?? `op ${o.op}`);
    const facts: OpcodesFacts = {
      lastOp: probe.lastOp,
      lastOpName: nameOf.get(probe.lastOp) ?? null,
      ops: byName,
      supported,
      multishotRecvmsg: multishotFacts,
    };
    const missing = REQUIRED_OPS.filter((name) => byName[name] !== true);
    if (missing.length > 0) {
      return probeResult(spec, {
        status: 'fail',
        summary: `${missing.join(' and ')} not supported: the seed's data path cannot run`,
        reason: 'OPCODE_MISSING',
        facts,
      });
    }
    const extras = ['SEND_ZC', 'SENDMSG_ZC', 'RECV_ZC', 'BIND'].filter((n) => byName[n] === true);
    return probeResult(spec, {
      status: 'pass',
      summary:
        `SENDMSG, RECVMSG supported (${supported.length} ops, last ${facts.lastOpName ?? probe.lastOp})` +
        (extras.length ? `; ${extras.join(', ')}` : '') +
        `; multishot RECVMSG ${multishotFacts.works ? 'works' : `does not work (${multishot.stage}${multishotFacts.errno ? ` ${multishotFacts.errno}` : ''})`}`,
      facts,
    });
  },
};

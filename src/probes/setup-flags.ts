// Probe `setup-flags`: io_uring_setup with each setup flag alone (and with its companion where the kernel needs one).
import { errnoName } from '../errno.js';
import { bitOf, SETUP_FLAGS } from '../kernel-abi.js';
import { loadAddon, type SetupFlagResult } from '../native.js';
import type { FactValue, ProbeResult } from '../types.js';
import { hex, probeResult } from './result.js';
import type { ProbeSpec } from './spec.js';

/** Flags tried, in order. */
export const TRIED_FLAGS = [
  'CLAMP', 'CQSIZE', 'SUBMIT_ALL', 'COOP_TASKRUN', 'TASKRUN_FLAG', 'SINGLE_ISSUER', 'DEFER_TASKRUN',
  'NO_MMAP', 'NO_SQARRAY', 'R_DISABLED', 'SQPOLL',
] as const;

/** Flags the kernel accepts only together with another one (io_uring_setup(2)). */
const COMPANION: Partial<Record<string, string>> = {
  TASKRUN_FLAG: 'COOP_TASKRUN',
  DEFER_TASKRUN: 'SINGLE_ISSUER',
};

const ENTRIES = 8;

/** Notes on what a refusal means for flags that need more than the flag itself. */
const NOTES: Partial<Record<string, string>> = {
  NO_MMAP:
    'tried with ring memory of ours (page-aligned: SQ/CQ rings at cq_off.user_addr, SQEs at sq_off.user_addr) and a NOP through it; ' +
    'without memory (null addresses) a kernel that knows the flag answers EFAULT, one that does not EINVAL',
  CQSIZE: `tried with cq_entries = ${ENTRIES * 4}`,
};

function outcome(r: SetupFlagResult): FlagOutcome {
  return r.res >= 0 ? { accepted: true, errno: null } : { accepted: false, errno: errnoName(r.res) };
}

/**
 * IORING_SETUP_NO_MMAP needs its companion arguments: the ring memory. Accepted = io_uring_setup
 * took our memory and a NOP went through it; `recognised` = the kernel knows the flag (EFAULT,
 * not EINVAL, for null addresses), which alone is not support.
 */
export function noMmapEntry(alone: SetupFlagResult, withMemory: SetupFlagResult): { accepted: boolean; entry: Partial<SetupFlagFacts> } {
  const nop = withMemory.nop;
  const nopOk = nop !== null && nop.enterRes === 1 && nop.cqeRes === 0;
  const accepted = withMemory.res >= 0 && nopOk;
  const aloneErrno = alone.res < 0 ? errnoName(alone.res) : null;
  return {
    accepted,
    entry: {
      alone: outcome(alone),
      recognised: alone.res >= 0 || aloneErrno === 'EFAULT' || withMemory.res >= 0,
      withMemory: {
        accepted: withMemory.res >= 0,
        errno: withMemory.res < 0 ? errnoName(withMemory.res) : null,
        nop: nop ? { enter: nop.enterRes < 0 ? errnoName(nop.enterRes) : nop.enterRes, cqe: nop.cqeRes } : null,
      },
    },
  };
}

/** io_uring_setup with a flag: accepted, or the errno it was refused with. */
export type FlagOutcome = { accepted: boolean; errno: string | null };

/** One setup flag, as the setup-flags probe tried it. */
export type SetupFlagFacts = {
  /** the flag's bit, hex */
  value?: string;
  /** the flag alone */
  alone?: FlagOutcome;
  /** with the flag the kernel needs beside it (TASKRUN_FLAG + COOP_TASKRUN, DEFER_TASKRUN + SINGLE_ISSUER) */
  withCompanion?: FlagOutcome & { flags: string[] };
  /** NO_MMAP: the kernel knows the flag (EFAULT with no memory, or accepted) */
  recognised?: boolean;
  /** NO_MMAP: tried with ring memory of ours, and a NOP through it */
  withMemory?: { accepted: boolean; errno: string | null; nop: FactValue };
  /** the verdict: accepted (alone, with its companion, or with memory); null when our table does not know the flag */
  accepted: boolean | null;
  errno?: string | null;
  note?: string;
};

/** Facts of the `setup-flags` probe. */
export type SetupFlagsFacts = {
  /** entries of each ring tried */
  entries: number;
  flags: Record<string, SetupFlagFacts>;
};

export const setupFlagsProbe: ProbeSpec = {
  id: 'setup-flags',
  title: 'Setup flags, one by one',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = setupFlagsProbe;
    const addon = loadAddon();
    const flags: Record<string, SetupFlagFacts> = {};
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const name of TRIED_FLAGS) {
      const bit = bitOf(SETUP_FLAGS, name);
      if (bit === undefined) {
        flags[name] = { accepted: null, errno: null, note: 'not in our ABI header' };
        continue;
      }
      const alone = await addon.trySetupFlags({
        flags: bit,
        entries: ENTRIES,
        cqEntries: name === 'CQSIZE' ? ENTRIES * 4 : undefined,
      });
      const entry: SetupFlagFacts = { value: hex(bit), alone: outcome(alone), accepted: false };
      let ok = alone.res >= 0;
      let refusedWith = alone.res < 0 ? errnoName(alone.res) : '';
      if (name === 'NO_MMAP') {
        const withMemory = await addon.trySetupFlags({ flags: bit, entries: ENTRIES, userMemory: true });
        const judged = noMmapEntry(alone, withMemory);
        Object.assign(entry, judged.entry);
        ok = judged.accepted;
        refusedWith = withMemory.res < 0 ? errnoName(withMemory.res) : 'NOP failed';
      }
      const companion = COMPANION[name];
      const companionBit = companion ? bitOf(SETUP_FLAGS, companion) : undefined;
      if (alone.res < 0 && companion && companionBit !== undefined) {
        const together = await addon.trySetupFlags({ flags: bit | companionBit, entries: ENTRIES });
        entry.withCompanion = { flags: [name, companion], ...outcome(together) };
        entry.note = `the kernel needs ${companion} with ${name}`;
        ok = together.res >= 0;
      }
      const note = NOTES[name];
      if (note) entry.note = entry.note ? `${String(entry.note)}; ${note}` : note;
      entry.accepted = ok;
      flags[name] = entry;
      const label = ok ? (alone.res < 0 ? (companion ? `${name}(+${companion})` : `${name}(+memory)`) : name) : `${name}:${refusedWith}`;
      (ok ? accepted : refused).push(label);
    }
    return probeResult(spec, {
      status: 'pass',
      summary: `accepted: ${accepted.join(' ') || 'none'}` + (refused.length ? `; refused: ${refused.join(' ')}` : ''),
      facts: { entries: ENTRIES, flags } satisfies SetupFlagsFacts,
    });
  },
};

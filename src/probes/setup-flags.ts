// Probe `setup-flags`: io_uring_setup with each setup flag alone (and with its companion where the kernel needs one).
import { errnoName } from '../errno.js';
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
  NO_MMAP: 'needs ring memory supplied by the caller; without it the kernel refuses even where it knows the flag',
  CQSIZE: `tried with cq_entries = ${ENTRIES * 4}`,
};

function outcome(r: SetupFlagResult): FactValue {
  return r.res >= 0 ? { accepted: true, errno: null } : { accepted: false, errno: errnoName(r.res) };
}

export const setupFlagsProbe: ProbeSpec = {
  id: 'setup-flags',
  title: 'Setup flags, one by one',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = setupFlagsProbe;
    const addon = loadAddon();
    const table = addon.abi().setupFlags;
    const flags: Record<string, FactValue> = {};
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const name of TRIED_FLAGS) {
      const bit = table[name];
      if (bit === undefined) {
        flags[name] = { accepted: null, errno: null, note: 'not in our ABI header' };
        continue;
      }
      const alone = await addon.trySetupFlags({
        flags: bit,
        entries: ENTRIES,
        cqEntries: name === 'CQSIZE' ? ENTRIES * 4 : undefined,
      });
      const entry: Record<string, FactValue> = { value: hex(bit), alone: outcome(alone) };
      let ok = alone.res >= 0;
      const companion = COMPANION[name];
      const companionBit = companion ? table[companion] : undefined;
      if (alone.res < 0 && companion && companionBit !== undefined) {
        const together = await addon.trySetupFlags({ flags: bit | companionBit, entries: ENTRIES });
        entry.withCompanion = { flags: [name, companion], ...(outcome(together) as Record<string, FactValue>) };
        entry.note = `the kernel needs ${companion} with ${name}`;
        ok = together.res >= 0;
      }
      const note = NOTES[name];
      if (note) entry.note = entry.note ? `${String(entry.note)}; ${note}` : note;
      entry.accepted = ok;
      flags[name] = entry;
      (ok ? accepted : refused).push(ok && alone.res < 0 ? `${name}(+${companion ?? ''})` : ok ? name : `${name}:${errnoName(alone.res)}`);
    }
    return probeResult(spec, {
      status: 'pass',
      summary: `accepted: ${accepted.join(' ') || 'none'}` + (refused.length ? `; refused: ${refused.join(' ')}` : ''),
      facts: { entries: ENTRIES, flags },
    });
  },
};

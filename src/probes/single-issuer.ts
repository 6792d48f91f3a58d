// Probe `single-issuer`: with IORING_SETUP_SINGLE_ISSUER, does a submit from another thread get EEXIST?
import { errnoName } from '../errno.js';
import { loadAddon } from '../native.js';
import type { ProbeResult } from '../types.js';
import { probeResult, resultName } from './result.js';
import type { ProbeSpec } from './spec.js';

function show(res: number | null): string | number | null {
  return res === null ? null : res < 0 ? errnoName(res) : res;
}

export const singleIssuerProbe: ProbeSpec = {
  id: 'single-issuer',
  title: 'SINGLE_ISSUER across threads',
  kernel: true,
  dependsOn: ['ring-setup'],
  async run(): Promise<ProbeResult> {
    const spec = singleIssuerProbe;
    const r = await loadAddon().singleIssuerCrossThread();
    const facts = {
      setup: resultName(r.setupRes),
      sameThread: { enter: show(r.sameThread.enterRes), cqe: show(r.sameThread.cqeRes) },
      otherThread: { enter: show(r.otherThread.enterRes), cqe: show(r.otherThread.cqeRes) },
    };
    if (r.setupRes < 0) {
      const errno = errnoName(r.setupRes);
      // Only EINVAL says the kernel does not know the flag; ENOMEM (memlock) or EPERM say nothing about it.
      const unknownFlag = errno === 'EINVAL';
      return probeResult(spec, {
        status: 'skip',
        summary: unknownFlag
          ? `SINGLE_ISSUER refused by io_uring_setup (EINVAL: this kernel does not know the flag, which came in 6.0): nothing to check`
          : `an 8-entry SINGLE_ISSUER ring could not be created (${errno}): nothing to check`,
        reason: unknownFlag ? 'NOT_SUPPORTED' : errno === 'ENOMEM' ? 'MEMLOCK_LIMIT' : 'PROBE_ERROR',
        errno,
        facts,
        remediation: unknownFlag ? null : undefined,
      });
    }
    const eexist = r.otherThread.enterRes === -17 || r.otherThread.cqeRes === -17;
    if (eexist) {
      return probeResult(spec, {
        status: 'pass',
        summary:
          'a submit from another thread fails with EEXIST: the kernel enforces SINGLE_ISSUER, which is why the seed leaves the flag out (Go moves goroutines between threads)',
        reason: 'SINGLE_ISSUER_EEXIST',
        errno: 'EEXIST',
        facts,
      });
    }
    return probeResult(spec, {
      status: 'pass',
      summary: `a submit from another thread was not refused (enter ${String(facts.otherThread.enter)}): SINGLE_ISSUER is not enforced here`,
      facts,
    });
  },
};

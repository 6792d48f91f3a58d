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
      return probeResult(spec, {
        status: 'skip',
        summary: `SINGLE_ISSUER refused by io_uring_setup (${errnoName(r.setupRes)}; needs 6.0): nothing to check`,
        reason: 'NOT_SUPPORTED',
        errno: errnoName(r.setupRes),
        facts,
        remediation: null,
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

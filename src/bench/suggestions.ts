// "What would help on this host": suggestions derived from figures measured in the same bench run.
import type { BenchCase, BenchResult } from './runner.js';

export interface Suggestion {
  id: 'batch-sends' | 'defer-taskrun' | 'enter-per-packet' | 'receive-pool-wakeups' | 'multishot' | 'gso' | 'seed-is-best';
  size: number;
  text: string;
  /** the figures behind the text, from this run */
  evidence: Record<string, number | string>;
}

/** Below this relative difference a comparison is within the noise of a 2-core machine. */
const NOISE = 0.1;

function pct(a: number, b: number): number {
  return b > 0 ? Math.round(((a - b) / b) * 100) : 0;
}
function kpps(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1000)}k`;
}

export function suggestionsFor(result: BenchResult): Suggestion[] {
  const out: Suggestion[] = [];
  for (const size of result.plan.sizes) {
    const at = (label: string): BenchCase | undefined =>
      result.cases.find((c) => c.size === size && c.label === label && c.figures !== null);
    const byMode = (mode: string, flags = 0): BenchCase | undefined =>
      result.cases.find((c) => c.size === size && c.mode === mode && c.ringFlags === flags && c.figures !== null);
    const pps = (c: BenchCase | undefined) => c?.figures?.rxPps.median ?? 0;
    const seed = byMode('seed');
    const batch = byMode('seed-batch', result.plan.ringFlags);
    const sys = byMode('syscall');
    const deferred = result.cases.find((c) => c.size === size && c.mode === 'seed' && c.ringFlags !== 0 && c.figures !== null);
    const multi = byMode('multishot', result.plan.ringFlags);
    const gso = at('gso');

    if (seed && batch && pps(batch) > pps(seed) * (1 + NOISE)) {
      out.push({
        id: 'batch-sends', size,
        text: `Send in batches (SendmsgBatch, ${result.plan.batch} SQEs per io_uring_enter): +${pct(pps(batch), pps(seed))}% received packets/s at ${size} B (seed ${kpps(pps(seed))} -> seed-batch ${kpps(pps(batch))}).`,
        evidence: { seedPps: Math.round(pps(seed)), seedBatchPps: Math.round(pps(batch)) },
      });
    }
    if (seed && deferred && pps(deferred) > pps(seed) * (1 + NOISE)) {
      out.push({
        id: 'defer-taskrun', size,
        text: `Create the seed's rings with SINGLE_ISSUER|DEFER_TASKRUN (6.1+; needs one thread per ring): +${pct(pps(deferred), pps(seed))}% at ${size} B (${kpps(pps(seed))} -> ${kpps(pps(deferred))}).`,
        evidence: { seedPps: Math.round(pps(seed)), deferTaskrunPps: Math.round(pps(deferred)) },
      });
    }
    if (seed?.figures && sys?.figures) {
      const s = seed.figures.senderCpuMsPerM.median;
      const b = sys.figures.senderCpuMsPerM.median;
      if (s > b * (1 + NOISE)) {
        out.push({
          id: 'enter-per-packet', size,
          text: `One io_uring_enter per packet costs the sender ${pct(s, b)}% more CPU per packet than plain sendmsg at ${size} B (${s.toFixed(0)} vs ${b.toFixed(0)} ms per million); batching the submits removes it.`,
          evidence: { seedSenderCpuMsPerM: Math.round(s), syscallSenderCpuMsPerM: Math.round(b) },
        });
      }
      const rs = seed.figures.receiverCpuMsPerM.median;
      const rb = sys.figures.receiverCpuMsPerM.median;
      if (rs > rb * (1 + NOISE)) {
        out.push({
          id: 'receive-pool-wakeups', size,
          text: `The pool of ${result.plan.depth} queued RECVMSG costs the receiver ${pct(rs, rb)}% more CPU per packet than blocking recvmsg at ${size} B (${rs.toFixed(0)} vs ${rb.toFixed(0)} ms per million): one wake-up per completion.`,
          evidence: { seedReceiverCpuMsPerM: Math.round(rs), syscallReceiverCpuMsPerM: Math.round(rb) },
        });
      }
    }
    const ref = batch ?? seed;
    if (ref && multi && pps(multi) > pps(ref) * (1 + NOISE)) {
      out.push({
        id: 'multishot', size,
        text: `Receive with one multishot RECVMSG on a provided-buffer ring: +${pct(pps(multi), pps(ref))}% over ${ref.label} at ${size} B (${kpps(pps(ref))} -> ${kpps(pps(multi))}).`,
        evidence: { basePps: Math.round(pps(ref)), multishotPps: Math.round(pps(multi)) },
      });
    }
    if (gso && sys && pps(gso) > pps(sys) * 1.5) {
      out.push({
        id: 'gso', size,
        text: `For bulk flows, UDP GSO (UDP_SEGMENT, ${gso.runs[0]?.gsoSegments ?? '?'} datagrams per send) with GRO moves ${(pps(gso) / pps(sys)).toFixed(1)}x the packets of plain sendmsg at ${size} B (${kpps(pps(sys))} -> ${kpps(pps(gso))}); no io_uring mode here comes near it.`,
        evidence: { syscallPps: Math.round(pps(sys)), gsoPps: Math.round(pps(gso)) },
      });
    }
    if (seed && result.best[size] === seed.label) {
      out.push({
        id: 'seed-is-best', size,
        text: `At ${size} B the seed's own way was the fastest measured (${kpps(pps(seed))}): nothing to gain here.`,
        evidence: { seedPps: Math.round(pps(seed)) },
      });
    }
  }
  return out;
}

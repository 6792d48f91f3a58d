// The JSON document of `uring-probe bench --json`: an explicit, versioned projection of a BenchResult.
import { jsonText } from '../report/terminal-safe.js';
import { release } from 'node:os';
import { toolInfo } from '../host.js';
import type { BenchResult } from './runner.js';
import { derive } from './runner.js';

export function benchJson(result: BenchResult): string {
  const doc = {
    schemaVersion: 1,
    kind: 'bench',
    tool: toolInfo(),
    kernelRelease: release(),
    plan: result.plan,
    cases: result.cases.map((c) => ({
      label: c.label,
      mode: c.mode,
      size: c.size,
      ringFlags: c.ringFlags,
      skipped: c.skipped,
      error: c.error,
      ratioToSyscall: c.ratioToSyscall,
      corrupt: c.corrupt,
      figures: c.figures,
      runs: c.runs.map((r) => ({
        res: r.res,
        stage: r.stage,
        sent: r.sent,
        received: r.received,
        corrupt: r.corrupt,
        rcvbufErrors: r.rcvbufErrors,
        senderElapsedUs: r.senderElapsedUs,
        receiveElapsedUs: r.receiveElapsedUs,
        senderCpuUs: r.senderCpuUs,
        receiverCpuUs: r.receiverCpuUs,
        sendRingFlags: r.sendRingFlags,
        recvRingFlags: r.recvRingFlags,
        rxPps: Math.round(derive(r).rxPps),
      })),
    })),
    pingPong: result.pingPong,
    best: result.best,
    suggestions: result.suggestions,
  };
  return `${jsonText(doc)}\n`;
}

// Human rendering of a bench run: median [min-max] per mode and size, ratio to syscall, ping-pong, suggestions.
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import type { BenchResult, Stat } from '../bench/runner.js';

export interface BenchHumanOptions {
  color: boolean;
}

function pps(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(0)}k`;
  return v.toFixed(0);
}

/** "271k [240k-290k]"; the bracket is left out when there was one run. */
function spread(s: Stat, fmt: (v: number) => string): string {
  if (s.min === s.max) return fmt(s.median);
  return `${fmt(s.median)} [${fmt(s.min)}-${fmt(s.max)}]`;
}

export function renderBenchHuman(result: BenchResult, opts: BenchHumanOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const lines: string[] = [];
  const p = result.plan;
  lines.push(
    c.bold('uring-probe bench') +
      ` — loopback UDP, ${p.durationMs} ms per run, ${p.repeat} repeat(s), batch ${p.batch}, receive pool ${p.depth}` +
      (p.ringFlags ? `, ring flags 0x${p.ringFlags.toString(16)}` : ''),
  );
  lines.push('received packets/s and CPU per million packets: median [min-max] over the repeats; ratio = median / syscall median');
  const table = new Table({
    head: ['mode', 'size', 'received pkt/s', 'Gbit/s', 'sent pkt/s', 'drops', 'rcvbuf errs', 'tx CPU ms/M', 'rx CPU ms/M', 'x syscall'],
    style: { head: opts.color ? ['cyan'] : [], border: opts.color ? ['grey'] : [] },
  });
  for (const bc of result.cases) {
    if (!bc.figures) {
      const why = bc.skipped ? `skipped: ${bc.skipped}` : `failed: ${bc.error ?? 'no result'}`;
      table.push([bc.label, `${bc.size}`, { colSpan: 8, content: c.yellow(why) }]);
      continue;
    }
    const f = bc.figures;
    const isBest = result.best[bc.size] === bc.label;
    table.push([
      isBest ? c.green(bc.label) : bc.label,
      `${bc.size}`,
      spread(f.rxPps, pps),
      f.gbps.median.toFixed(2),
      spread(f.txPps, pps),
      spread(f.drops, (v) => v.toFixed(0)),
      f.rcvbufErrors ? spread(f.rcvbufErrors, (v) => v.toFixed(0)) : 'n/a',
      spread(f.senderCpuMsPerM, (v) => v.toFixed(0)),
      spread(f.receiverCpuMsPerM, (v) => v.toFixed(0)),
      bc.ratioToSyscall === null ? '' : `${bc.ratioToSyscall.toFixed(2)}`,
    ]);
  }
  lines.push(table.toString());
  const corrupt = result.cases.reduce((a, bc) => a + bc.corrupt, 0);
  if (corrupt > 0) lines.push(c.red(`${corrupt} datagram(s) arrived corrupt (wrong length, header or trailer)`));
  // A case can have figures from the repeats that ran and still have failed in another: that fails
  // the command (exit 1), so it is said here, not only in --json.
  for (const bc of result.cases) {
    if (bc.figures && bc.error) lines.push(c.red(`${bc.label} at ${bc.size} B: a repeat failed: ${bc.error} (the figures are from the repeats that ran)`));
  }
  for (const size of p.sizes) {
    const best = result.best[size];
    if (best) lines.push(`best at ${size} B: ${c.bold(best)}`);
  }
  if (result.pingPong.length) {
    lines.push('');
    lines.push(c.bold('round-trip latency (ping-pong, one datagram in flight)'));
    const t = new Table({ head: ['mode', 'rounds', 'p50 µs', 'p99 µs', 'min µs', 'max µs'], style: { head: opts.color ? ['cyan'] : [], border: opts.color ? ['grey'] : [] } });
    for (const r of result.pingPong) {
      if (r.res !== 0) t.push([r.mode, { colSpan: 5, content: c.yellow(`failed at ${r.stage} (${r.res})`) }]);
      else t.push([r.mode, `${r.rounds}`, r.p50Us.toFixed(1), r.p99Us.toFixed(1), r.minUs.toFixed(1), r.maxUs.toFixed(1)]);
    }
    lines.push(t.toString());
  }
  lines.push('');
  lines.push(c.bold('What would help on this host'));
  if (result.suggestions.length === 0) lines.push('  nothing to suggest: no pair of modes compared in this run differed by more than 10%');
  for (const s of result.suggestions) lines.push(`  - ${s.text}`);
  lines.push('');
  lines.push(c.dim('Absolute figures move with the machine and the run; compare ratios within one run.'));
  return lines.join('\n') + '\n';
}

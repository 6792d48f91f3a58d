// `npm run bench:ratio`: how still the throughput ratio holds. Runs `uring-probe check --json`
// N times back to back (the interleaved measurement) and, alternating with it, the measurement
// the probe made before (one 600 ms block of seed, then one of syscall), and prints each run's
// ratio and the spread of both side by side. Not a test: it asserts nothing, it reports.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEngine } from '../src/bench/engine.js';
import { median } from '../src/bench/interval.js';
import { derive } from '../src/bench/runner.js';
import type { ThroughputFacts } from '../src/probes/throughput.js';
import type { Report } from '../src/types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'); // dist/bench -> package root
const cli = join(root, 'dist', 'bin', 'uring-probe.js');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench:ratio: --${name} needs a whole number >= 1, got '${process.argv[i + 1]}'`);
    process.exit(64);
  }
  return v;
}

interface Row {
  ratio: number;
  seed: number;
  syscall: number;
  detail: string;
}

function checkOnce(): Row {
  const r = spawnSync(process.execPath, [cli, 'check', '--json'], { encoding: 'utf8', timeout: 120_000 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`check --json printed no report (exit ${r.status}): ${r.stderr.trim().split('\n')[0] ?? ''}`);
  }
  const t = report.probes.find((p) => p.id === 'throughput');
  const f = t?.facts as ThroughputFacts | undefined;
  if (!f || typeof f.ratio !== 'number' || typeof f.seedPps !== 'number' || typeof f.syscallPps !== 'number') {
    throw new Error(`the throughput probe gave no ratio (${t?.status ?? 'absent'}): ${t?.summary ?? 'not in the report'}`);
  }
  const levels = (f.seedLevels ?? []).map((l) => `${l.slices}×${Math.round(l.pps / 1000)}k`).join(' ');
  return {
    ratio: f.ratio,
    seed: f.seedPps,
    syscall: f.syscallPps,
    detail: `interval ${f.ratioLow?.toFixed(2)}–${f.ratioHigh?.toFixed(2)} (${f.pairs} pairs), seed levels ${levels}`,
  };
}

async function blockOnce(durationMs: number): Promise<Row> {
  const engine = benchEngine();
  const seed = derive(await engine.run({ mode: 'seed', size: 64, durationMs })).rxPps;
  const syscall = derive(await engine.run({ mode: 'syscall', size: 64, durationMs })).rxPps;
  return { ratio: Math.round((seed / syscall) * 1000) / 1000, seed, syscall, detail: `one ${durationMs} ms block each` };
}

function spread(rows: Row[]): string {
  const ratios = rows.map((r) => r.ratio);
  const m = median(ratios);
  const devs = ratios.map((r) => (r / m - 1) * 100);
  const worst = Math.max(...devs.map(Math.abs));
  const verdict = worst <= 5 ? 'within ±5%' : `outside ±5% (${devs.filter((d) => Math.abs(d) > 5).length} of ${rows.length} runs)`;
  return `median ${m.toFixed(3)}, min ${Math.min(...ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}, worst deviation ${worst.toFixed(1)}%: ${verdict}`;
}

const runs = arg('runs', 10);
const blockMs = arg('block-ms', 600);
const interleaved: Row[] = [];
const blocks: Row[] = [];
const k = (x: number): string => `${Math.round(x / 1000)}k`;
console.log(`bench:ratio: ${runs} runs of \`uring-probe check --json\` (interleaved slices), each followed by the old block measurement (${blockMs} ms seed, then ${blockMs} ms syscall)`);
for (let i = 0; i < runs; i++) {
  const a = checkOnce();
  const b = await blockOnce(blockMs);
  interleaved.push(a);
  blocks.push(b);
  console.log(
    `run ${String(i + 1).padStart(2)}  check: ratio ${a.ratio.toFixed(3)} seed ${k(a.seed)} syscall ${k(a.syscall)} ${a.detail}` +
      `   |  block: ratio ${b.ratio.toFixed(3)} seed ${k(b.seed)} syscall ${k(b.syscall)}`,
  );
}
console.log(`interleaved (check): ${spread(interleaved)}`);
console.log(`block (before):      ${spread(blocks)}`);

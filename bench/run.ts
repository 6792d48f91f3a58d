// `npm run bench`: the engine against the plain C reference, same technique, alternated in one run, side by side.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { BENCH_MODES, benchEngine, isBenchMode, type BenchMode } from '../src/bench/engine.js';
import { derive, stat, type Stat } from '../src/bench/runner.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'); // dist/bench -> package root
const refSource = join(root, 'bench', 'reference', 'udp_loopback_ref.c');
// under dist/, not build/: a node-gyp rebuild wipes build/ (and would take the binary mid-run)
const refBinary = join(root, 'dist', 'bench-bin', 'udp_loopback_ref');

interface Sample {
  rxPps: number;
  senderCpuMsPerM: number;
  receiverCpuMsPerM: number;
  corrupt: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : def;
}

function buildReference(): void {
  mkdirSync(dirname(refBinary), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-pthread', '-o', refBinary, refSource], { stdio: 'inherit' });
}

function runReference(mode: BenchMode, size: number, durationMs: number, batch: number, depth: number): Sample {
  const out = execFileSync(refBinary, [mode, String(size), String(durationMs), String(batch), String(depth)], {
    encoding: 'utf8',
    timeout: durationMs + 10_000,
  });
  const r = JSON.parse(out.trim()) as {
    res: number; sent: number; received: number; corrupt: number; rxPps: number; senderCpuUs: number; receiverCpuUs: number;
  };
  if (r.res !== 0) throw new Error(`reference ${mode} ${size} B failed with ${r.res}`);
  return {
    rxPps: r.rxPps,
    senderCpuMsPerM: r.sent ? r.senderCpuUs / 1000 / (r.sent / 1e6) : 0,
    receiverCpuMsPerM: r.received ? r.receiverCpuUs / 1000 / (r.received / 1e6) : 0,
    corrupt: r.corrupt,
  };
}

async function runEngine(mode: BenchMode, size: number, durationMs: number, batch: number, depth: number): Promise<Sample> {
  const r = await benchEngine().run({ mode, size, durationMs, batch, depth });
  if (r.res !== 0 || r.skipped) throw new Error(`engine ${mode} ${size} B failed: ${r.stage} ${r.res} ${r.skipped ?? ''}`);
  const d = derive(r);
  return { rxPps: d.rxPps, senderCpuMsPerM: d.senderCpuMsPerM, receiverCpuMsPerM: d.receiverCpuMsPerM, corrupt: r.corrupt };
}

const failures: string[] = [];
/** A run that failed counts as a missing sample (NaN is left out of the medians) and is listed. */
function failed(err: unknown): Sample {
  failures.push((err as Error).message.split('\n')[0] ?? String(err));
  return { rxPps: NaN, senderCpuMsPerM: NaN, receiverCpuMsPerM: NaN, corrupt: 0 };
}

function fmt(s: Stat): string {
  const k = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${Math.round(v / 1000)}k`);
  return `${k(s.median)} [${k(s.min)}-${k(s.max)}]`;
}

async function main(): Promise<void> {
  const durationMs = Number(arg('duration', '1000'));
  const repeat = Number(arg('repeat', '3'));
  const batch = Number(arg('batch', '32'));
  const depth = Number(arg('depth', '64'));
  const sizes = arg('sizes', '64,1400').split(',').map(Number);
  const modes = arg('modes', BENCH_MODES.join(',')).split(',').filter(isBenchMode);
  buildReference();
  const samples = new Map<string, { engine: Sample[]; ref: Sample[] }>();
  const total = repeat * sizes.length * modes.length;
  let done = 0;
  for (let rep = 0; rep < repeat; rep++) {
    for (const size of sizes) {
      for (const mode of modes) {
        const key = `${mode}/${size}`;
        const entry = samples.get(key) ?? { engine: [], ref: [] };
        samples.set(key, entry);
        // alternate who goes first, so neither always gets the warmer (or the noisier) slot
        const eng = () => runEngine(mode, size, durationMs, batch, depth).catch(failed);
        const ref = async () => {
          try {
            return runReference(mode, size, durationMs, batch, depth);
          } catch (err) {
            return failed(err);
          }
        };
        if (rep % 2 === 0) {
          entry.engine.push(await eng());
          entry.ref.push(await ref());
        } else {
          entry.ref.push(await ref());
          entry.engine.push(await eng());
        }
        done++;
        if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} ${key}        `);
      }
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const table = new Table({
    head: ['mode', 'size', 'engine pkt/s', 'C reference pkt/s', 'engine/ref (pairs)', 'within 10%', 'tx CPU ms/M eng/ref', 'rx CPU ms/M eng/ref'],
    style: { head: [], border: [] },
  });
  for (const size of sizes) {
    for (const mode of modes) {
      const e = samples.get(`${mode}/${size}`);
      if (!e) continue;
      const es = stat(e.engine.map((s) => s.rxPps));
      const rs = stat(e.ref.map((s) => s.rxPps));
      // the ratio of each adjacent engine/reference pair, then the median: robust to slow drift
      const pairs = e.engine.map((s, i) => {
        const r = e.ref[i];
        return r && r.rxPps > 0 ? s.rxPps / r.rxPps : NaN;
      });
      const ratioStat = stat(pairs);
      const ratio = ratioStat.median;
      const cpu = (k: 'senderCpuMsPerM' | 'receiverCpuMsPerM') =>
        `${stat(e.engine.map((s) => s[k])).median.toFixed(0)} / ${stat(e.ref.map((s) => s[k])).median.toFixed(0)}`;
      table.push([mode, `${size}`, fmt(es), fmt(rs), `${ratio.toFixed(2)} [${ratioStat.min.toFixed(2)}-${ratioStat.max.toFixed(2)}]`, ratio >= 0.9 ? 'yes' : 'NO', cpu('senderCpuMsPerM'), cpu('receiverCpuMsPerM')]);
    }
  }
  process.stdout.write(`engine vs plain C reference: ${durationMs} ms runs, ${repeat} repeat(s), median [min-max] received pkt/s; engine/ref = median of the per-pair ratios\n`);
  process.stdout.write(table.toString() + '\n');
  const corrupt = [...samples.values()].flatMap((e) => [...e.engine, ...e.ref]).reduce((a, s) => a + s.corrupt, 0);
  for (const f of failures) process.stdout.write(`failed run: ${f}\n`);
  if (corrupt) process.stdout.write(`WARNING: ${corrupt} corrupt datagrams seen\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});

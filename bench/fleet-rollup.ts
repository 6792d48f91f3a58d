// Benchmark: generate 10,000 host reports from the fixtures and time `uring-probe fleet` rolling them up (files and NDJSON).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from '../src/types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'uring-probe.js');
const COUNT = Number(process.argv[2] ?? 10_000);

const templates = ['6.18-compatible.json', '6.1-upgraded-from-5.10.json', '5.10-no-coop-taskrun.json', '6.1-docker-seccomp.json', '6.8-seccomp-kill-sigsys.json']
  .map((f) => JSON.parse(readFileSync(join(ROOT, 'fixtures', 'reports', f), 'utf8')) as Report);
/** How often each template appears: mostly healthy fleets, some old kernels, a few blocked hosts. */
const weights = [50, 25, 15, 7, 3];

/** Deterministic pseudo-random numbers (mulberry32), so every run generates the same fleet. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(dir: string): { files: number; ndjson: string; bytes: number } {
  const random = rng(42);
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    let pick = random() * 100;
    let t = 0;
    while (pick >= weights[t]! && t < weights.length - 1) pick -= weights[t++]!;
    const r = structuredClone(templates[t]!);
    r.host.hostname = `host-${String(i).padStart(5, '0')}`;
    r.host.machineIdHash = (i * 2654435761 >>> 0).toString(16).padStart(8, '0') + (i % 65536).toString(16).padStart(8, '0');
    r.startedAt = new Date(Date.UTC(2026, 10, 20) + Math.floor(random() * 86_400_000)).toISOString();
    const tp = r.probes.find((p) => p.id === 'throughput');
    if (tp && typeof tp.facts['seedPps'] === 'number') {
      const k = 0.6 + random() * 0.8;
      tp.facts['seedPps'] = Math.round((tp.facts['seedPps'] as number) * k);
      tp.facts['syscallPps'] = Math.round((tp.facts['syscallPps'] as number) * (0.8 + random() * 0.4));
      tp.facts['ratio'] = Math.round(((tp.facts['seedPps'] as number) / (tp.facts['syscallPps'] as number)) * 1000) / 1000;
    }
    const text = JSON.stringify(r, null, 2);
    bytes += text.length;
    writeFileSync(join(dir, `${r.host.hostname}.json`), text);
    lines.push(JSON.stringify(r));
  }
  const ndjson = join(dir, '..', `fleet-${process.pid}.ndjson`);
  writeFileSync(ndjson, `${lines.join('\n')}\n`);
  return { files: COUNT, ndjson, bytes };
}

function timeRun(label: string, args: string[]): void {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [CLI, 'fleet', ...args, '--format', 'json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status === null || ![0, 2, 4, 6].includes(run.status)) throw new Error(`fleet failed (${run.status}): ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as { inputs: { documents: number; hosts: number; skipped: number }; byVerdict: Record<string, number>; throughput: { seedPps: { p5: number; p50: number; p95: number } | null } };
  const tp = doc.throughput.seedPps;
  console.log(`${label.padEnd(22)} ${seconds.toFixed(2)} s  (${doc.inputs.documents} documents, ${doc.inputs.hosts} hosts, ${doc.inputs.skipped} skipped; ` +
    `verdicts ${Object.entries(doc.byVerdict).map(([k, v]) => `${k} ${v}`).join(', ')}; seed pps p5/p50/p95 ${tp ? `${tp.p5}/${tp.p50}/${tp.p95}` : '-'}; exit ${run.status})`);
}

const dir = mkdtempSync(join(tmpdir(), 'uring-fleet-bench-'));
try {
  const t0 = process.hrtime.bigint();
  const { files, ndjson, bytes } = generate(dir);
  console.log(`generated ${files} reports (${(bytes / 1e6).toFixed(1)} MB of JSON) in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  timeRun('fleet DIR (files)', [dir]);
  timeRun('fleet FILE.ndjson', [ndjson]);
  rmSync(ndjson, { force: true });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Probe child process: runs the requested kernel probes in order, streaming NDJSON results on stdout.
//
// Request (stdin, one JSON document): { probeIds, options, results } — results are those of the
// probes that already ran (environment included). Output (stdout, one JSON object per line):
// { type: 'start', id } before each probe, { type: 'result', result } after it, { type: 'done' }.
// Nothing else may write to stdout; the parent treats a death between 'start' and 'result' as
// that probe's failure (signal, exit, or its time bound).
import { fstatSync } from 'node:fs';
import { loadAddon } from '../native.js';
import { probeById } from '../probes/index.js';
import { applyMemlock } from '../probes/memlock.js';
import { probeErrorResult, runProbe } from '../probes/result.js';
import type { CheckOptions } from '../probes/spec.js';
import { isSingleExecutable } from '../runtime.js';
import type { ProbeResult } from '../types.js';

export interface ChildRequest {
  probeIds: string[];
  options: CheckOptions;
  results: ProbeResult[];
}

export type ChildMessage =
  | { type: 'start'; id: string }
  | { type: 'result'; result: ProbeResult }
  | { type: 'done' };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(`${JSON.stringify(message)}\n`, () => resolve());
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** fd 3, when the parent passed one, is the breadcrumb page (native/breadcrumb.h). */
const BREADCRUMB_FD = 3;

/**
 * Put this process's kernel thread in the service's shoes before any probe runs. The memlock
 * limit waits for the memlock probe when it runs in this child: it measures under the inherited
 * limit first, because a lowered hard limit cannot be raised again.
 */
function applyContext(request: ChildRequest): void {
  const ctx = request.options.context;
  let addon: ReturnType<typeof loadAddon> | null = null;
  try {
    if (fstatSync(BREADCRUMB_FD).isFile()) {
      addon = loadAddon();
      addon.setBreadcrumbFd(BREADCRUMB_FD);
    }
  } catch {
    /* no fd 3: run without a breadcrumb page */
  }
  if (!ctx) return;
  addon ??= loadAddon();
  const set = addon.setContext({
    ...(ctx.ids ? { uid: ctx.ids.uid, gid: ctx.ids.gid, groups: ctx.ids.groups } : {}),
    ...(ctx.capsMask !== null ? { caps: ctx.capsMask } : {}),
    ...(ctx.bpfBase64 !== null ? { bpf: Buffer.from(ctx.bpfBase64, 'base64') } : {}),
  });
  if (set.res < 0) throw new Error(`could not enter the service's context: ${set.stage} failed (errno ${-set.res})`);
  if (ctx.memlock && request.probeIds[0] !== 'memlock') applyMemlock(ctx.memlock);
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as ChildRequest;
  applyContext(request);
  const results = new Map<string, ProbeResult>(request.results.map((r) => [r.id, r]));
  for (const id of request.probeIds) {
    await send({ type: 'start', id });
    const spec = probeById(id);
    const result = spec
      ? await runProbe(spec, { options: request.options, results })
      : probeErrorResult({ id, title: id }, new Error(`no probe with id '${id}'`));
    results.set(id, result);
    await send({ type: 'result', result });
  }
  await send({ type: 'done' });
}

/** Serves one request from the parent (src/check.ts), then exits: 0, or 70 on an internal failure. */
export function runProbeChild(): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`probe child: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(70);
    },
  );
}

// `node dist/src/child/probe-child.js`: run. In the single executable, src/sea/entry.ts calls
// runProbeChild() when given the hidden child argument.
if (!isSingleExecutable()) runProbeChild();

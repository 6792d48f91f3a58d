// Probe child process: runs the requested kernel probes in order, streaming NDJSON results on stdout.
//
// Request (stdin, one JSON document on one line; the parent keeps stdin open after it and its end
// means the parent is gone): { probeIds, options, results } — results are those of the
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

/**
 * The request: stdin up to its first newline (src/check.ts writes one line and keeps the pipe
 * open), or up to its end (a request written and closed, as by hand). `open`: the pipe is still
 * open after the request, so its end means the parent is gone.
 */
function readRequest(): Promise<{ text: string; open: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const finish = (open: boolean, rest: Buffer | null): void => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.off('error', onError);
      process.stdin.pause();
      resolve({ text: Buffer.concat(rest ? [...chunks, rest] : chunks).toString('utf8'), open });
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        chunks.push(chunk);
        return;
      }
      finish(true, chunk.subarray(0, nl));
    };
    const onEnd = (): void => finish(false, null);
    const onError = (err: Error): void => reject(err);
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.on('error', onError);
  });
}

/**
 * The parent is gone (its end of stdin closed, or stdout's reader went away): die at once. Not
 * process.exit(): that joins the libuv thread pool, where a throughput run's native threads may
 * still be sending for up to its duration; SIGKILL ends them with the process, and nobody is left
 * to read the exit status.
 */
function parentGone(): void {
  process.kill(process.pid, 'SIGKILL');
}

/**
 * Die with the parent, whichever way it ends (even SIGKILL, which it cannot handle): the kernel
 * closes its end of the stdin pipe, and the 'end' arrives here while a probe awaits its native
 * worker. (prctl(PR_SET_PDEATHSIG) is not reachable from JavaScript.)
 */
function watchParent(): void {
  process.stdin.on('end', parentGone);
  process.stdin.on('error', parentGone);
  process.stdin.resume();
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
  const read = await readRequest();
  if (read.open) watchParent();
  process.stdout.on('error', parentGone);
  const request = JSON.parse(read.text) as ChildRequest;
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

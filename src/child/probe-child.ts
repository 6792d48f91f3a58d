// Probe child process: runs the requested kernel probes in order, streaming NDJSON results on stdout.
//
// Request (stdin, one JSON document): { probeIds, options, results } — results are those of the
// probes that already ran (environment included). Output (stdout, one JSON object per line):
// { type: 'start', id } before each probe, { type: 'result', result } after it, { type: 'done' }.
// Nothing else may write to stdout; the parent treats a death between 'start' and 'result' as
// that probe's failure (signal, exit, or its time bound).
import { probeById } from '../probes/index.js';
import { probeErrorResult, runProbe } from '../probes/result.js';
import type { CheckOptions } from '../probes/spec.js';
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

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as ChildRequest;
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

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`probe child: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);

// `uring-probe explain [ID]`: what a probe id or reason code means, what it checks / when it is given,
// the kernel that brought the feature concerned, and the fix (src/explain/catalog.ts); `explain seed` and
// `explain seed:ID`: what the port found in the seed (src/seed/findings.ts).
import { jsonText } from '../report/terminal-safe.js';
import { commandEpilogue } from '../cli/help.js';
import { Chalk, type ChalkInstance } from 'chalk';
import type { Argv } from 'yargs';
import {
  explainCatalog,
  findAnyEntry,
  isSeedId,
  seedFindingEntries,
  SEED_PREFIX,
  suggestIds,
  suggestSeedIds,
  type ExplainEntry,
  type KernelNote,
  type SeedFindingEntry,
} from '../explain/catalog.js';
import { wrapAfter } from '../report/human.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';

/** Wrap `text` to `width`, the first line after `head`, the rest indented by head's width. */
function wrap(head: string, text: string, width: number): string {
  return wrapAfter(head, text, width).join('\n');
}

function kernelText(k: KernelNote): string {
  const since = k.since === null ? 'release not known' : `Linux ${k.since}`;
  const how = k.confidence === 'unverified' ? ' (unverified)' : k.confidence === 'measured' ? ' (measured, not from a primary source)' : '';
  return `${k.feature}: ${since}${how}${k.note ? `; ${k.note}` : ''}`;
}

const LABEL = 10;

function renderEntry(e: ExplainEntry, width: number, c: ChalkInstance): string {
  const row = (label: string, text: string): string => wrap(`  ${label.padEnd(LABEL)}`, text, width);
  const out: string[] = [];
  out.push(`${c.bold(e.id)}  ${e.kind === 'probe' ? 'probe' : 'reason code'}: ${e.title}`);
  out.push('');
  out.push(row('Means', e.meaning));
  if (e.kind === 'probe') {
    out.push(row('Checks', e.checks));
    out.push(row('Runs', e.kernelProbe ? 'in the probe child process (it touches the kernel)' : 'in the CLI\'s own process (it does not touch io_uring)'));
    if (e.dependsOn.length > 0) out.push(row('Needs', `${e.dependsOn.join(', ')} (skipped with DEPENDENCY_FAILED when one failed)`));
  } else {
    out.push(row('When', e.when));
    out.push(row('Given by', e.givenBy.length > 0 ? e.givenBy.join(', ') : 'no probe today'));
  }
  if (e.kernel.length === 0) {
    out.push(row('Kernel', e.kernelNote ?? 'not a matter of kernel version'));
  } else {
    e.kernel.forEach((k, i) => out.push(row(i === 0 ? 'Kernel' : '', kernelText(k))));
    if (e.kernelNote) out.push(row('', e.kernelNote));
  }
  if (e.kind === 'probe' && e.reasons.length > 0) out.push(row('Reasons', e.reasons.join(', ')));
  out.push(row('Fix', e.fix));
  out.push('');
  out.push(e.kind === 'probe' ? 'uring-probe explain CODE explains a reason code.' : 'uring-probe explain PROBE explains a probe.');
  return `${out.join('\n')}\n`;
}

function renderList(entries: readonly ExplainEntry[], c: ChalkInstance): string {
  const probes = entries.filter((e) => e.kind === 'probe');
  const reasons = entries.filter((e) => e.kind === 'reason');
  const pad = Math.max(...entries.map((e) => e.id.length)) + 2;
  const out: string[] = [];
  out.push(c.bold('Probes') + ' (in the order `uring-probe check` runs them):');
  for (const e of probes) out.push(`  ${e.id.padEnd(pad)}${e.title}`);
  out.push('');
  out.push(c.bold('Reason codes') + ' (a report\'s `reason` when a probe is not a plain pass):');
  for (const e of reasons) out.push(`  ${e.id.padEnd(pad)}${e.title}`);
  out.push('');
  out.push('uring-probe explain ID for what it means, what it checks or when it is given, the kernel and the fix (ID is case-insensitive).');
  out.push(`uring-probe explain seed lists what the port found in the seed (${seedFindingEntries().length} findings).`);
  return `${out.join('\n')}\n`;
}

function renderSeedFinding(e: SeedFindingEntry, width: number, c: ChalkInstance): string {
  const row = (label: string, text: string): string => wrap(`  ${label.padEnd(LABEL)}`, text, width);
  const out: string[] = [];
  out.push(`${c.bold(`${SEED_PREFIX}${e.id}`)}  seed finding: ${e.title}`);
  out.push('');
  out.push(row('Seed', e.seed));
  out.push(row('Go', e.goSymbols.join(', ')));
  e.evidence.forEach((q, i) => out.push(row(i === 0 ? 'Evidence' : '', `"${q}"`)));
  out.push(row('Effect', e.consequence));
  out.push(row('When', e.conditions));
  e.kernel.forEach((k, i) => out.push(row(i === 0 ? 'Kernel' : '', kernelText(k))));
  out.push(row('Fix (Go)', e.fix));
  out.push(row('Port', e.port));
  out.push('');
  out.push('uring-probe explain seed lists every finding.');
  return `${out.join('\n')}\n`;
}

function renderSeedList(entries: readonly SeedFindingEntry[], c: ChalkInstance): string {
  const pad = Math.max(...entries.map((e) => e.id.length)) + 2;
  const out: string[] = [];
  out.push(c.bold('What the port found in the seed') + ' (the Go io_uring ring that native/ reproduces; reports list these ids in `seedFindings`):');
  for (const e of entries) out.push(`  ${e.id.padEnd(pad)}${e.title}`);
  out.push('');
  out.push(
    'uring-probe explain seed:ID for what the seed does, the evidence, the consequence, the kernels, the fix in Go and what the port does instead.',
  );
  return `${out.join('\n')}\n`;
}

function idArg(argv: Record<string, unknown>): string | null {
  const id = argv['id'];
  if (id === undefined) return null;
  return String(id);
}

export const explainCommand: CliCommand = {
  command: 'explain [id]',
  describe:
    'What a probe id or reason code means, what it checks or when it is given, the kernel that brought it, and the fix; `explain seed`: what the port found in the seed',
  builder(yargs: Argv): Argv {
    return yargs
      .positional('id', {
        type: 'string',
        describe: 'A probe id (ring-setup), a reason code (SECCOMP_BLOCKED) or seed:FINDING, case-insensitive; `seed`: the seed findings; none: list them all',
      })
      .option('json', { type: 'boolean', describe: 'Print a JSON object (one entry, or {"entries": [...]} without ID); same as --format json' })
      .option('format', { type: 'string', choices: ['human', 'json'], describe: 'Output format' })
      .option('output', outputOption('the explanation'))
      .epilogue(
        commandEpilogue('explain', [
          { cmd: '$0 explain', what: 'every probe id and reason code, one line each' },
          { cmd: '$0 explain seccomp_blocked', what: 'what it means, when it is given, the kernel, the fix' },
          { cmd: '$0 explain ring-setup --json', what: 'the same as JSON' },
          { cmd: '$0 explain --json -o reasons.json', what: 'every entry as one JSON document, to a file' },
          { cmd: '$0 explain seed', what: 'what the port found in the seed, one line each' },
          { cmd: '$0 explain seed:full-sq-waits-forever', what: 'what the seed does, the consequence, the kernels, the fix and the port' },
        ]),
      );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const json = formatFrom<'human' | 'json'>(argv) === 'json';
    const output = outputPath(argv, 'explain.json');
    if (output !== null) assertWritableOutput(output);
    const done = (text: string): number => emit(io, output, text, { reached: 'the explanation was made (exit 0)', lost: 'it was not written', exitCode: 0 });
    const color = useColor(io, output !== null);
    const c = new Chalk({ level: color ? 1 : 0 });
    const width = io.columns !== undefined && io.columns >= 40 ? Math.min(io.columns, 110) : 100;
    const id = idArg(argv);
    if (id === null) {
      const entries = explainCatalog();
      return done(json ? `${jsonText({ entries })}\n` : renderList(entries, c));
    }
    const wantsSeed = isSeedId(id);
    if (wantsSeed && /^seed:?$/i.test(id.trim())) {
      const entries = seedFindingEntries();
      return done(json ? `${jsonText({ entries })}\n` : renderSeedList(entries, c));
    }
    const entry = findAnyEntry(id);
    if (!entry && wantsSeed) {
      const near = suggestSeedIds(id);
      throw new UsageError(
        `unknown seed finding '${id}'`,
        near.length > 0
          ? `did you mean ${near.join(', ')}? (\`uring-probe explain seed\` lists them all)`
          : 'run `uring-probe explain seed` for the list of seed findings',
      );
    }
    if (!entry) {
      const near = suggestIds(id);
      throw new UsageError(
        `unknown probe id or reason code '${id}'`,
        near.length > 0
          ? `did you mean ${near.join(', ')}? (\`uring-probe explain\` lists them all)`
          : 'run `uring-probe explain` for the list of probe ids and reason codes',
      );
    }
    const text = entry.kind === 'seed-finding' ? renderSeedFinding(entry, width, c) : renderEntry(entry, width, c);
    return done(json ? `${jsonText(entry)}\n` : text);
  },
};

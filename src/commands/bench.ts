// `uring-probe bench`: every engine mode over loopback, repeated, as a table of median [min-max] (or JSON).
import { commandEpilogue } from '../cli/help.js';
import cliProgress from 'cli-progress';
import type { Argv } from 'yargs';
import { BENCH_MODES, isBenchMode, MAX_SIZE, MIN_SIZE, type BenchMode } from '../bench/engine.js';
import { benchJson } from '../bench/json.js';
import { DEFAULT_PLAN, parseRingFlags, RING_FLAG_BITS, runBench, type BenchPlan } from '../bench/runner.js';
import { renderBenchHuman } from '../report/bench-human.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';

export const BENCH_FORMATS = ['human', 'json'] as const;
type BenchFormat = (typeof BENCH_FORMATS)[number];

/** "a,b" or ['a', 'b,c'] -> ['a', 'b', 'c'] */
function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function wholeNumber(flag: string, value: unknown, min: number, max: number, example: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number between ${min} and ${max}, got '${String(value)}'`, `pass e.g. --${flag} ${example}`);
  }
  return n;
}

export function benchPlanFrom(argv: Record<string, unknown>): BenchPlan {
  const modeNames = listOf(argv.modes);
  if (argv.modes !== undefined && modeNames.length === 0) {
    throw new UsageError('--modes names no mode', `choose from ${BENCH_MODES.join(', ')}, or leave --modes out for all`);
  }
  const modes: BenchMode[] = [];
  for (const m of modeNames.length ? modeNames : DEFAULT_PLAN.modes) {
    if (!isBenchMode(m)) throw new UsageError(`unknown mode '${m}' in --modes`, `choose from ${BENCH_MODES.join(', ')}`);
    if (!modes.includes(m)) modes.push(m);
  }
  const sizeNames = listOf(argv.size);
  if (argv.size !== undefined && sizeNames.length === 0) {
    throw new UsageError('--size names no size', 'pass e.g. --size 64,1400, or leave --size out');
  }
  const sizes = (sizeNames.length ? sizeNames : DEFAULT_PLAN.sizes.map(String)).map((s) =>
    wholeNumber('size', s, MIN_SIZE, MAX_SIZE, 1400),
  );
  const flagsText = argv['ring-flags'];
  let ringFlags = 0;
  if (flagsText !== undefined) {
    const parsed = parseRingFlags(String(flagsText));
    if (parsed === null) {
      throw new UsageError(`--ring-flags '${String(flagsText)}' is not a list of io_uring setup flags`, `pass some of ${Object.keys(RING_FLAG_BITS).join(', ')} (names or their bits), e.g. --ring-flags SINGLE_ISSUER,DEFER_TASKRUN`);
    }
    ringFlags = parsed;
  }
  return {
    modes,
    sizes: [...new Set(sizes)],
    durationMs: wholeNumber('duration', argv.duration ?? DEFAULT_PLAN.durationMs, 50, 60_000, 1000),
    repeat: wholeNumber('repeat', argv.repeat ?? DEFAULT_PLAN.repeat, 1, 100, 3),
    batch: wholeNumber('batch', argv.batch ?? DEFAULT_PLAN.batch, 1, 1024, 32),
    depth: wholeNumber('depth', argv.depth ?? DEFAULT_PLAN.depth, 1, 2048, 64),
    ringFlags,
    compareFlags: argv['compare-flags'] !== false && modes.includes('seed'),
    pingPong: argv['ping-pong'] !== false,
  };
}

export const benchCommand: CliCommand = {
  command: 'bench',
  describe: 'Measure loopback UDP throughput of every technique (the seed\'s rings, syscalls, mmsg, multishot, GSO)',
  builder(yargs: Argv): Argv {
    return yargs
      .option('modes', { type: 'string', describe: `Comma-separated modes (${BENCH_MODES.join(', ')}); default all` })
      .option('size', { type: 'string', array: true, describe: 'Datagram payload size(s) in bytes, e.g. --size 64,1400 (default 64 and 1400)' })
      .option('duration', { requiresArg: true, default: DEFAULT_PLAN.durationMs, describe: 'Milliseconds the sender sends in each run' })
      .option('repeat', { requiresArg: true, default: DEFAULT_PLAN.repeat, describe: 'Runs per mode and size (the table shows median [min-max])' })
      .option('batch', { requiresArg: true, default: DEFAULT_PLAN.batch, describe: 'Datagrams per batched send / recvmmsg' })
      .option('depth', { requiresArg: true, default: DEFAULT_PLAN.depth, describe: 'The seed\'s receive pool size (queued RECVMSG)' })
      .option('ring-flags', { type: 'string', requiresArg: true, describe: 'Extra io_uring setup flags for seed, seed-batch and multishot, e.g. SINGLE_ISSUER,DEFER_TASKRUN' })
      .option('compare-flags', { type: 'boolean', default: true, describe: 'Also run seed with the other flag choice (SINGLE_ISSUER|DEFER_TASKRUN vs none)' })
      .option('ping-pong', { type: 'boolean', default: true, describe: 'Measure round-trip latency for seed and syscall' })
      .option('json', { type: 'boolean', describe: 'Print the results as one JSON document (same as --format json)' })
      .option('format', { type: 'string', choices: [...BENCH_FORMATS], describe: 'Output format' })
      .option('output', outputOption('the results'))
      .epilogue(
        commandEpilogue('bench', [
          { cmd: '$0 bench', what: 'every mode, 64 and 1400 B, 3 x 1 s each' },
          { cmd: '$0 bench --modes seed,syscall --size 1400 --duration 3000', what: 'the seed against plain syscalls, 1400-byte datagrams, 3 s runs' },
          { cmd: '$0 bench --json -o bench.json', what: 'the results as one JSON document, to a file' },
        ]),
      );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const format = formatFrom<BenchFormat>(argv);
    const plan = benchPlanFrom(argv);
    const output = outputPath(argv, 'bench.json');
    if (output !== null) assertWritableOutput(output);
    let bar: cliProgress.SingleBar | null = null;
    if (io.stderrIsTTY) {
      bar = new cliProgress.SingleBar(
        { stream: io.stderr as NodeJS.WriteStream, format: 'bench [{bar}] {value}/{total} {label}', clearOnComplete: true, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
    }
    let started = false;
    const result = await runBench(plan, (p) => {
      if (!bar) return;
      if (!started) {
        bar.start(p.total, p.done, { label: p.label });
        started = true;
      } else bar.update(p.done, { label: p.label });
    }).finally(() => bar?.stop());
    const text = format === 'json' ? benchJson(result) : renderBenchHuman(result, { color: useColor(io, output !== null) });
    const failed = result.cases.some((c) => c.error !== null) || result.cases.some((c) => c.corrupt > 0);
    return emit(io, output, text, {
      reached: `the bench ${failed ? 'had a failed mode or corrupt data (exit 1)' : 'ran every mode intact (exit 0)'}`,
      lost: 'its results are lost',
      exitCode: failed ? 1 : 0,
    });
  },
};

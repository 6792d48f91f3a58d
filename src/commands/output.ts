// Where a command's rendered text goes (stdout, or --output FILE: atomically for a file, straight to a
// device or FIFO) and whether it may be coloured.
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname } from 'node:path';
import { describeWriteError, refusalOf, resolveOutput, writeOutput } from '../report/atomic-write.js';
import { EXIT } from '../types.js';
import { UsageError } from '../usage-error.js';
import type { CommandIo } from './index.js';

/**
 * The output format: `--json` is the short form of `--format json`, and the two together with another
 * format are a contradiction. The choices themselves are checked by yargs.
 */
export function formatFrom<F extends string>(argv: Record<string, unknown>): F | 'json' | 'human' {
  const format = argv['format'] as F | undefined;
  if (argv['json'] === true) {
    if (format !== undefined && format !== 'json') {
      throw new UsageError(`--json contradicts --format ${format}`, 'pass only one of them');
    }
    return 'json';
  }
  return format ?? 'human';
}

/** The --output/-o option of every command that prints a document; `what` e.g. 'the report'. */
export function outputOption(what: string) {
  return {
    alias: 'o',
    type: 'string',
    describe: `Write ${what} to FILE instead of stdout (- is stdout): a file atomically, a device or FIFO directly`,
  } as const;
}

/** --output FILE as given, or null for stdout (no --output, or `-o -`); an empty --output is a usage error. */
export function outputPath(argv: Record<string, unknown>, example: string): string | null {
  const value = argv['output'];
  if (value === undefined || value === '-') return null;
  if (typeof value !== 'string' || value === '') {
    throw new UsageError('--output needs a file name', `pass e.g. --output ${example}, or - for stdout`);
  }
  return value;
}

/**
 * Whether a lone `-` on the command line names stdin; the `-` of `-o -` / `--output -` (stdout) does
 * not (yargs-parser drops a lone `-` positional, so the commands look for it on the command line).
 */
export function stdinDashGiven(args: readonly string[] = process.argv.slice(2)): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return args.slice(i + 1).includes('-');
    if (args[i] === '-' && args[i - 1] !== '-o' && args[i - 1] !== '--output') return true;
  }
  return false;
}

const OUTPUT_HINT = 'choose a file in an existing writable directory, a character device or a FIFO, or - for stdout';

/**
 * Fail fast, before any work, when --output cannot be written: a new or regular file needs a
 * writable directory (after its symlinks are followed), a device or FIFO write permission; a
 * directory, socket or block device is refused with its kind.
 */
export function assertWritableOutput(path: string): void {
  try {
    const target = resolveOutput(path);
    const refusal = refusalOf(target);
    if (refusal) throw refusal;
    const mustWrite = target.kind === 'new' || target.kind === 'file' ? dirname(target.path) : target.path;
    accessSync(mustWrite, fsConstants.W_OK);
  } catch (err) {
    throw new UsageError(describeWriteError(path, err), OUTPUT_HINT);
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (https://no-color.org). */
export function useColor(io: CommandIo, toFile: boolean): boolean {
  const noColor = io.env['NO_COLOR'];
  return !toFile && io.stdoutIsTTY && (noColor === undefined || noColor === '');
}

/** What a command reached before writing its output: named on stderr when the write fails. */
export interface Outcome {
  /** e.g. "the check's verdict was compatible (exit 0)" */
  reached: string;
  /** what a failed write loses, e.g. "its report is lost" */
  lost: string;
  /** the command's exit code when the output is written */
  exitCode: number;
}

/**
 * Write the rendered text to --output (see writeOutput) or to stdout and return the command's exit
 * code: `outcome.exitCode`, or EXIT.unknown (3: the result could not be delivered) after one line on
 * stderr naming the path, the errno and what was reached. (A failed stdout write is bin/'s: one
 * line, exit 3.) Without an outcome a failed write is a usage error, as before.
 */
export function emit(io: CommandIo, output: string | null, text: string, outcome?: Outcome): number {
  if (output === null) {
    io.stdout.write(text);
    return outcome?.exitCode ?? 0;
  }
  try {
    writeOutput(output, text);
  } catch (err) {
    if (!outcome) throw new UsageError(describeWriteError(output, err), OUTPUT_HINT);
    io.stderr.write(`uring-probe: ${describeWriteError(output, err)}; ${outcome.reached} but ${outcome.lost}\n`);
    return EXIT.unknown;
  }
  return outcome?.exitCode ?? 0;
}

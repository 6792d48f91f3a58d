// Where a command's rendered text goes (stdout or --output FILE, atomically) and whether it may be coloured.
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname } from 'node:path';
import { describeWriteError, writeFileAtomic } from '../report/atomic-write.js';
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

/** --output FILE as given, or null for stdout; an empty --output is a usage error. */
export function outputPath(argv: Record<string, unknown>, example: string): string | null {
  const value = argv['output'];
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') {
    throw new UsageError('--output needs a file name', `pass e.g. --output ${example}`);
  }
  return value;
}

/** Fail fast, before any work, when --output cannot be written (its directory must exist and be writable). */
export function assertWritableDirectory(path: string): void {
  try {
    accessSync(dirname(path), fsConstants.W_OK);
  } catch (err) {
    throw new UsageError(describeWriteError(path, err), 'choose a writable path in an existing directory');
  }
}

/** Colour only on a terminal, and never when NO_COLOR is set to a non-empty value (https://no-color.org). */
export function useColor(io: CommandIo, toFile: boolean): boolean {
  const noColor = io.env['NO_COLOR'];
  return !toFile && io.stdoutIsTTY && (noColor === undefined || noColor === '');
}

/** Write the rendered text to --output (atomically: a reader never sees half a file) or to stdout. */
export function emit(io: CommandIo, output: string | null, text: string): void {
  if (output === null) {
    io.stdout.write(text);
    return;
  }
  try {
    writeFileAtomic(output, text);
  } catch (err) {
    throw new UsageError(describeWriteError(output, err), 'choose a writable path in an existing directory');
  }
}

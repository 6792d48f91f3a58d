// The CLI's commands, in --help order: bin/ registers every entry of `commands` with yargs.
import type { Argv } from 'yargs';
import { checkCommand } from './check.js';
import { benchCommand } from './bench.js';
import { gateCommand } from './gate.js';
import { fleetCommand } from './fleet.js';
import { diffCommand } from './diff.js';
import { seccompProfileCommand } from './seccomp-profile.js';
import { explainCommand } from './explain.js';

/** Where a command writes; bin/ passes the real process streams, tests may pass others. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** stdout is a terminal (colour and progress bars only then) */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** terminal width for wrapping (undefined on a pipe) */
  columns?: number;
  env: NodeJS.ProcessEnv;
}

/**
 * One CLI command. `builder` declares options (yargs 17); `run` gathers data, renders it,
 * writes it through `io`, and RETURNS the exit code (only bin/ sets process.exitCode).
 * Throw UsageError (src/usage-error.ts) for bad option values: bin/ turns it into one line + exit 64
 * (an ErrorDocument on stdout when --json / --format json was given).
 */
export interface CliCommand {
  /** yargs command string, e.g. 'check' or 'diff <old> <new>' */
  command: string;
  describe: string;
  builder(yargs: Argv): Argv;
  run(argv: Record<string, unknown>, io: CommandIo): Promise<number>;
}

export const commands: CliCommand[] = [
  checkCommand,
  benchCommand,
  gateCommand,
  fleetCommand,
  diffCommand,
  seccompProfileCommand,
  explainCommand,
];

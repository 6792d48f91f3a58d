#!/usr/bin/env node
// The uring-probe CLI entry: yargs over src/commands/, one-line usage errors (exit 64), the only place that sets the exit code.
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CODES_HELP } from '../src/commands/check.js';
import { commands, type CommandIo } from '../src/commands/index.js';
import { toolInfo, toolVersion } from '../src/host.js';
import { renderErrorDocument } from '../src/report/json.js';
import { EXIT } from '../src/types.js';
import { UsageError, usageLine } from '../src/usage-error.js';

// yargs through its CommonJS build: the ESM build's help layout hard-wraps in the middle of words
// (its cliui has no word wrapping), which made `--help` hard to read.
const yargs = createRequire(import.meta.url)('yargs') as (args: string[]) => Argv;


/** JSON mode is decided before parsing, so that even a bad command line gets a JSON error document. */
function wantsJson(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') break;
    if (a === '--json' || a === '--json=true') return true;
    if (a === '--format=json') return true;
    if (a === '--format' && args[i + 1] === 'json') return true;
  }
  return false;
}

/** What to do about a yargs validation message. */
function hintFor(message: string): string {
  if (/^Unknown argument|^Unknown command/i.test(message)) return 'remove it or check its spelling';
  if (/^Invalid values/i.test(message)) return 'use one of the listed choices';
  if (/no command/i.test(message)) return 'name a command, e.g. `uring-probe check`';
  if (/Not enough non-option arguments/i.test(message)) return 'give the command its report files or paths';
  if (/Missing required argument/i.test(message)) return 'add the missing option';
  if (/Not enough arguments following/i.test(message)) return 'give the option a value';
  return 'fix the command line';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

async function main(): Promise<number> {
  const args = hideBin(process.argv);
  const json = wantsJson(args);
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    env: process.env,
  };
  const fail = (code: string, message: string, exitCode: number, line: string): number => {
    if (json) {
      io.stdout.write(renderErrorDocument({ schemaVersion: 1, tool: toolInfo(), error: { code, message }, exitCode }));
    } else {
      io.stderr.write(`${line}\n`);
    }
    return exitCode;
  };

  let exitCode: number | null = null;
  try {
    const parser = yargs(args)
      .scriptName('uring-probe')
      .usage('$0 <command> [options]\n\nKernel-compatibility probe and diagnostics for io_uring UDP networking on Linux.')
      .strict()
      .demandCommand(1, 'no command given')
      .recommendCommands()
      .help()
      .alias('h', 'help')
      .version(toolVersion())
      .epilogue(EXIT_CODES_HELP)
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .exitProcess(false)
      .fail((message: string | null | undefined, err: Error | undefined) => {
        if (err && err.name !== 'YError') throw err;
        const what = oneLine(message ?? err?.message ?? 'invalid command line');
        throw new UsageError(what, hintFor(what));
      });
    for (const cmd of commands) {
      parser.command(cmd.command, cmd.describe, (y) => cmd.builder(y), async (argv) => {
        exitCode = await cmd.run(argv as Record<string, unknown>, io);
      });
    }
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      return fail('USAGE', oneLine(`${err.message}; ${err.hint}`), EXIT.usage, usageLine(err.message, err.hint));
    }
    const message = oneLine(err instanceof Error ? err.message : String(err));
    return fail(
      'INTERNAL',
      message,
      EXIT.unknown,
      `uring-probe: internal error: ${message}; please report it with the output of \`uring-probe check --json\``,
    );
  }
  return exitCode ?? 0;
}

/**
 * stdout's reader went away (`| head`: EPIPE) or it cannot be written (a full disk): never a stack
 * trace. EPIPE keeps the command's exit code (the reader chose to stop); any other write error is one
 * line on stderr and exit 3, since the output is incomplete.
 */
let stdoutFailed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE' || stdoutFailed) return;
  stdoutFailed = true;
  process.stderr.write(`uring-probe: cannot write to stdout (${err.code ?? oneLine(err.message)}); the output is incomplete, write it with --output FILE or free the space\n`);
  process.exitCode = EXIT.unknown;
});
process.stderr.on('error', () => {
  /* nowhere left to say it */
});

main().then(
  (code) => {
    process.exitCode = stdoutFailed ? EXIT.unknown : code;
  },
  (err: unknown) => {
    process.stderr.write(`uring-probe: internal error: ${oneLine(String(err))}\n`);
    process.exitCode = EXIT.unknown;
  },
);

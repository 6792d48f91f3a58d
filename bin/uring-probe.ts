#!/usr/bin/env node
// The uring-probe CLI entry: yargs over src/commands/, one-line usage errors (exit 64), the only place that sets the exit code.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commandEpilogue, topLevelEpilogue } from '../src/cli/help.js';
import { commands, type CommandIo } from '../src/commands/index.js';
import { explainCatalog } from '../src/explain/catalog.js';
import { toolInfo, toolVersion } from '../src/host.js';
import { renderErrorDocument } from '../src/report/json.js';
import { escapeControls } from '../src/report/terminal-safe.js';
import { assertArgvConventions } from '../src/cli/argv-guard.js';
import { installSignalHandlers } from '../src/cli/signals.js';
import { isSingleExecutable } from '../src/runtime.js';
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

/**
 * `completion --shell bash|zsh`: yargs writes the zsh script when $SHELL (or $ZSH_NAME) names zsh, and
 * reads them when the parser is made, so the choice is made before that. Other commands leave them alone.
 */
function chooseCompletionShell(args: string[]): void {
  if (args[0] !== 'completion') return;
  let shell: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '--shell') shell = args[i + 1];
    else if (a.startsWith('--shell=')) shell = a.slice('--shell='.length);
  }
  if (shell === 'bash' || shell === 'zsh') {
    process.env.SHELL = `/bin/${shell}`;
    delete process.env.ZSH_NAME;
  }
}

const COMPLETION_HELP = [
  'Install it once, then open a new shell; uring-probe must be on PATH (the script runs it to complete):',
  '  bash  uring-probe completion --shell bash >> ~/.bashrc',
  '        or, with bash-completion, into ~/.local/share/bash-completion/completions/uring-probe',
  '  zsh   uring-probe completion --shell zsh >> ~/.zshrc    (after compinit)',
  'Without --shell the script is for the shell $SHELL names (bash unless it names zsh).',
  'It completes commands, options, option values with fixed choices, and the IDs of `explain`.',
].join('\n');

/** The zsh script wants `word:description`; bash plain words (as yargs decides it). */
function zshCompletions(): boolean {
  return (process.env.SHELL ?? '').includes('zsh') || (process.env.ZSH_NAME ?? '').includes('zsh');
}

/**
 * Shell completion on top of yargs' own: `explain` completes probe ids and reason codes; a boolean
 * option that defaults to true is offered as --no-NAME (the only spelling that changes anything);
 * yargs' `--o` / `--v` spellings of one-letter aliases are left out.
 */
function completeWords(parser: Argv) {
  return (
    current: string,
    argv: { _: Array<string | number> },
    defaultCompletion: (done: (err: Error | null, completions: string[] | undefined) => void) => void,
    done: (completions: string[]) => void,
  ): void => {
    const zsh = zshCompletions();
    const words = argv._.map(String).filter((w) => w !== '');
    const at = words.indexOf('explain');
    if (at >= 0 && !current.startsWith('-')) {
      const given = words.slice(at + 1);
      if (current !== '' && given[given.length - 1] === current) given.pop();
      if (given.length === 0) {
        const prefix = current.toLowerCase();
        done(
          explainCatalog()
            .filter((e) => e.id.toLowerCase().startsWith(prefix))
            .map((e) => (zsh ? `${e.id}:${e.title.replace(/:/g, '\\:')}` : e.id)),
        );
        return;
      }
    }
    defaultCompletion((err, completions) => {
      if (err) throw err;
      // the options of the command being completed (yargs resets the parser to them); not in @types/yargs
      const options = (parser as unknown as { getOptions(): { boolean: string[]; default: Record<string, unknown> } }).getOptions();
      const out: string[] = [];
      for (const item of completions ?? []) {
        const m = /^--([^:]+)(:.*)?$/s.exec(item);
        if (m && m[1]!.length === 1) continue;
        if (m && options.boolean.includes(m[1]!) && options.default[m[1]!] === true) {
          out.push(`--no-${m[1]!}${m[2] ?? ''}`);
          continue;
        }
        out.push(item);
      }
      done([...new Set(out)]);
    });
  };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

async function main(): Promise<number> {
  const args = hideBin(process.argv);
  const json = wantsJson(args);
  chooseCompletionShell(args);
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
    assertArgvConventions(args);
    const parser = yargs(args)
      .scriptName('uring-probe')
      .usage('$0 <command> [options]\n\nKernel-compatibility probe and diagnostics for io_uring UDP networking on Linux.')
      .strict()
      .demandCommand(1, 'no command given')
      .recommendCommands()
      .help()
      .alias('h', 'help')
      .version(toolVersion())
      .epilogue(topLevelEpilogue())
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
    // What the script asks (`uring-probe --get-yargs-completions WORDS...`): yargs answers, with our
    // additions. Registered only then (.completion() also makes `completion` print the script even with
    // --help), and before our `completion` command, whose builder then completes its --shell.
    if (args.includes('--get-yargs-completions')) parser.completion('completion', false, completeWords(parser));
    // The script comes from yargs (showCompletionScript); the command is ours, so that
    // `completion --help` shows how to install it instead of printing the script.
    parser.command(
      'completion',
      'Print a bash or zsh completion script (--help: how to install it)',
      (y) =>
        y
          .option('shell', { type: 'string', choices: ['bash', 'zsh'], describe: 'The shell to write it for (default: the one $SHELL names)' })
          .epilogue(
            commandEpilogue(
              'completion',
              [
                { cmd: '$0 completion --shell bash >> ~/.bashrc', what: 'bash' },
                { cmd: '$0 completion --shell zsh >> ~/.zshrc', what: 'zsh' },
              ],
              [COMPLETION_HELP],
            ),
          ),
      () => {
        parser.showCompletionScript(); // for $0 = scriptName, `uring-probe completion` in its install line
        exitCode = 0;
      },
    );
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      return fail('USAGE', oneLine(`${err.message}; ${err.hint}`), EXIT.usage, usageLine(err.message, err.hint));
    }
    const message = escapeControls(oneLine(err instanceof Error ? err.message : String(err)));
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
 * Runs the CLI on process.argv and sets the exit code. stdout's reader went away (`| head`: EPIPE)
 * or it cannot be written (a full disk): never a stack trace. EPIPE keeps the command's exit code
 * (the reader chose to stop); any other write error is one line on stderr and exit 3, since the
 * output is incomplete.
 */
export function runCli(): void {
  installSignalHandlers(); // SIGINT/SIGTERM/SIGHUP: stop probe children, clean up, exit 130/143/129
  // A failed stdout write (other than EPIPE) is said once, when the process exits, so that the line
  // can name the result the command reached (its write errors arrive after it has returned).
  let stdoutError: string | null = null;
  let result: number | null = null;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || stdoutError !== null) return;
    stdoutError = err.code ?? oneLine(err.message);
    process.exitCode = EXIT.unknown;
  });
  process.stderr.on('error', () => {
    /* nowhere left to say it */
  });
  process.on('exit', () => {
    if (stdoutError === null || process.exitCode === 130 || process.exitCode === 143 || process.exitCode === 129) return;
    const reached = result === null ? '' : `; the command's result was exit ${result}`;
    try {
      writeSync(2, `uring-probe: cannot write to stdout (${stdoutError})${reached} but its output is incomplete; write it with --output FILE or free the space\n`);
    } catch {
      /* nowhere left to say it */
    }
    process.exitCode = EXIT.unknown;
  });

  main().then(
    (code) => {
      result = code;
      process.exitCode = stdoutError !== null ? EXIT.unknown : code;
    },
    (err: unknown) => {
      process.stderr.write(`uring-probe: internal error: ${oneLine(String(err))}\n`);
      process.exitCode = EXIT.unknown;
    },
  );
}

// `node dist/bin/uring-probe.js` (and the npm bin link): run. The single executable's entry
// (src/sea/entry.ts) imports this module and calls runCli() itself.
if (!isSingleExecutable()) runCli();

// The help texts' shared parts: each command's exit codes (one table, shown in the command's --help
// and all together in the top-level --help) and examples laid out so that a command is never wrapped.

/** One exit code of a command and what it means. */
export type ExitCodeLine = readonly [code: string, meaning: string];

/** Codes every command may end with besides its own. */
export const COMMON_EXIT_CODES: readonly ExitCodeLine[] = [
  ['64', 'usage: a bad command line or option value, an input or --output refused before any work (one line on stderr; with --json, a JSON error document on stdout)'],
  ['130 143', 'interrupted by SIGINT / SIGTERM (129: SIGHUP); the probe child is stopped, no temporary file or half document is left'],
];

/** A failed write of the output after the work was done: the code is 3 and the outcome is named on stderr. */
const OUTPUT_LOST: ExitCodeLine = ['3', 'also: the output could not be written once the work was done (a full disk, say); stderr names the outcome that was lost'];

/** Each command's own exit codes, in --help order. */
export const EXIT_CODES: Readonly<Record<string, readonly ExitCodeLine[]>> = {
  check: [
    ['0', "compatible: the seed's io_uring data path works here without a fallback"],
    ['1', 'degraded: it works, with fallbacks (a probe warned); an inconclusive throughput floor'],
    ['2', 'incompatible: a probe failed (io_uring refused, data came back wrong) or a --require/--policy requirement is unmet'],
    ['3', 'unknown: a check could not be made (probe killed or timed out, no loopback), internal error'],
    ['', '--format prometheus always exits 0 (the verdict is a gauge); --format nagios exits 0/1/2/3 as above'],
    OUTPUT_LOST,
  ],
  bench: [
    ['0', 'every mode ran and every datagram arrived intact'],
    ['1', 'a mode failed or data arrived corrupt'],
    OUTPUT_LOST,
  ],
  gate: [
    ['0 1 2 3', "the check's codes for the gated report: 0 compatible, 1 degraded, 2 incompatible or a requirement unmet, 3 unknown"],
    ['65', 'the report cannot be read (malformed, truncated, foreign, unknown schema version, not a regular file, too large)'],
    OUTPUT_LOST,
  ],
  fleet: [
    ['0', 'every input rolled up and no failing host'],
    ['+2', 'a host is incompatible or unknown, or failed the gate'],
    ['+4', 'an input was skipped (malformed, truncated, foreign, future-dated, unreadable, empty; listed with its reason)'],
    ['', 'so 0, 2, 4 or 6'],
    ['3', 'the roll-up could not be written once it was made (stderr says what it found)'],
  ],
  diff: [
    ['0', 'nothing got worse (gains are fine; throughput is shown, never judged)'],
    ['2', 'a regression: worse verdict, a lost feature, flag or op, a probe that got worse, a worse setup ladder'],
    ['65', 'a report cannot be read'],
    ['64', 'also: reports of different machines without --any-host'],
    OUTPUT_LOST,
  ],
  'seccomp-profile': [
    ['0', 'written (or unchanged: it already allows io_uring)'],
    ['64', 'also: no --from, a profile that cannot be read or is malformed'],
    OUTPUT_LOST,
  ],
  explain: [
    ['0', 'explained'],
    OUTPUT_LOST,
    ['64', 'also: an unknown ID (the message suggests the nearest ones)'],
  ],
  completion: [['0', 'the script was printed']],
};

/** Help lines stay within this width, so that yargs (which wraps at the terminal's width, at most 110) leaves them alone on an 80-column terminal. */
export const HELP_WIDTH = 78;

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function codeLines(lines: readonly ExitCodeLine[], indent: string): string[] {
  const hanging = `${indent}${' '.repeat(8)}`;
  return lines.flatMap(([code, meaning]) =>
    wrapWords(meaning, HELP_WIDTH - hanging.length).map((part, i) => (i === 0 ? `${indent}${code.padEnd(8)}${part}` : `${hanging}${part}`)),
  );
}

/** One example: what it does, then the command on a line of its own (copied whole, never wrapped). */
export interface HelpExample {
  cmd: string;
  what: string;
}

/**
 * The end of a command's --help: its examples, then its exit codes and the common ones. Examples are
 * not given to yargs, whose two-column layout wraps a long command in the middle; here each command
 * line starts with `uring-probe` (or another program) and stands alone.
 */
export function commandEpilogue(command: string, examples: readonly HelpExample[], notes: readonly string[] = []): string {
  const out: string[] = [];
  if (examples.length > 0) {
    out.push('Examples:');
    for (const e of examples) {
      if (e.what !== '') out.push(...wrapWords(e.what, HELP_WIDTH - 4).map((w) => `  # ${w}`));
      out.push(`  ${e.cmd.replace(/\$0/g, 'uring-probe')}`);
    }
    out.push('');
  }
  // a note with line breaks is laid out already
  for (const note of notes) out.push(...(note.includes('\n') ? note.split('\n') : wrapWords(note, HELP_WIDTH)), '');
  out.push('Exit codes:');
  out.push(...codeLines(EXIT_CODES[command] ?? [], '  '));
  out.push(...codeLines(COMMON_EXIT_CODES, '  '));
  return out.join('\n');
}

/** The top-level --help's list: every command's codes, then the common ones. */
export function topLevelEpilogue(): string {
  const out: string[] = ['Exit codes, by command (`uring-probe COMMAND --help` shows one):'];
  for (const [command, lines] of Object.entries(EXIT_CODES)) {
    out.push(`  ${command}`);
    out.push(...codeLines(lines, '    '));
  }
  out.push('  every command');
  out.push(...codeLines(COMMON_EXIT_CODES, '    '));
  return out.join('\n');
}

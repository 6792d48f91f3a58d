// Checks of the raw command line that yargs cannot make after parsing: a scalar option given twice
// (yargs-parser would add repeated numbers up, `--timeout 3000 --timeout 1` being 3001) and a
// numeric option with an empty value (`--min-pps ''` would be 0).
import { existsSync } from 'node:fs';
import { parseRequirement } from '../gate/names.js';
import { UsageError } from '../usage-error.js';

/** Options that take several values and may be repeated. */
const REPEATABLE: ReadonlySet<string> = new Set(['require', 'size']);
/** Options whose value is a number (an empty one is an error, not 0). */
const NUMERIC: ReadonlySet<string> = new Set(['min-pps', 'min-ratio', 'timeout', 'duration', 'repeat', 'batch', 'depth']);
/** Short aliases, counted under their long name. */
const SHORT: Readonly<Record<string, string>> = { o: 'output', v: 'verbose', h: 'help' };

/** The long name of an option token, or null for a value or a positional. */
function optionName(token: string): { name: string; inlineValue: string | null } | null {
  if (token.startsWith('--') && token.length > 2) {
    const eq = token.indexOf('=');
    const raw = eq >= 0 ? token.slice(2, eq) : token.slice(2);
    const name = raw.startsWith('no-') ? raw.slice(3) : raw;
    return { name, inlineValue: eq >= 0 ? token.slice(eq + 1) : null };
  }
  if (/^-[a-zA-Z]$/.test(token)) {
    const long = Object.hasOwn(SHORT, token.slice(1)) ? SHORT[token.slice(1)]! : token.slice(1);
    return { name: long, inlineValue: null };
  }
  return null;
}

/** Throws a UsageError for a repeated scalar option or an empty numeric value; stops at `--`. */
export function assertArgvConventions(args: readonly string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') break;
    const option = optionName(token);
    if (!option) continue;
    const { name, inlineValue } = option;
    if (seen.has(name) && !REPEATABLE.has(name)) {
      throw new UsageError(`--${name} was given more than once`, `give --${name} once`);
    }
    seen.add(name);
    if (name === 'require' && inlineValue === null) assertOneRequirement(args, i);
    if (NUMERIC.has(name)) {
      const value = inlineValue ?? args[i + 1];
      if (value !== undefined && value.trim() === '') {
        throw new UsageError(`--${name} needs a number, got an empty value`, `pass e.g. --${name} ${name === 'min-ratio' ? '0.8' : '1000'}`);
      }
    }
  }
}

/** A requirement name, not a path: `--require A B` would otherwise make B a report path or an unknown argument. */
function looksLikeRequirement(token: string): boolean {
  if (token.startsWith('-') || existsSync(token)) return false;
  try {
    parseRequirement(token);
    return true;
  } catch {
    return false;
  }
}

/** `--require NAME` takes one value; a second name right after it was meant for it (the old array syntax). */
function assertOneRequirement(args: readonly string[], at: number): void {
  const value = args[at + 1];
  const next = args[at + 2];
  if (value === undefined || next === undefined || !looksLikeRequirement(next)) return;
  throw new UsageError(
    `'${next}' follows --require ${value}, but --require takes one name (the words after it are the command's files)`,
    `repeat it (--require ${value} --require ${next}) or comma-separate (--require ${value},${next})`,
  );
}

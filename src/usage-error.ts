// A usage error: bad command-line input, reported as one line and exit code 64 by bin/.
import { escapeControls } from './report/terminal-safe.js';

/** Thrown by command builders/handlers for bad input; bin/ prints `uring-probe: <message>; <hint> (see --help)`. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(
    /** what was wrong, e.g. "--timeout must be a positive number of milliseconds, got 'abc'" */
    message: string,
    /** what to do about it, e.g. "pass e.g. --timeout 5000" */
    readonly hint: string = 'check the command line',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The one line printed on stderr for a usage error; control characters from the command line are shown as \xNN. */
export function usageLine(message: string, hint: string): string {
  const what = escapeControls(message.replace(/\s+/g, ' ').trim().replace(/[.;]+$/, ''));
  const todo = escapeControls(hint.replace(/\s+/g, ' ').trim().replace(/[.;]+$/, ''));
  return `uring-probe: ${what}; ${todo} (see --help)`;
}

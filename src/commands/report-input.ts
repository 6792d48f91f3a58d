// Shared by gate and diff: read one recorded report (a file or `-`), or say in one line what is wrong with it.
import { toolInfo } from '../host.js';
import { readReportFile, readReportStdin, type ReadOutcome } from '../reader.js';
import { renderErrorDocument } from '../report/json.js';
import { escapeControls } from '../report/terminal-safe.js';
import type { Report } from '../types.js';
import type { CommandIo } from './index.js';

/** Exit code of gate and diff when a report cannot be read (sysexits EX_DATAERR). */
export const EXIT_UNREADABLE_REPORT = 65;

export class UnreadableReport extends Error {
  constructor(readonly source: string, readonly problem: string, detail: string) {
    super(`${source}: ${detail}`);
  }
}

/** Read `path` (`-` = stdin). Throws UnreadableReport naming the file and the problem. */
export function readReportArg(path: string): Report {
  let outcome: ReadOutcome;
  if (path === '-') {
    outcome = readReportStdin();
  } else {
    outcome = readReportFile(path);
  }
  if (!outcome.ok) throw new UnreadableReport(path === '-' ? 'stdin' : path, outcome.problem, outcome.message);
  return outcome.report;
}

/** Report an unreadable input: one line on stderr (an ErrorDocument on stdout in JSON mode); returns 65. */
export function unreadable(io: CommandIo, error: UnreadableReport, json: boolean): number {
  // The path (and anything quoted from the file) never reaches the terminal as raw control characters.
  const message = escapeControls(error.message.replace(/\s+/g, ' ').trim());
  if (json) {
    io.stdout.write(renderErrorDocument({
      schemaVersion: 1,
      tool: toolInfo(),
      error: { code: `REPORT_${error.problem.toUpperCase().replace(/-/g, '_')}`, message },
      exitCode: EXIT_UNREADABLE_REPORT,
    }));
  } else {
    io.stderr.write(`uring-probe: ${message}\n`);
  }
  return EXIT_UNREADABLE_REPORT;
}

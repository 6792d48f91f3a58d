// `uring-probe diff OLD.json NEW.json`: what changed between two reports of one host (the check after a kernel upgrade).
import { commandEpilogue } from '../cli/help.js';
import type { Argv } from 'yargs';
import { toolVersion } from '../host.js';
import { DIFF_EXIT, diffReports, sameMachine } from '../diff/diff.js';
import { DIFF_FORMATS, diffDocument, renderDiffHuman, renderDiffJson, type DiffFormat } from '../diff/render.js';
import type { Report } from '../types.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, stdinDashGiven, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';
import { readReportArg, UnreadableReport, unreadable } from './report-input.js';

function diffFormat(argv: Record<string, unknown>): DiffFormat {
  return formatFrom<DiffFormat>(argv);
}

/** The two report arguments; yargs-parser turns a lone `-` (stdin) into '', so it is taken from the command line. */
function reportPaths(argv: Record<string, unknown>): [string, string] {
  const stdinGiven = stdinDashGiven();
  const paths = [argv['old'], argv['new']].map((v) => ((v === '' || v === true) && stdinGiven ? '-' : v));
  if (paths.some((p) => typeof p !== 'string' || p === '')) {
    throw new UsageError('diff needs two report files', 'pass OLD.json NEW.json (one of them may be - for stdin)');
  }
  if (paths[0] === '-' && paths[1] === '-') throw new UsageError('- (stdin) given for both reports', 'pass - for one of them only');
  return paths as [string, string];
}

export const diffCommand: CliCommand = {
  command: 'diff <old> <new>',
  describe: 'What changed between two reports of one host: verdict, features, flags, ops, ladder, throughput',
  builder(yargs: Argv): Argv {
    return yargs
      .positional('old', { type: 'string', describe: 'the earlier report (check --json)' })
      .positional('new', { type: 'string', describe: 'the later report (either may be - for stdin)' })
      .option('json', { type: 'boolean', describe: 'JSON output (same as --format json)' })
      .option('format', { type: 'string', choices: [...DIFF_FORMATS], describe: 'Output format' })
      .option('output', outputOption('the diff'))
      .option('any-host', { type: 'boolean', default: false, describe: 'Compare reports of different machines too' })
      .epilogue(
        commandEpilogue('diff', [
          { cmd: '$0 diff before-upgrade.json after-upgrade.json', what: 'exit 2 when something got worse' },
          { cmd: '$0 diff old.json new.json --json -o change.json', what: 'the change as JSON, to a file' },
        ]),
      );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const format = diffFormat(argv);
    const [oldPath, newPath] = reportPaths(argv);
    const output = outputPath(argv, 'diff.json');
    if (output !== null) assertWritableOutput(output);
    let older: Report;
    let newer: Report;
    try {
      older = readReportArg(oldPath);
      newer = readReportArg(newPath);
    } catch (error) {
      if (error instanceof UnreadableReport) return unreadable(io, error, format === 'json');
      throw error;
    }
    if (!sameMachine(older, newer) && argv['any-host'] !== true) {
      throw new UsageError(
        `the reports are from different machines (${older.host.hostname} ${older.host.machineIdHash ?? '?'} and ${newer.host.hostname} ${newer.host.machineIdHash ?? '?'})`,
        'pass two reports of one host, or --any-host to compare anyway',
      );
    }
    if (Date.parse(newer.startedAt) < Date.parse(older.startedAt)) {
      io.stderr.write(`uring-probe: note: ${newPath} is older than ${oldPath}; showing the change from the first to the second as given\n`);
    }
    const d = diffReports(older, newer);
    const exitCode = d.regression ? DIFF_EXIT.regression : DIFF_EXIT.noRegression;
    const color = useColor(io, output !== null);
    const text = format === 'json' ? renderDiffJson(diffDocument(d, toolVersion(), exitCode)) : renderDiffHuman(d, { color });
    return emit(io, output, text, {
      reached: `the diff found ${d.regression ? 'a regression' : 'no regression'} (exit ${exitCode})`,
      lost: 'its output is lost',
      exitCode,
    });
  },
};

// `uring-probe gate REPORT.json --policy FILE`: the check's gate decision on a recorded report, without touching the kernel.
import type { Argv } from 'yargs';
import { Chalk } from 'chalk';
import { applyGate, evaluateGate, policyIsActive, ungatedVerdict } from '../gate/evaluate.js';
import { policyFromArgv, withGateOptions } from '../gate/options.js';
import { renderJson } from '../report/json.js';
import { renderJunit } from '../report/junit.js';
import type { Report } from '../types.js';
import { UsageError } from '../usage-error.js';
import { emit, formatFrom, outputPath, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';
import { readReportArg, UnreadableReport, unreadable } from './report-input.js';
import { terminalSafe } from '../report/terminal-safe.js';

export const GATE_FORMATS = ['human', 'json', 'junit'] as const;
type GateFormat = (typeof GATE_FORMATS)[number];

function gateFormat(argv: Record<string, unknown>): GateFormat {
  return formatFrom<GateFormat>(argv);
}

/** The decision in a few lines: what was asked, what is unmet and what the host has instead. */
export function renderGateHuman(gated: Report, color: boolean): string {
  const report = terminalSafe(gated);
  const c = new Chalk({ level: color ? 1 : 0 });
  const g = report.gate!;
  const asked = [
    ...g.requirements,
    ...(g.minPps !== null ? [`min-pps ${g.minPps}`] : []),
    ...(g.minRatio !== null ? [`min-ratio ${g.minRatio}`] : []),
    ...(g.strict ? ['strict'] : []),
  ];
  const lines = [
    c.bold(`uring-probe gate: ${report.host.hostname}, kernel ${report.host.kernelRelease}, report of ${report.startedAt}`),
    `  report verdict  ${ungatedVerdict(report)}`,
    `  required        ${asked.join(', ')}`,
  ];
  for (const u of g.unmet) lines.push(c.red(`  unmet           ${u.requirement}: have ${u.have}`));
  if (!g.strict) for (const u of g.inconclusive ?? []) lines.push(c.yellow(`  inconclusive    ${u.requirement}: have ${u.have} (unmet only with --strict)`));
  lines.push('');
  lines.push(g.passed
    ? c.green(`GATE PASSED: verdict ${report.verdict}, exit ${report.exitCode}`)
    : c.red(`GATE FAILED: ${g.unmet.length} requirement${g.unmet.length === 1 ? '' : 's'} unmet, exit ${report.exitCode}`));
  return `${lines.join('\n')}\n`;
}

/** yargs-parser turns a lone `-` positional into '' or true: that is stdin. */
function reportPath(value: unknown): string {
  if ((value === '' || value === true) && process.argv.slice(2).includes('-')) return '-';
  if (typeof value !== 'string' || value === '') throw new UsageError('gate needs a report file', 'pass REPORT.json, or - for stdin');
  return value;
}

export const gateCommand: CliCommand = {
  command: 'gate <report>',
  describe: 'Gate a recorded report (from `check --json`) on requirements, without touching the kernel',
  builder(yargs: Argv): Argv {
    return withGateOptions(
      yargs
        .positional('report', { type: 'string', describe: 'report file written by `uring-probe check --json` (- for stdin)' })
        .option('json', { type: 'boolean', describe: 'Print the gated report as JSON (same as --format json)' })
        .option('format', { type: 'string', choices: [...GATE_FORMATS], describe: 'Output format' })
        .option('output', { alias: 'o', type: 'string', describe: 'Write to FILE (atomically) instead of stdout' })
        .example('$0 gate host1.json --policy uring-policy.json', 'exit 2 and the unmet requirements when host1 falls short')
        .example('$0 gate host1.json --require COOP_TASKRUN op:SEND_ZC --format junit', 'JUnit XML for a CI job'),
    ).epilogue('Exit codes: the check\'s codes for the gated report (0 compatible, 1 degraded, 2 incompatible or a requirement unmet, 3 unknown); 64 usage (unknown requirement name, bad policy); 65 the report cannot be read (malformed, truncated, foreign, unknown schema version).');
  },
  async run(argv, io: CommandIo): Promise<number> {
    const format = gateFormat(argv);
    const policy = policyFromArgv(argv);
    if (policy === null || !policyIsActive(policy)) {
      throw new UsageError('gate needs something to check', 'pass --policy FILE or --require NAME..., --min-pps, --min-ratio, --strict');
    }
    const output = outputPath(argv, 'gated.json');
    let report: Report;
    try {
      report = readReportArg(reportPath(argv['report']));
    } catch (error) {
      if (error instanceof UnreadableReport) return unreadable(io, error, format === 'json');
      throw error;
    }
    const gated = applyGate(report, evaluateGate(report, policy));
    const color = useColor(io, output !== null);
    const text = format === 'json' ? renderJson(gated) : format === 'junit' ? renderJunit(gated) : renderGateHuman(gated, color);
    emit(io, output, text);
    return gated.exitCode;
  },
};

// `uring-probe gate REPORT.json --policy FILE`: the check's gate decision on a recorded report, without touching the kernel.
import { commandEpilogue } from '../cli/help.js';
import type { Argv } from 'yargs';
import { Chalk } from 'chalk';
import { applyGate, evaluateGate, policyIsActive, ungatedVerdict } from '../gate/evaluate.js';
import { policyFromArgv, withGateOptions } from '../gate/options.js';
import { renderJson } from '../report/json.js';
import { renderJunit } from '../report/junit.js';
import { renderNagios } from '../report/nagios.js';
import type { Report } from '../types.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, stdinDashGiven, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';
import { readReportArg, UnreadableReport, unreadable } from './report-input.js';
import { terminalSafe } from '../report/terminal-safe.js';

export const GATE_FORMATS = ['human', 'json', 'junit', 'nagios'] as const;
type GateFormat = (typeof GATE_FORMATS)[number];

function gateFormat(argv: Record<string, unknown>): GateFormat {
  return formatFrom<GateFormat>(argv);
}

/** The decision in a few lines: what was asked, what is unmet and what the host has instead. */
export function renderGateHuman(gated: Report, color: boolean, verbose = false): string {
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
  if (verbose) {
    // what --verbose adds: the requirements that are met, and every probe of the report that did not pass
    const named = new Set([...g.unmet, ...(g.inconclusive ?? [])].map((u) => u.requirement));
    for (const r of g.requirements) if (!named.has(r)) lines.push(c.green(`  met             ${r}`));
    for (const p of report.probes) {
      if (p.status === 'pass') continue;
      lines.push(`  probe           ${p.id} ${p.status.toUpperCase()}${p.reason ? ` ${p.reason}` : ''}: ${p.summary}`);
    }
  }
  lines.push('');
  lines.push(g.passed
    ? c.green(`GATE PASSED: verdict ${report.verdict}, exit ${report.exitCode}`)
    : c.red(`GATE FAILED: ${g.unmet.length} requirement${g.unmet.length === 1 ? '' : 's'} unmet, exit ${report.exitCode}`));
  return `${lines.join('\n')}\n`;
}

/** yargs-parser turns a lone `-` positional into '' or true: that is stdin. */
function reportPath(value: unknown): string {
  if ((value === '' || value === true) && stdinDashGiven()) return '-';
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
        .option('output', outputOption('the gated report'))
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Also list the requirements that are met and every probe of the report that did not pass' })
    ).epilogue(
      commandEpilogue('gate', [
        { cmd: '$0 gate host1.json --policy uring-policy.json', what: 'exit 2 and the unmet requirements when host1 falls short' },
        { cmd: '$0 gate host1.json --require COOP_TASKRUN,op:SEND_ZC --format junit', what: 'JUnit XML for a CI job' },
        { cmd: '$0 gate host1.json --require loopback --format nagios', what: 'a recorded report as a monitoring-plugin status' },
      ]),
    );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const format = gateFormat(argv);
    const policy = policyFromArgv(argv);
    if (policy === null || !policyIsActive(policy)) {
      throw new UsageError('gate needs something to check', 'pass --policy FILE or --require NAME..., --min-pps, --min-ratio, --strict');
    }
    const output = outputPath(argv, 'gated.json');
    if (output !== null) assertWritableOutput(output);
    let report: Report;
    try {
      report = readReportArg(reportPath(argv['report']));
    } catch (error) {
      if (error instanceof UnreadableReport) return unreadable(io, error, format === 'json');
      throw error;
    }
    const gated = applyGate(report, evaluateGate(report, policy));
    const color = useColor(io, output !== null);
    const text = format === 'json' ? renderJson(gated) : format === 'junit' ? renderJunit(gated) : format === 'nagios' ? renderNagios(gated) : renderGateHuman(gated, color, argv['verbose'] === true);
    return emit(io, output, text, {
      reached: `the gate ${gated.gate!.passed ? 'passed' : 'failed'}, verdict ${gated.verdict} (exit ${gated.exitCode})`,
      lost: 'its gated report is lost',
      exitCode: gated.exitCode,
    });
  },
};

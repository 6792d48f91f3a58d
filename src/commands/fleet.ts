// `uring-probe fleet PATH...`: roll up many hosts' reports (files, directories, NDJSON on stdin).
import { commandEpilogue } from '../cli/help.js';
import type { Argv } from 'yargs';
import { toolVersion } from '../host.js';
import { policyFromArgv, withGateOptions } from '../gate/options.js';
import { readInputs } from '../fleet/inputs.js';
import { FLEET_FORMATS, fleetDocument, renderFleetCsv, renderFleetHuman, renderFleetJson, type FleetFormat } from '../fleet/render.js';
import { FleetAccumulator } from '../fleet/rollup.js';
import { UsageError } from '../usage-error.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, stdinDashGiven, useColor } from './output.js';
import type { CliCommand, CommandIo } from './index.js';
import { escapeControls } from '../report/terminal-safe.js';

function fleetFormat(argv: Record<string, unknown>): FleetFormat {
  return formatFrom<FleetFormat>(argv);
}

export const fleetCommand: CliCommand = {
  command: 'fleet <paths..>',
  describe: 'Roll up many hosts\' reports: verdicts, kernels, reasons, support matrix, throughput, failing hosts',
  builder(yargs: Argv): Argv {
    return withGateOptions(
      yargs
        .positional('paths', { type: 'string', array: true, describe: 'report files, directories of them, *.ndjson files, or - for NDJSON on stdin' })
        .option('json', { type: 'boolean', describe: 'JSON output (same as --format json)' })
        .option('format', { type: 'string', choices: [...FLEET_FORMATS], describe: 'Output format (csv: one row per host)' })
        .option('output', outputOption('the roll-up'))
        .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Every failing host and every opcode in the human output' })
    ).epilogue(
      commandEpilogue('fleet', [
        { cmd: '$0 fleet reports/', what: 'roll up every *.json under reports/' },
        { cmd: 'cat *.ndjson | $0 fleet - --policy policy.json --format csv', what: 'gate every host, one CSV row per host' },
      ]),
    );
  },
  async run(argv, io: CommandIo): Promise<number> {
    const format = fleetFormat(argv);
    const paths = (Array.isArray(argv['paths']) ? argv['paths'] : [argv['paths']])
      .filter((p): p is string | number => (typeof p === 'string' && p !== '') || typeof p === 'number')
      .map(String);
    // yargs-parser drops a lone `-` (stdin) from the positionals: take it from the command line (not `-o -`).
    if (!paths.includes('-') && stdinDashGiven()) paths.push('-');
    if (paths.length === 0) throw new UsageError('fleet needs at least one path', 'pass report files, directories, or - for NDJSON on stdin');
    if (paths.filter((p) => p === '-').length > 1) throw new UsageError('- (stdin) given more than once', 'pass - once');
    const output = outputPath(argv, 'fleet.json');
    if (output !== null) assertWritableOutput(output);
    const policy = policyFromArgv(argv);
    const acc = new FleetAccumulator(policy);
    for await (const doc of readInputs(paths, process.stdin)) acc.add(doc);
    const rollup = acc.finish();
    const color = useColor(io, output !== null);
    let text: string;
    if (format === 'json') text = renderFleetJson(fleetDocument(rollup, toolVersion(), policy));
    else if (format === 'csv') text = renderFleetCsv(rollup);
    else text = renderFleetHuman(rollup, { color, verbose: argv['verbose'] === true });
    // CSV has one row per host only: name the skipped inputs on stderr.
    if (format === 'csv') for (const s of rollup.skipped) io.stderr.write(`uring-probe: skipped ${escapeControls(s.source)}: ${s.problem}: ${escapeControls(s.message)}\n`);
    return emit(io, output, text, {
      reached: `the roll-up of ${rollup.hosts} host${rollup.hosts === 1 ? '' : 's'} (${rollup.failing.length} failing, ${rollup.skipped.length} input${rollup.skipped.length === 1 ? '' : 's'} skipped) exits ${rollup.exitCode}`,
      lost: 'its output is lost',
      exitCode: rollup.exitCode,
    });
  },
};

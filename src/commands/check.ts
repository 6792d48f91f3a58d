// `uring-probe check`: run every probe against this kernel and print the report (human or JSON), exit code = verdict.
import { commandEpilogue } from '../cli/help.js';
import type { Argv } from 'yargs';
import { runCheck } from '../check.js';
import { resolveServiceContext, type ServiceContextRequest } from '../context/service-context.js';
import { applyGate, evaluateGate, type GatePolicy } from '../gate/evaluate.js';
import { policyFromArgv, withGateOptions } from '../gate/options.js';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../probes/spec.js';
import { exitCodeForFormat, REPORT_FORMATS, renderReport, type ReportFormat } from '../report/render.js';
import { EXIT } from '../types.js';
import { UsageError } from '../usage-error.js';
import type { CliCommand } from './index.js';
import { assertWritableOutput, emit, formatFrom, outputOption, outputPath, useColor } from './output.js';


/** --format (or --json) of `check`: one of REPORT_FORMATS. */
export function outputFormat(argv: Record<string, unknown>): ReportFormat {
  return formatFrom<ReportFormat>(argv);
}

/** --timeout: a positive whole number of milliseconds. */
export function timeoutFrom(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 600_000) {
    throw new UsageError(
      `--timeout must be a whole number of milliseconds between 1 and 600000, got '${String(value)}'`,
      `pass e.g. --timeout ${DEFAULT_CHECK_OPTIONS.timeoutMs}`,
    );
  }
  return n;
}

/** The probes' options; the gate's throughput floors also make the throughput probe itself fail. */
export function checkOptionsFrom(argv: Record<string, unknown>, policy: GatePolicy | null): CheckOptions {
  return {
    ...DEFAULT_CHECK_OPTIONS,
    timeoutMs: timeoutFrom(argv.timeout ?? DEFAULT_CHECK_OPTIONS.timeoutMs),
    bench: argv.bench !== false,
    minPps: policy?.minPps ?? null,
    minRatio: policy?.minRatio ?? null,
  };
}

function optionalString(argv: Record<string, unknown>, key: string, flag: string): string | undefined {
  const v = argv[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`, `give ${flag} once`);
  const text = String(v);
  if (text.trim() === '' && key !== 'groups') throw new UsageError(`${flag} needs a value`, `give ${flag} a value`);
  return text;
}

/** The service-context options of `check`. */
export function contextRequestFrom(argv: Record<string, unknown>): ServiceContextRequest {
  return {
    user: optionalString(argv, 'user', '--user'),
    group: optionalString(argv, 'group', '--group'),
    groups: optionalString(argv, 'groups', '--groups'),
    memlock: optionalString(argv, 'memlock', '--memlock'),
    seccompProfile: optionalString(argv, 'seccompProfile', '--seccomp-profile'),
    systemdUnit: optionalString(argv, 'systemdUnit', '--systemd-unit'),
  };
}

export const checkCommand: CliCommand = {
  command: 'check',
  describe: 'Probe this kernel for the seed\'s io_uring UDP data path and print a report',
  builder(yargs: Argv): Argv {
    return withGateOptions(yargs)
      .option('json', { type: 'boolean', describe: 'Print the report as JSON (same as --format json)' })
      .option('format', { type: 'string', choices: [...REPORT_FORMATS], describe: 'Output format (prometheus always exits 0)' })
      .option('output', outputOption('the report'))
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Show facts, remediation and the setup ladder of every probe' })
      .option('bench', { type: 'boolean', default: true, describe: 'Run the throughput probe (--no-bench leaves it out)' })
      .option('user', { type: 'string', requiresArg: true, describe: 'Run the kernel probes as this user (NAME or UID, with its groups); needs root' })
      .option('group', { type: 'string', requiresArg: true, describe: 'Primary group of --user (NAME or GID)' })
      .option('groups', { type: 'string', describe: 'Supplementary groups of --user, comma-separated (empty: none)' })
      .option('memlock', { type: 'string', requiresArg: true, describe: 'RLIMIT_MEMLOCK of the kernel probes: BYTES (64K, 8M) or infinity' })
      .option('seccomp-profile', { type: 'string', requiresArg: true, describe: 'Apply this Docker/OCI seccomp profile (JSON) to the kernel probes' })
      .option('systemd-unit', { type: 'string', requiresArg: true, describe: 'Probe as this unit runs: User=, Group=, LimitMEMLOCK=, SystemCallFilter=, capabilities (FILE or NAME)' })
      .option('timeout', { requiresArg: true, default: DEFAULT_CHECK_OPTIONS.timeoutMs, describe: 'Time bound of one kernel probe, in ms (its process is killed past it)' })
      .epilogue(
        commandEpilogue('check', [
          { cmd: '$0 check', what: 'human report; exit code = verdict' },
          { cmd: '$0 check --json --no-bench -o report.json', what: 'JSON report to a file, without the throughput probe' },
          { cmd: '$0 check --require COOP_TASKRUN,op:SEND_ZC --min-ratio 0.7', what: 'gate a deploy: exit 2 unless the host has these' },
          { cmd: '$0 check --user app --memlock 64K', what: 'probe as the service user under its memlock limit (root)' },
          { cmd: '$0 check --seccomp-profile /etc/docker/seccomp.json', what: 'probe under the container\'s seccomp profile' },
          { cmd: '$0 check --systemd-unit myservice.service', what: 'probe as the unit runs: its user, limits and SystemCallFilter=' },
          {
            cmd: '$0 check --format prometheus --no-bench \\\n      -o /var/lib/prometheus/node-exporter/uring-probe.prom',
            what: 'node_exporter textfile collector (Debian\'s directory; see examples/node-exporter)',
          },
          { cmd: '$0 check --format nagios --no-bench', what: 'a Nagios/Icinga/NRPE plugin: one status line, perfdata, exit 0/1/2/3' },
        ]),
      );
  },
  async run(argv, io): Promise<number> {
    const format = outputFormat(argv);
    const policy = policyFromArgv(argv); // before probing: an unknown requirement name is a usage error
    const options = checkOptionsFrom(argv, policy);
    if (!options.bench && (options.minPps !== null || options.minRatio !== null)) {
      throw new UsageError('--min-pps and --min-ratio need the throughput probe, which --no-bench leaves out', 'drop --no-bench or the throughput floor');
    }
    const output = outputPath(argv, 'report.json');
    if (output !== null) assertWritableOutput(output);
    const context = resolveServiceContext(contextRequestFrom(argv));
    if (!context.report.asInvoked) options.context = context.apply;
    let report = await runCheck(options, context.report);
    if (policy) report = applyGate(report, evaluateGate(report, policy));
    const text = renderReport(report, format, {
      color: useColor(io, output !== null),
      verbose: argv.verbose === true,
      width: io.columns,
    });
    return emit(io, output, text, {
      reached: `the check's verdict was ${report.verdict} (exit ${report.exitCode})`,
      lost: 'its report is lost',
      exitCode: exitCodeForFormat(report, format),
    });
  },
};

// The gate's command-line options (a yargs fragment shared by check, gate and fleet) and reading them.
import type { Argv } from 'yargs';
import { UsageError } from '../usage-error.js';
import { EMPTY_POLICY, type GatePolicy } from './evaluate.js';
import { parseRequirements } from './names.js';
import { loadPolicy, mergePolicies } from './policy.js';

/** Adds --require, --min-pps, --min-ratio, --strict, --policy. */
export function withGateOptions<T>(yargs: Argv<T>): Argv<T> {
  return yargs
    .option('require', {
      // One value per --require (repeat it, or comma-separate names): an array option would take the
      // report paths that follow it as names (`gate --require COOP_TASKRUN report.json`).
      type: 'string',
      requiresArg: true,
      describe: 'fail (exit 2) unless the host has NAME: a setup flag (COOP_TASKRUN), feature (EXT_ARG), op:NAME (op:SEND_ZC), IOWQ_MAX_WORKERS, multishot-recvmsg, or a probe id that must pass; repeat it or comma-separate: --require COOP_TASKRUN,op:SEND_ZC',
      group: 'Gating:',
    })
    .option('min-pps', {
      type: 'number',
      describe: 'fail when the seed mode receives fewer packets/s than this (needs the throughput probe)',
      group: 'Gating:',
    })
    .option('min-ratio', {
      type: 'number',
      describe: 'fail when seed pps / syscall pps is below this (needs the throughput probe)',
      group: 'Gating:',
    })
    .option('strict', {
      type: 'boolean',
      describe: 'a degraded verdict fails the gate (exit 2)',
      group: 'Gating:',
    })
    .option('policy', {
      type: 'string',
      describe: 'JSON policy file with the same: {"require": [...], "minPps": N, "minRatio": R, "strict": true}',
      group: 'Gating:',
    }) as unknown as Argv<T>;
}

function nonNegative(argv: Record<string, unknown>, key: string, example: string): number | null {
  const v = argv[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new UsageError(`--${key} must be a non-negative number, got '${String(v)}'`, `pass e.g. --${key} ${example}`);
  }
  return v;
}

function stringList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => String(x));
}

/**
 * The gate policy from parsed options (--policy merged with the command line), or null when
 * no gate option was given. Throws UsageError for an unknown requirement name or a bad policy file.
 */
export function policyFromArgv(argv: Record<string, unknown>): GatePolicy | null {
  const requireList = stringList(argv['require']);
  const requirements = parseRequirements(requireList);
  // `--require ,` names nothing: a gate that checks nothing must not pass silently.
  if (argv['require'] !== undefined && requirements.length === 0) {
    throw new UsageError('--require needs at least one name', 'pass e.g. --require COOP_TASKRUN,op:SEND_ZC');
  }
  const fromCli: GatePolicy = {
    ...EMPTY_POLICY,
    requirements,
    minPps: nonNegative(argv, 'min-pps', '100000'),
    minRatio: nonNegative(argv, 'min-ratio', '0.8'),
    strict: argv['strict'] === true,
  };
  const policyPath = argv['policy'];
  if (policyPath !== undefined && (typeof policyPath !== 'string' || policyPath === '')) {
    throw new UsageError('--policy needs a file name', 'pass e.g. --policy uring-policy.json');
  }
  const given =
    requireList.length > 0 || fromCli.minPps !== null || fromCli.minRatio !== null || fromCli.strict || typeof policyPath === 'string';
  if (!given) return null;
  return typeof policyPath === 'string' ? mergePolicies(loadPolicy(policyPath), fromCli) : fromCli;
}

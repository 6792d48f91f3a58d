// Prometheus text exposition format (0.0.4) for node_exporter's textfile collector.
import type { ErrorDocument, ProbeStatus, Report, Verdict } from '../types.js';
import { hostCapabilities } from '../gate/host-capabilities.js';
import { FEATURES, OPCODES, SETUP_FLAGS } from '../gate/names.js';

type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Labels; value: number }>;
}

const VERDICTS: readonly Verdict[] = ['compatible', 'degraded', 'incompatible', 'unknown'];
const STATUSES: readonly ProbeStatus[] = ['pass', 'warn', 'fail', 'skip'];

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function renderFamilies(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} gauge`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels);
      const labelText = labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${labelText} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

const bit = (b: boolean): number => (b ? 1 : 0);

/**
 * The report as gauges: verdict, exit code, each probe's status, feature bits, setup flags and
 * opcodes (1 supported, 0 not; absent when not measured), ring entries, throughput, gate.
 */
export function renderPrometheus(report: Report): string {
  const caps = hostCapabilities(report);
  const families: Family[] = [];
  const add = (name: string, help: string, samples: Family['samples']): void => {
    families.push({ name: `uring_probe_${name}`, help, samples });
  };

  add('up', '1 when the check produced a report, 0 when it could not run', [{ labels: {}, value: 1 }]);
  add('info', 'Tool and kernel of the last check (value always 1)', [{
    labels: {
      version: report.tool.version,
      kernel_release: report.host.kernelRelease,
      arch: report.host.arch,
      distribution: report.host.distribution ?? '',
    },
    value: 1,
  }]);
  add('verdict', 'Verdict of the last check: 1 for the current verdict, 0 for the others',
    VERDICTS.map((v) => ({ labels: { verdict: v }, value: bit(report.verdict === v) })));
  add('exit_code', 'Exit code of the last check (0 compatible, 1 degraded, 2 incompatible or gate unmet, 3 unknown)',
    [{ labels: {}, value: report.exitCode }]);
  add('last_run_timestamp_seconds', 'When the last check started, seconds since the epoch',
    [{ labels: {}, value: Math.floor(Date.parse(report.startedAt) / 1000) }]);
  add('duration_seconds', 'How long the last check took',
    [{ labels: {}, value: report.durationMs / 1000 }]);
  add('probe_status', 'Status of each probe: 1 for its current status, 0 for the others',
    report.probes.flatMap((p) => STATUSES.map((s) => ({ labels: { probe: p.id, status: s }, value: bit(p.status === s) }))));
  add('probe_reason', 'Reason code of each probe that has one (value always 1)',
    report.probes.filter((p) => p.reason !== null).map((p) => ({ labels: { probe: p.id, reason: p.reason as string }, value: 1 })));

  if (caps.features.known) {
    const have = caps.features.value;
    add('feature', 'IORING_FEAT_* bits the kernel reports: 1 present, 0 absent',
      FEATURES.map((f) => ({ labels: { feature: f.name }, value: bit(have.has(f.name)) })));
  }
  if (caps.setupFlags.known) {
    const table = caps.setupFlags.value;
    add('setup_flag', 'IORING_SETUP_* flags io_uring_setup accepted: 1 accepted, 0 refused (only the flags tried)',
      SETUP_FLAGS.filter((f) => table.has(f.name)).map((f) => ({ labels: { flag: f.name }, value: bit(table.get(f.name)!.accepted) })));
  }
  if (caps.ops.known) {
    const table = caps.ops.value;
    add('opcode', 'IORING_OP_* operations the kernel supports (IORING_REGISTER_PROBE): 1 supported, 0 not',
      OPCODES.filter((op) => table.has(op)).map((op) => ({ labels: { op }, value: bit(table.get(op) === true) })));
  }
  if (caps.multishotRecvmsg.known) {
    add('multishot_recvmsg', 'Multishot RECVMSG with a provided buffer ring worked when tried: 1 yes, 0 no',
      [{ labels: {}, value: bit(caps.multishotRecvmsg.value) }]);
  }
  if (caps.workerLimit.known) {
    add('iowq_max_workers', 'IORING_REGISTER_IOWQ_MAX_WORKERS accepted: 1 yes, 0 no (io-wq workers unbounded)',
      [{ labels: {}, value: bit(caps.workerLimit.value.accepted) }]);
  }
  const ringSamples = (pick: (r: NonNullable<typeof caps.rings.send>) => number | null): Family['samples'] =>
    (['send', 'recv'] as const).flatMap((ring) => {
      const r = caps.rings[ring];
      const v = r ? pick(r) : null;
      return v === null ? [] : [{ labels: { ring }, value: v }];
    });
  add('ring_entries', 'SQ entries of each of the seed\'s rings after its setup ladder', ringSamples((r) => r.entries));
  add('ring_requested_entries', 'SQ entries each of the seed\'s rings asked for', ringSamples((r) => r.requestedEntries));
  add('ring_setup_attempts', 'io_uring_setup attempts of the seed\'s ladder per ring (1 = first accepted)', ringSamples((r) => r.attempts));

  if (caps.throughput.known) {
    const t = caps.throughput.value;
    add('throughput_packets_per_second', 'Received UDP packets/s over loopback per engine mode in the last check',
      Object.entries(t.modes).map(([mode, pps]) => ({ labels: { mode }, value: pps })));
    if (t.ratio !== null) {
      add('throughput_ratio', 'Seed-mode packets/s divided by plain-syscall packets/s', [{ labels: {}, value: t.ratio }]);
    }
  }
  if (report.gate) {
    add('gate_passed', 'The last check met every requirement it was gated on: 1 yes, 0 no',
      [{ labels: {}, value: bit(report.gate.passed) }]);
    add('gate_unmet', 'Requirements the last check did not meet (value always 1)',
      report.gate.unmet.map((u) => ({ labels: { requirement: u.requirement }, value: 1 })));
  }
  return renderFamilies(families);
}

/** What the textfile collector gets when the check could not produce a report: up 0 and the error code. */
export function renderPrometheusError(doc: ErrorDocument): string {
  return renderFamilies([
    { name: 'uring_probe_up', help: '1 when the check produced a report, 0 when it could not run', samples: [{ labels: {}, value: 0 }] },
    { name: 'uring_probe_error', help: 'Why the last check produced no report (value always 1)', samples: [{ labels: { code: doc.error.code }, value: 1 }] },
    { name: 'uring_probe_exit_code', help: 'Exit code the check would have had (0 compatible, 1 degraded, 2 incompatible or gate unmet, 3 unknown)', samples: [{ labels: {}, value: doc.exitCode }] },
  ]);
}

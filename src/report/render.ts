// Picks the renderer for --format: human, json, junit, prometheus or nagios (one choice for the whole output).
import type { Report } from '../types.js';
import { renderHuman } from './human.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { nagiosExitCode, renderNagios } from './nagios.js';
import { renderPrometheus } from './prometheus.js';

export const REPORT_FORMATS = ['human', 'json', 'junit', 'prometheus', 'nagios'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderOptions {
  color: boolean;
  verbose: boolean;
  /** terminal width for the human table, when known */
  width?: number;
}

export function isReportFormat(value: unknown): value is ReportFormat {
  return typeof value === 'string' && (REPORT_FORMATS as readonly string[]).includes(value);
}

/** The report in `format`; every format ends with a newline. */
export function renderReport(report: Report, format: ReportFormat, options: RenderOptions): string {
  switch (format) {
    case 'human':
      return renderHuman(report, { color: options.color, verbose: options.verbose, width: options.width });
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderJunit(report);
    case 'prometheus':
      return renderPrometheus(report);
    case 'nagios':
      return renderNagios(report);
  }
}

/**
 * The exit code of a run in `format`: the report's own code, except prometheus, which always
 * exits 0 so that a systemd timer feeding the textfile collector never flaps (the verdict and
 * exit code are in the metrics); nagios exits with the plugin state its status line names (0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN: the verdict's own code).
 */
export function exitCodeForFormat(report: Report, format: ReportFormat): number {
  if (format === 'prometheus') return 0;
  if (format === 'nagios') return nagiosExitCode(report);
  return report.exitCode;
}

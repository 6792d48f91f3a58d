// A strict reader of monitoring-plugin output, after the Monitoring Plugins Development Guidelines
// ("Plugin Output", "Performance data"): `SERVICE STATE - text | perfdata` on the first line, long
// output after it, perfdata items `'label'=value[UOM];[warn];[crit];[min];[max]` separated by spaces.
// It throws on anything the guidelines do not allow, so a test that reads an output checks its grammar.
import { spawnSync } from 'node:child_process';

export const PLUGIN_STATES = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type PluginState = keyof typeof PLUGIN_STATES;

export interface PerfItem {
  label: string;
  value: number;
  uom: string;
  warn: string | null;
  crit: string | null;
  min: number | null;
  max: number | null;
}

export interface PluginOutput {
  service: string;
  state: PluginState;
  text: string;
  perf: PerfItem[];
  long: string[];
}

/** A plain decimal: no exponent, no sign other than a leading minus, no NaN/Infinity. */
const NUM = String.raw`-?(?:\d+(?:\.\d+)?|\.\d+)`;
/** A threshold range: N, N:, ~:N, N:M, each with an optional leading @ (inside). */
const RANGE = String.raw`@?(?:${NUM}|(?:${NUM}|~):(?:${NUM})?)`;
/** The units the guidelines allow, or none. */
const UOM = '(?:s|ms|us|%|B|KB|MB|TB|c)?';
/** A label: quoted (any character but `'` and `=`, a quote doubled) or bare (no space, `'` or `=`). */
const LABEL = String.raw`'(?:[^'=]|'')+'|[^\s'=|]+`;
const ITEM = new RegExp(String.raw`(${LABEL})=(${NUM})(${UOM})(?:;(${RANGE})?(?:;(${RANGE})?(?:;(${NUM})?(?:;(${NUM})?)?)?)?)?(?= |$)`, 'y');
/** C0, DEL and C1 controls: never in plugin text. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** The perfdata items of `text` (space-separated), or a throw naming where the grammar breaks. */
export function parsePerfdata(text: string): PerfItem[] {
  const items: PerfItem[] = [];
  let at = 0;
  while (at < text.length) {
    ITEM.lastIndex = at;
    const m = ITEM.exec(text);
    if (!m) throw new Error(`perfdata: not a 'label'=value[UOM];[warn];[crit];[min];[max] item at ${at}: ${JSON.stringify(text.slice(at, at + 80))}`);
    const rawLabel = m[1]!;
    items.push({
      label: rawLabel.startsWith("'") ? rawLabel.slice(1, -1).replace(/''/g, "'") : rawLabel,
      value: Number(m[2]),
      uom: m[3] ?? '',
      warn: m[4] ?? null,
      crit: m[5] ?? null,
      min: m[6] === undefined ? null : Number(m[6]),
      max: m[7] === undefined ? null : Number(m[7]),
    });
    at = ITEM.lastIndex;
    if (at < text.length) {
      if (text[at] !== ' ' || text[at + 1] === ' ' || at + 1 === text.length) throw new Error(`perfdata: items must be separated by one space, at ${at}: ${JSON.stringify(text)}`);
      at += 1;
    }
  }
  if (items.length === 0) throw new Error('perfdata: empty after |');
  const labels = items.map((i) => i.label);
  if (new Set(labels).size !== labels.length) throw new Error(`perfdata: a label repeats: ${labels.join(' ')}`);
  return items;
}

/** The whole output of one plugin run, read strictly. */
export function parsePluginOutput(output: string): PluginOutput {
  if (!output.endsWith('\n')) throw new Error('plugin output: does not end with a newline');
  if (output.includes('\r')) throw new Error('plugin output: carries a carriage return');
  const lines = output.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    if (CONTROL.test(line) || line.includes('\t')) throw new Error(`plugin output line ${i + 1}: a control character: ${JSON.stringify(line)}`);
    if (line.trim() === '') throw new Error(`plugin output line ${i + 1}: empty`);
  }
  const first = /^([A-Za-z0-9_.-]+) (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*[^|\s])(?: \| (.+))?$/.exec(lines[0]!);
  if (!first) throw new Error(`plugin output: status line is not 'SERVICE STATE - text | perfdata': ${JSON.stringify(lines[0])}`);
  const long = lines.slice(1);
  for (const line of long) {
    if (line.includes('|')) throw new Error(`plugin output: a | in long output would start perfdata: ${JSON.stringify(line)}`);
  }
  return {
    service: first[1]!,
    state: first[2] as PluginState,
    text: first[3]!,
    perf: first[4] === undefined ? [] : parsePerfdata(first[4]),
    long,
  };
}

/** Why Perl's Monitoring::Plugin (Debian libmonitoring-plugin-perl) cannot be used here, or null. */
export function missingMonitoringPluginPerl(): string | null {
  const r = spawnSync('perl', ['-MMonitoring::Plugin::Performance', '-e', '1'], { encoding: 'utf8' });
  if (r.error) return 'perl is not installed (apt-get install perl libmonitoring-plugin-perl)';
  return r.status === 0 ? null : 'Monitoring::Plugin is not installed (apt-get install libmonitoring-plugin-perl)';
}

export interface PerlPerfItem {
  label: string;
  value: number;
  uom: string;
  min: string | null;
  max: string | null;
  warn: string | null;
  crit: string | null;
  /** Monitoring::Plugin::Threshold->get_status(value): 0 OK, 1 WARNING, 2 CRITICAL */
  status: number;
}

const PERL_PARSE = String.raw`
use strict; use warnings;
use Monitoring::Plugin::Performance; use JSON::PP;
my $s = do { local $/; <STDIN> }; chomp $s;
my @out;
for my $p (Monitoring::Plugin::Performance->parse_perfstring($s)) {
  my $t = $p->threshold;
  my $range = sub { my $r = shift; return ($r && $r->is_set) ? "$r" : undef };
  push @out, { label => $p->label, value => 0 + $p->value, uom => $p->uom // '',
    min => $p->min, max => $p->max, warn => $range->($t->warning), crit => $range->($t->critical),
    status => 0 + $t->get_status($p->value) };
}
print JSON::PP->new->canonical->encode(\@out);
`;

/** The perfdata as Monitoring::Plugin::Performance->parse_perfstring reads it (the reference Perl library). */
export function perlParsePerfdata(perfdata: string): PerlPerfItem[] {
  const r = spawnSync('perl', ['-e', PERL_PARSE], { input: perfdata, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`perl Monitoring::Plugin: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as PerlPerfItem[];
}

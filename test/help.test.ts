// --help through the real CLI: every command lists its own exit codes, the top-level help lists them
// all, examples are whole command lines (never wrapped in the middle), and the Prometheus textfile
// path is the same in the help, the README, docs/reference.md and the example unit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { COMMON_EXIT_CODES, EXIT_CODES, HELP_WIDTH } from '../src/cli/help.js';
import { commands } from '../src/commands/index.js';
import { runCli } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';

const COMMAND_NAMES = [...commands.map((c) => c.command.split(' ')[0]!), 'completion'];

function help(args: string[]): string {
  const run = runCli([...args, '--help']);
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

/** The lines of the section that starts with `title` (up to the next blank line followed by a non-indented line). */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line !== '' && !line.startsWith(' ')) break;
    out.push(line);
  }
  return out.filter((l) => l !== '');
}

describe('--help', () => {
  it('every command has an exit-code table, and the top-level help lists every command\'s', () => {
    assert.deepEqual(Object.keys(EXIT_CODES).sort(), [...COMMAND_NAMES].sort());
    const top = help([]);
    for (const name of COMMAND_NAMES) {
      assert.match(top, new RegExp(`^  ${name}$`, 'm'), `top-level help lists ${name}`);
      const own = help([name]);
      const codes = section(own, 'Exit codes:').join('\n');
      for (const [code] of [...EXIT_CODES[name]!, ...COMMON_EXIT_CODES]) {
        if (code !== '') assert.match(codes, new RegExp(`^  ${code.replace('+', '\\+')} `, 'm'), `${name} --help lists exit ${code}`);
      }
    }
  });

  it('examples are whole command lines that fit 80 columns, and their options exist on the command', () => {
    for (const name of COMMAND_NAMES) {
      const text = help([name]);
      const examples = section(text, 'Examples:');
      if (name !== 'completion') assert.ok(examples.length > 0, `${name} has examples`);
      for (const line of examples) {
        assert.ok(line.length <= HELP_WIDTH, `${name}: '${line}' is ${line.length} columns`);
        if (line.startsWith('  # ')) continue;
        const words = line.trim().split(/\s+/);
        if (words[0] !== 'uring-probe') continue; // docker run ..., cat ... | uring-probe ...
        assert.equal(words[1], name, line);
        for (const word of words.filter((w) => w.startsWith('--'))) {
          const option = word.split('=')[0]!.replace(/^--no-/, '--');
          assert.match(text, new RegExp(`^\\s+(-\\w, )?${option}\\b`, 'm'), `${name}: ${option} of '${line.trim()}' is in its options`);
        }
      }
    }
  });

  it('the Prometheus textfile path is the same in check --help, the README, docs/reference.md and the example unit', () => {
    const path = '/var/lib/prometheus/node-exporter/uring-probe.prom';
    assert.ok(help(['check']).includes(path), 'check --help');
    assert.ok(readFileSync(join(ROOT, 'README.md'), 'utf8').includes(path), 'README.md');
    assert.ok(readFileSync(join(ROOT, 'docs', 'reference.md'), 'utf8').includes(path), 'docs/reference.md');
    const unit = readFileSync(join(ROOT, 'examples', 'node-exporter', 'uring-probe-textfile.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStartPost=.* ${path.replace(/\./g, '\\.')}$`, 'm'), 'the unit links it');
    for (const other of ['/var/lib/node_exporter/textfile', 'uring.prom']) {
      assert.ok(!help(['check']).includes(other), `check --help no longer says ${other}`);
    }
  });
});

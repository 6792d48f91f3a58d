// The raw command line: a scalar option given twice and an empty number are usage errors (64),
// through the real CLI; repeatable options (--require, --size) stay repeatable.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertArgvConventions } from '../src/cli/argv-guard.js';
import { UsageError } from '../src/usage-error.js';
import { runCli } from './helpers/launcher.js';
import { REPORTS } from './helpers/paths.js';

const REPORT = join(REPORTS, '6.18-compatible.json');

describe('command-line conventions', () => {
  it('a repeated scalar option is refused, in every spelling; repeatable ones and values after -- are not', () => {
    for (const args of [
      ['check', '--timeout', '3000', '--timeout', '1'],
      ['gate', '--min-pps', '100000', '--min-pps', '1', REPORT],
      ['gate', '--min-pps=1', '--min-pps=2', REPORT],
      ['check', '-o', 'a.json', '--output', 'b.json'],
      ['check', '--bench', '--no-bench'],
    ]) {
      assert.throws(() => assertArgvConventions(args), UsageError, args.join(' '));
    }
    assert.doesNotThrow(() => assertArgvConventions(['gate', '--require', 'A', '--require', 'B', REPORT]));
    assert.doesNotThrow(() => assertArgvConventions(['bench', '--size', '64', '--size', '1400']));
    assert.doesNotThrow(() => assertArgvConventions(['gate', '--min-pps', '1', '--', '--min-pps', '2']));
  });

  it('through the CLI: exit 64 with one line (or one JSON error), never a silently added-up number', () => {
    const twice = runCli(['gate', REPORT, '--min-pps', '100000', '--min-pps', '1']);
    assert.equal(twice.status, 64, twice.stdout);
    assert.equal(twice.stderr.trim().split('\n').length, 1);
    assert.match(twice.stderr, /--min-pps was given more than once/);

    const empty = runCli(['gate', REPORT, '--min-pps', '']);
    assert.equal(empty.status, 64, empty.stdout);
    assert.match(empty.stderr, /--min-pps needs a number, got an empty value/);

    const json = runCli(['check', '--json', '--no-bench', '--timeout', '3000', '--timeout', '1']);
    assert.equal(json.status, 64);
    const doc = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'USAGE');
    assert.match(doc.error.message, /--timeout was given more than once/);
  });
});

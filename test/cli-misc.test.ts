// The built CLI's --version and shell completion: the script from `completion`, and the answers the
// script asks for (`--get-yargs-completions WORDS...`), also through a real bash (and zsh when present).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from './helpers/launcher.js';
import { CLI_PATH as CLI, makeTempDir, removeDir, VERSION } from './helpers/paths.js';
import { missingCommand } from './helpers/require.js';

/** The CLI as a shell's completion calls it: $SHELL says which shell, ZSH_NAME unset. */
function cli(args: string[], shell = '/bin/bash'): CliRun {
  return runCli(args, { env: { SHELL: shell, ZSH_NAME: undefined }, timeoutMs: 30_000 });
}

/** What the shell script gets back for these words (as bash passes them: the program name first). */
function complete(words: string[], shell = '/bin/bash'): string[] {
  const r = cli(['--get-yargs-completions', 'uring-probe', ...words], shell);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean);
}

describe('uring-probe --version', () => {
  it('prints just the package version and exits 0', () => {
    const r = cli(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    assert.equal(r.stderr, '');
  });

  it('is the package version from any working directory', () => {
    const r = spawnSync(process.execPath, [CLI, '--version'], { cwd: tmpdir(), encoding: 'utf8' });
    assert.equal(r.stdout, `${VERSION}\n`);
  });
});

describe('uring-probe completion', () => {
  it('prints the bash script: a complete -F line for uring-probe that asks uring-probe itself', () => {
    const r = cli(['completion', '--shell', 'bash'], '/usr/bin/zsh');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^complete -o bashdefault -o default -F _uring-probe_yargs_completions uring-probe$/m);
    assert.match(r.stdout, /uring-probe --get-yargs-completions/);
    assert.doesNotMatch(r.stdout, /\.js\b/);
  });

  it('prints the zsh script with --shell zsh: #compdef and a compdef line', () => {
    const r = cli(['completion', '--shell', 'zsh']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#compdef uring-probe$/m);
    assert.match(r.stdout, /^compdef _uring-probe_yargs_completions uring-probe$/m);
  });

  it('without --shell follows $SHELL', () => {
    assert.match(cli(['completion'], '/bin/bash').stdout, /^complete -o .* -F /m);
    assert.match(cli(['completion'], '/usr/bin/zsh').stdout, /^compdef /m);
  });

  it('--help says how to install it (and does not print the script)', () => {
    const r = cli(['completion', '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Install it once/);
    assert.match(r.stdout, /uring-probe completion --shell bash >> ~\/\.bashrc/);
    assert.match(r.stdout, /uring-probe completion --shell zsh >> ~\/\.zshrc/);
    assert.doesNotMatch(r.stdout, /complete -o|###-begin/);
  });

  it('an unknown shell is a usage error', () => {
    const r = cli(['completion', '--shell', 'fish']);
    assert.equal(r.status, 64);
    assert.match(r.stderr, /^uring-probe: Invalid values/);
  });
});

describe('--get-yargs-completions (what the script asks)', () => {
  it('check -- gives check\'s option names (--no-bench, not --bench; no --o / --v)', () => {
    for (const words of [['check', '--'], ['uring-probe', 'check', '--']]) {
      const r = cli(['--get-yargs-completions', ...words]);
      assert.equal(r.status, 0, r.stderr);
      const got = r.stdout.split('\n').filter(Boolean);
      for (const o of ['--json', '--format', '--output', '--no-bench', '--require', '--user', '--seccomp-profile', '--timeout', '--help']) {
        assert.ok(got.includes(o), `${o} in ${got.join(' ')}`);
      }
      for (const o of ['--bench', '--o', '--v']) assert.ok(!got.includes(o), `${o} offered`);
    }
  });

  it('completes commands, fixed option values and explain IDs', () => {
    const commands = complete(['']);
    for (const c of ['check', 'bench', 'gate', 'fleet', 'diff', 'explain', 'completion']) assert.ok(commands.includes(c), c);
    assert.deepEqual(complete(['check', '--format', '']), ['human', 'json', 'junit', 'prometheus', 'nagios']);
    assert.deepEqual(complete(['completion', '--shell', '']), ['bash', 'zsh']);
    assert.deepEqual(complete(['explain', 'ri']), ['ring-setup', 'RING_SHRUNK']);
    assert.ok(complete(['explain', '']).includes('SECCOMP_BLOCKED'));
    assert.ok(complete(['explain', 'ring-setup', '--']).includes('--json'));
  });

  it('answers zsh with descriptions', () => {
    const got = complete(['check', '--'], '/usr/bin/zsh');
    assert.ok(got.some((l) => /^--json:\S/.test(l)), got.join('\n'));
    assert.ok(got.some((l) => /^--no-bench:/.test(l)), got.join('\n'));
    assert.deepEqual(complete(['explain', 'SECC'], '/usr/bin/zsh'), ['SECCOMP_BLOCKED:a seccomp filter refuses or kills the io_uring syscalls']);
  });
});

describe('the script in a real shell', () => {
  let bin: string;
  before(() => {
    bin = makeTempDir('uring-probe-completion-');
    // uring-probe on PATH, as an installed package puts it
    writeFileSync(join(bin, 'uring-probe'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(bin, 'uring-probe'), 0o755);
  });
  after(() => removeDir(bin));

  it('bash: the completion function completes commands, options and explain IDs', { skip: missingCommand('bash') ?? false }, () => {
    const script = [
      'source <(uring-probe completion --shell bash)',
      'try() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _uring-probe_yargs_completions; echo "${COMPREPLY[*]}"; }',
      'try uring-probe expl',
      'try uring-probe check --no',
      'try uring-probe explain SECC',
      'try uring-probe check --format j',
    ].join('\n');
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, SHELL: '/bin/bash' }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['explain', '--no-bench', 'SECCOMP_BLOCKED', 'json junit']);
  });

  it('zsh: the script registers its completion function with compdef', { skip: missingCommand('zsh') ?? false }, () => {
    const dump = join(bin, 'zcompdump');
    const r = spawnSync('zsh', ['-fc', `autoload -Uz compinit && compinit -u -d ${dump} && source <(uring-probe completion --shell zsh) && print -r -- "$_comps[uring-probe]"`], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '_uring-probe_yargs_completions');
  });
});

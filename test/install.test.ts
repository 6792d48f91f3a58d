// (a) Install where there is no compiler: the tarball `npm pack` makes, installed into an empty
// directory with gcc/g++/cc/c++/make/python3 hidden (a private mount namespace: /dev/null bound
// over every one of them on PATH, an empty read-only tmpfs over /usr/lib/gcc), then the installed
// CLI runs `check --json --no-bench` and its addon must be the package's prebuilt one.
//
// Why `npm pack --ignore-scripts`: prepack (build:ts, then the prebuild when it is older than
// native/) and prepare (build:ts) would rebuild dist/, which this very suite runs from, and could
// rebuild the prebuild that prebuild.test.ts checks, halfway through a run. Both inputs are what
// they would produce: `npm test` has just compiled dist/, and prebuild.test.ts checks the
// prebuild's glibc needs; a prebuild older than native/ is reported below (prepack would rebuild it).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../src/types.js';
import { probeById } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';
import { missingCommand, notRoot, skipReason } from './helpers/require.js';

const PREBUILD = join(ROOT, 'prebuilds', 'linux-x64', 'uring-probe.napi.glibc.node');

// Runs inside `unshare -m` (mounts vanish with it): hides the toolchain, proves it is hidden, then
// execs `npm install` of the tarball ($2) into the empty directory $1.
const HIDE_TOOLCHAIN_AND_INSTALL = String.raw`
set -eu
hidden=" "
hide() {
  real="$(readlink -f "$1")"
  case "$hidden" in *" $real "*) return 0 ;; esac
  mount --bind /dev/null "$real"
  hidden="$hidden$real "
  echo "hidden: $1 -> $real"
}
old_ifs="$IFS"; IFS=:
for dir in $PATH; do
  for c in gcc g++ cc c++ make python3 python; do
    if [ -e "$dir/$c" ]; then hide "$dir/$c"; fi
  done
done
IFS="$old_ifs"
if [ -d /usr/lib/gcc ]; then mount -t tmpfs -o ro,size=4k none /usr/lib/gcc; echo "hidden: /usr/lib/gcc (cc1, cc1plus, collect2)"; fi
for c in gcc g++ cc c++ make python3 python; do
  if "$c" --version >/dev/null 2>&1; then echo "STILL RUNS: $c --version" >&2; exit 90; fi
  echo "verified: $c --version fails"
done
for d in /usr/bin/*gcc* /usr/bin/*g++* /usr/bin/c++ /usr/bin/cc; do
  [ -e "$d" ] || continue
  if printf 'int main(void){return 0;}\n' | "$d" -x c - -o /dev/null >/dev/null 2>&1; then echo "STILL COMPILES: $d" >&2; exit 91; fi
done
echo "verified: no C/C++ compiler in /usr/bin compiles"
cd "$1"
exec npm install --prefer-offline --no-audit --no-fund --foreground-scripts "$2"
`;

/** native/ files newer than the prebuild (prepack would rebuild it before a real pack) */
function newerThanPrebuild(): string[] {
  const built = statSync(PREBUILD).mtimeMs;
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (statSync(path).mtimeMs > built) found.push(path.slice(ROOT.length + 1));
    }
  };
  walk(join(ROOT, 'native'));
  return found;
}

describe('(a) npm install of the packed tarball where there is no compiler, python or make', {
  skip: skipReason(
    notRoot('unshare -m and bind mounts hide the toolchain'),
    missingCommand('unshare'),
    !existsSync(PREBUILD) && 'run scripts/build-prebuild.sh (needs root and debootstrap)',
  ),
}, () => {
  let work = '';
  let tarball = '';
  let packed: string[] = [];
  let install: SpawnSyncReturns<string> | null = null;
  const app = () => join(work, 'app');
  const installed = () => join(app(), 'node_modules', 'uring-probe');

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'uring-probe-install-'));
    mkdirSync(join(work, 'pack'));
    mkdirSync(app()); // empty: no package.json, no node_modules
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', join(work, 'pack')], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000,
    });
    assert.equal(pack.status, 0, `npm pack: ${pack.stderr}`);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, 'pack', info!.filename);
    packed = info!.files.map((f) => f.path);
    const env = { ...process.env };
    delete env.PYTHON;
    delete env.npm_config_python;
    delete env.npm_config_build_from_source;
    install = spawnSync('unshare', ['-m', 'sh', '-c', HIDE_TOOLCHAIN_AND_INSTALL, 'sh', app(), tarball], {
      encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL', env,
    });
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball ships the prebuild, the compiled CLI and the sources, and no build/', (t) => {
    for (const path of ['prebuilds/linux-x64/uring-probe.napi.glibc.node', 'dist/bin/uring-probe.js', 'dist/src/native.js', 'binding.gyp', 'native/addon.cc', 'package.json']) {
      assert.ok(packed.includes(path), `${path} is in the tarball`);
    }
    assert.deepEqual(packed.filter((p) => p.startsWith('build/')), [], 'no build/ in the tarball');
    const stale = newerThanPrebuild();
    if (stale.length) t.diagnostic(`note: the prebuild is older than ${stale.slice(0, 3).join(', ')}: the real npm pack (prepack) would rebuild it`);
    t.diagnostic(`${tarball.split('/').pop()}: ${packed.length} files, ${statSync(tarball).size} bytes`);
  });

  it('installs with no toolchain reachable (verified inside: g++ --version fails), without building', (t) => {
    assert.ok(install, 'the install ran');
    const output = `${install.stdout}\n${install.stderr}`;
    assert.equal(install.signal, null, `npm install killed by ${install.signal}\n${output.slice(-3000)}`);
    assert.doesNotMatch(output, /STILL (RUNS|COMPILES)/, output);
    for (const c of ['gcc', 'g++', 'cc', 'c++', 'make', 'python3']) assert.match(install.stdout, new RegExp(`verified: ${c.replace(/\+/g, '\\+')} --version fails`));
    assert.equal(install.status, 0, `npm install failed:\n${output.slice(-3000)}`);
    assert.match(install.stdout, /> node-gyp-build/, 'the package\'s install script ran');
    assert.doesNotMatch(output, /gyp info|node-gyp rebuild|gyp ERR/, 'node-gyp was never started');
    assert.ok(existsSync(join(installed(), 'package.json')), 'node_modules/uring-probe is installed');
    assert.ok(!existsSync(join(installed(), 'build')), 'no build/ in the installed package: nothing was compiled');
    t.diagnostic(install.stdout.split('\n').filter((l) => l.startsWith('hidden:')).join('; '));
  });

  it('the installed uring-probe check --json --no-bench runs on the prebuilt addon', (t) => {
    assert.equal(install?.status, 0, 'npm install succeeded');
    const require = createRequire(join(installed(), 'package.json'));
    const resolved = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(installed());
    assert.equal(resolved, join(installed(), 'prebuilds', 'linux-x64', 'uring-probe.napi.glibc.node'), 'node-gyp-build picks the prebuild');

    const run = spawnSync(join(app(), 'node_modules', '.bin', 'uring-probe'), ['check', '--json', '--no-bench'], {
      cwd: app(), encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(run.signal, null, `killed by ${run.signal}: ${run.stderr}`);
    let report: Report;
    try {
      report = JSON.parse(run.stdout) as Report;
    } catch (err) {
      assert.fail(`stdout is not one JSON document (${(err as Error).message}); exit ${run.status}\nstdout: ${run.stdout.slice(0, 500)}\nstderr: ${run.stderr.slice(-1500)}`);
    }
    const ring = probeById(report, 'ring-setup');
    t.diagnostic(`installed package, node ${process.version}: verdict ${report.verdict} (exit ${run.status}); ring-setup ${ring.status}${ring.reason ? ` ${ring.reason}` : ''}: ${ring.summary}`);
    assert.ok(['compatible', 'degraded', 'incompatible', 'unknown'].includes(report.verdict), `verdict ${report.verdict}`);
    assert.equal(run.status, report.exitCode, run.stderr);
    assert.equal(report.tool.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    assert.notEqual(ring.reason, 'PROBE_ERROR', `the addon did not load: ${ring.summary}`);
    assert.notEqual(ring.status, 'skip', `ring-setup did not run: ${ring.summary}`);
  });
});

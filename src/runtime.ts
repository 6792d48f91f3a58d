// How this process is packaged, in one place: the npm package (dist/ next to package.json, the addon
// found by node-gyp-build) or the single executable (scripts/build-sea.mjs: Node 24 + one bundle +
// assets). Everything that needs a file of the package, the probe child's command line or the addon
// asks here.
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddonLoadError, setEmbeddedAddonLoader, type Addon } from './native.js';

/** The hidden first argument that makes the single executable the kernel-probe child. */
export const CHILD_ARGUMENT = '--uring-probe-child';

/**
 * The single executable's assets (scripts/build-sea.mjs writes these keys into sea-config.json).
 * The text resources are keyed by their path in the package, so one name serves both packagings.
 */
export const SEA_ASSETS = {
  addon: 'uring_probe.node',
  packageJson: 'package.json',
  schema: 'schema/report-v1.schema.json',
} as const;

export type PackageResource = typeof SEA_ASSETS.packageJson | typeof SEA_ASSETS.schema;

/** The parts of `node:sea` we use (Node 20.12+ / 21.7+; older Nodes have no such module). */
interface SeaApi {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
  getRawAsset(key: string): ArrayBuffer | string;
}

let seaApi: SeaApi | null | undefined;

/** `node:sea` when this process is a single executable, else null (also on Nodes without node:sea). */
function sea(): SeaApi | null {
  if (seaApi === undefined) {
    try {
      const api = createRequire(import.meta.url)('node:sea') as SeaApi;
      seaApi = api.isSea() ? api : null;
    } catch {
      seaApi = null;
    }
  }
  return seaApi;
}

/** true inside dist/uring-probe-linux-x64 (node:sea says so), false when run by `node dist/...`. */
export function isSingleExecutable(): boolean {
  return sea() !== null;
}

/** The package root (dist/src -> ..): only meaningful outside the single executable. */
function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * Where a package file lives: its path in the package, or, in the single executable (which has no
 * package directory), `sea:RESOURCE`, a name for messages only.
 */
export function packageFile(resource: PackageResource): string {
  return isSingleExecutable() ? `sea:${resource}` : join(packageRoot(), resource);
}

/** A text file of the package (package.json, the report schema): the SEA asset, or the file. Throws when missing. */
export function packageText(resource: PackageResource): string {
  const api = sea();
  return api ? api.getAsset(resource, 'utf8') : readFileSync(join(packageRoot(), resource), 'utf8');
}

/**
 * How to start the kernel-probe child (src/child/probe-child.ts): the same Node running
 * dist/src/child/probe-child.js, or the single executable itself with the hidden first argument
 * (src/sea/entry.ts dispatches on it). No options in front: the child must start like any Node.
 */
export function probeChildCommand(): { command: string; args: string[] } {
  if (isSingleExecutable()) return { command: process.execPath, args: [CHILD_ARGUMENT] };
  return { command: process.execPath, args: [join(dirname(fileURLToPath(import.meta.url)), 'child', 'probe-child.js')] };
}

// ---------------------------------------------------------------------------
// The embedded addon. dlopen() needs a file; Node cannot make a memfd (no memfd_create binding, and
// the only native code we have is the addon being loaded), so the file is the next best thing: an
// O_TMPFILE inode, which never has a name, is opened through /proc/self/fd/N and disappears with its
// last reference (even when the child is killed by SIGSYS or at a time bound, nothing is left). Where
// O_TMPFILE or /proc is unavailable: a private directory (mkdtemp, 0700) and a 0700 file, removed
// right after dlopen. A directory mounted noexec refuses the mapping; the next one is tried.
// ---------------------------------------------------------------------------

/** __O_TMPFILE (020000000 on x86_64 and arm64) | O_DIRECTORY (which differs by architecture). */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

function addonDirectories(): string[] {
  const dirs = [process.env.URING_PROBE_ADDON_DIR, tmpdir(), '/dev/shm', '/var/tmp', '/tmp', process.env.XDG_RUNTIME_DIR];
  return [...new Set(dirs.filter((d): d is string => typeof d === 'string' && d !== '' && existsSync(d)))];
}

function dlopenAddon(path: string): Addon {
  const holder = { exports: {} as unknown };
  process.dlopen(holder, path);
  return holder.exports as Addon;
}

/** An O_TMPFILE in `dir` (null where the filesystem or kernel has none), for viaTmpfile. */
function openTmpfile(dir: string): number | null {
  try {
    return openSync(dir, constants.O_RDWR | O_TMPFILE, 0o700);
  } catch {
    return null; // EOPNOTSUPP, EISDIR (pre-3.11 kernels), EACCES...: a named private file instead
  }
}

function viaTmpfile(fd: number, bytes: Uint8Array): Addon {
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    return dlopenAddon(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd); // the mapping keeps the inode alive; nothing to remove
  }
}

function viaPrivateFile(dir: string, bytes: Uint8Array): Addon {
  const privateDir = mkdtempSync(join(dir, 'uring-probe-addon-')); // mode 0700
  try {
    const path = join(privateDir, 'uring_probe.node');
    writeFileSync(path, bytes, { mode: 0o700, flag: 'wx' });
    return dlopenAddon(path);
  } finally {
    rmSync(privateDir, { recursive: true, force: true });
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** Loads the addon carried by the single executable; throws AddonLoadError naming every attempt. */
export function loadEmbeddedAddon(): Addon {
  const api = sea();
  if (!api) throw new AddonLoadError('there is no embedded addon outside the single executable', []);
  const raw = api.getRawAsset(SEA_ASSETS.addon);
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : new Uint8Array(raw);
  const dirs = addonDirectories();
  const failures: string[] = [];
  const procFd = existsSync('/proc/self/fd');
  for (const dir of dirs) {
    const fd = procFd ? openTmpfile(dir) : null;
    try {
      return fd !== null ? viaTmpfile(fd, bytes) : viaPrivateFile(dir, bytes);
    } catch (err) {
      failures.push(`${dir}: ${oneLine(err)}`); // typically noexec: the next directory
    }
  }
  throw new AddonLoadError(
    `the single executable could not load its embedded addon (${failures.join('; ') || 'no writable temporary directory'}); ` +
      'point URING_PROBE_ADDON_DIR (or TMPDIR) at a writable directory not mounted noexec',
    dirs,
  );
}

/** In the single executable, make loadAddon() (src/native.ts) use the embedded addon; elsewhere nothing. */
export function installEmbeddedAddon(): void {
  if (isSingleExecutable()) setEmbeddedAddonLoader(loadEmbeddedAddon);
}

// Writing --output: atomically (temporary file in the target's directory, fsync, rename) for a new path
// or a regular file, through symlinks to their target, straight to a character device or a FIFO, and
// never over a directory, a socket or a block device.
import {
  closeSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync,
  unlinkSync, writeSync, constants, type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { escapeControls } from './terminal-safe.js';

/** Temporary files being written right now, for removePendingTemporaries(). */
const pending = new Set<string>();

/**
 * Unlink every temporary file of a write that has not finished (for a SIGINT/SIGTERM handler, which
 * then exits): synchronous, never throws.
 */
export function removePendingTemporaries(): void {
  for (const tmp of [...pending]) {
    try { unlinkSync(tmp); } catch { /* already renamed or gone */ }
    pending.delete(tmp);
  }
}

export interface AtomicWriteOptions {
  /** the mode of a new file (default 0o644, less the umask; exact when `exactMode`) */
  mode?: number;
  /** set `mode` with fchmod, past the umask (the mode of the file being replaced) */
  exactMode?: boolean;
  /** chown the file to this owner (root replacing another user's file keeps its owner) */
  owner?: { uid: number; gid: number } | null;
}

/**
 * Write `data` to `path` so that a reader sees either the old file or the whole new one, never a
 * part: the temporary file lives in the same directory (same filesystem, so rename is atomic),
 * starts with a dot and ends in `.tmp` (node_exporter's textfile collector reads only `*.prom`).
 * Throws the Node error of the step that failed (ENOENT for a missing directory, EACCES, ...);
 * the temporary file is removed on failure. `path` itself is replaced: writeOutput() is the one
 * that follows symlinks and leaves devices alone.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, modeOrOptions: number | AtomicWriteOptions = 0o644): void {
  const options: AtomicWriteOptions = typeof modeOrOptions === 'number' ? { mode: modeOrOptions } : modeOrOptions;
  const mode = options.mode ?? 0o644;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  pending.add(tmp);
  let closed = false;
  let renamed = false;
  try {
    if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
    if (options.exactMode) fchmodSync(fd, mode); // after chown, which clears set-id bits
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
    renamed = true;
  } finally {
    pending.delete(tmp);
    if (!renamed) {
      if (!closed) try { closeSync(fd); } catch { /* nothing to add to the first error */ }
      try { unlinkSync(tmp); } catch { /* never created or already gone */ }
    }
  }
  // Make the rename itself durable; not every filesystem lets a directory be fsynced.
  try {
    const dfd = openSync(dir, constants.O_RDONLY);
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* best effort */ }
}

/** What --output names, once its symlinks are followed. */
export type OutputKind = 'new' | 'file' | 'character device' | 'fifo' | 'directory' | 'socket' | 'block device' | 'unknown file type';

export interface OutputTarget {
  /** the path written: `path` with its symlinks followed (a dangling symlink: the path it names) */
  path: string;
  kind: OutputKind;
  /** the existing file's stat (null for a new path) */
  stats: Stats | null;
}

/** An Error with a Node-style errno code, for describeWriteError(). */
function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  error.code = code;
  return error;
}

function kindOf(stats: Stats): OutputKind {
  if (stats.isFile()) return 'file';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice()) return 'block device';
  return 'unknown file type';
}

/** The Linux limit on symlinks followed in one path lookup (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/**
 * Follow `path`'s symlinks to the file that would be written (write-file-atomic's realpath, except
 * that a dangling symlink yields the path it names, which is then created). Throws ENOENT/ENOTDIR/
 * EACCES of the lookup, ELOOP past 40 links.
 */
export function resolveOutput(path: string): OutputTarget {
  let current = resolve(path);
  for (let hops = 0; ; hops++) {
    let stats: Stats;
    try {
      stats = lstatSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // The directory must exist (it is checked with the write); its own symlinks are the kernel's.
        return { path: current, kind: 'new', stats: null };
      }
      throw error;
    }
    if (!stats.isSymbolicLink()) {
      // symlinks in the directories above: one canonical path, so the temporary file lands beside the real file
      try { current = realpathSync(current); } catch { /* keep the path as it is */ }
      return { path: current, kind: kindOf(stats), stats };
    }
    if (hops >= MAX_SYMLINKS) throw errnoError('ELOOP', `too many symbolic links at ${path}`);
    current = resolve(dirname(current), readlinkSync(current));
  }
}

/** Sleep without the event loop (the writes are synchronous). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How long a FIFO's reader may stay behind before the write gives up (EAGAIN). */
export const FIFO_WRITE_TIMEOUT_MS = 10_000;

/**
 * Write straight to a character device or a FIFO (no temporary file: it cannot be renamed over).
 * A FIFO never blocks: it is opened O_NONBLOCK (ENXIO when nobody reads it), and a full pipe is
 * retried with short sleeps until its reader has taken nothing for `fifoTimeoutMs` (then EAGAIN).
 */
function writeToDevice(target: OutputTarget, bytes: Uint8Array, fifoTimeoutMs: number): void {
  const fifo = target.kind === 'fifo';
  const flags = constants.O_WRONLY | constants.O_NOCTTY | (fifo ? constants.O_NONBLOCK : 0);
  const fd = openSync(target.path, flags);
  try {
    // The open may have raced with a replacement of the path: write only to what was checked.
    if (kindOf(fstatSync(fd)) !== target.kind) throw errnoError('EINVAL', `${target.path} changed while being opened`);
    let deadline = Date.now() + fifoTimeoutMs;
    let off = 0;
    let pause = 1;
    while (off < bytes.length) {
      try {
        off += writeSync(fd, bytes, off, bytes.length - off);
        pause = 1;
        deadline = Date.now() + fifoTimeoutMs; // the bound is on a reader that stopped, not on a slow one
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() >= deadline) throw error;
        sleepMs(Math.min(pause, Math.max(1, deadline - Date.now())));
        pause = Math.min(pause * 2, 100);
      }
    }
  } finally {
    closeSync(fd);
  }
}

export interface WriteOutputOptions {
  /** how long a FIFO's reader may stay behind (default FIFO_WRITE_TIMEOUT_MS) */
  fifoTimeoutMs?: number;
}

/**
 * Write --output: a new path or a regular file atomically (an existing file keeps its mode, and its
 * owner when root); a symlink's target (the symlink stays); a character device or a FIFO directly.
 * A directory, socket or block device is refused (refusalOf: EISDIR or EINVAL, with the kind).
 * Throws the Node error of the step that failed.
 */
export function writeOutput(path: string, data: string | Uint8Array, options: WriteOutputOptions = {}): void {
  const target = resolveOutput(path);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  switch (target.kind) {
    case 'new':
      writeFileAtomic(target.path, bytes);
      return;
    case 'file': {
      const stats = target.stats!;
      writeFileAtomic(target.path, bytes, {
        mode: stats.mode & 0o7777,
        exactMode: true,
        owner: process.getuid?.() === 0 ? { uid: stats.uid, gid: stats.gid } : null,
      });
      return;
    }
    case 'character device':
    case 'fifo':
      writeToDevice(target, bytes, options.fifoTimeoutMs ?? FIFO_WRITE_TIMEOUT_MS);
      return;
    default:
      throw refusalOf(target);
  }
}

/** The error for a kind --output never writes (a directory, a socket, a block device), or null. */
export function refusalOf(target: OutputTarget): (NodeJS.ErrnoException & { kind: OutputKind }) | null {
  switch (target.kind) {
    case 'new':
    case 'file':
    case 'character device':
    case 'fifo':
      return null;
    default:
      return Object.assign(errnoError(target.kind === 'directory' ? 'EISDIR' : 'EINVAL', `${target.path} is a ${target.kind}`), { kind: target.kind });
  }
}

/** One line for a failed --output write, e.g. "cannot write --output /x/r.json: no such directory (ENOENT)". */
export function describeWriteError(path: string, error: unknown): string {
  const err = error as (NodeJS.ErrnoException & { kind?: OutputKind }) | null;
  const code = err?.code ?? 'error';
  path = escapeControls(path);
  if (err?.kind) return `cannot write --output ${path}: it is a ${err.kind}, which --output never writes (${code})`;
  const what: Record<string, string> = {
    ENOENT: 'no such directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only filesystem',
    ENOSPC: 'no space left',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large',
    EIO: 'I/O error',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a path component is not a directory',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'name too long',
    ENXIO: 'nothing is reading the FIFO',
    EAGAIN: `the FIFO's reader stopped reading for ${FIFO_WRITE_TIMEOUT_MS / 1000} s`,
    EPIPE: "the FIFO's reader went away",
    EINVAL: 'it changed while being written',
  };
  return `cannot write --output ${path}: ${what[code] ?? 'write failed'} (${code})`;
}

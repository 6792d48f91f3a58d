// Atomic file output: write a temporary file in the target's directory, fsync, rename over the target.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write `data` to `path` so that a reader sees either the old file or the whole new one, never a
 * part: the temporary file lives in the same directory (same filesystem, so rename is atomic),
 * starts with a dot and ends in `.tmp` (node_exporter's textfile collector reads only `*.prom`).
 * Throws the Node error of the step that failed (ENOENT for a missing directory, EACCES, ...);
 * the temporary file is removed on failure.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  let closed = false;
  let renamed = false;
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
    renamed = true;
  } finally {
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

/** One line for a failed --output write, e.g. "cannot write --output /x/r.json: no such directory (ENOENT)". */
export function describeWriteError(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code ?? 'error';
  const what: Record<string, string> = {
    ENOENT: 'no such directory',
    EACCES: 'permission denied',
    EROFS: 'read-only filesystem',
    ENOSPC: 'no space left',
    EISDIR: 'is a directory',
    ENOTDIR: 'a path component is not a directory',
  };
  return `cannot write --output ${path}: ${what[code] ?? 'write failed'} (${code})`;
}

// Reading files that come from outside (reports, policies, profiles, units): only regular files
// (or stdin), never more than a cap. A FIFO would block forever and /dev/zero would grow without
// end; both are refused with a reason instead. Line-oriented input (NDJSON) has no total cap: it is
// read as a stream and only each line is capped (boundedLines).
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export const MiB = 1024 * 1024;

export type BoundedRead = { ok: true; text: string } | { ok: false; code: string; why: string };

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** A byte count for a message: "3 MiB", "12 KiB". */
export function sizeText(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));

/** Up to maxBytes + 1 bytes from fd (retrying EAGAIN on a non-blocking pipe), as a Buffer. */
function readUpTo(fd: number, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1 * MiB, maxBytes + 1 - total));
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(sleepBuffer, 0, 0, 10);
        continue;
      }
      throw error;
    }
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > maxBytes) break;
  }
  return Buffer.concat(chunks, total);
}

function decode(buf: Buffer, maxBytes: number, what: string): BoundedRead {
  if (buf.length > maxBytes) return { ok: false, code: 'E2BIG', why: `${what} is larger than ${sizeText(maxBytes)}` };
  return { ok: true, text: buf.toString('utf8') };
}

export type OpenedFile = { ok: true; fd: number; size: number } | { ok: false; code: string; why: string };

/**
 * An fd open for reading on `path` when it is a regular file, or why not: missing, permission
 * denied, not a regular file (named: a FIFO, a character device...). The caller closes the fd.
 */
export function openRegularFile(path: string): OpenedFile {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // Node opens with O_CLOEXEC itself
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : code;
    return { ok: false, code, why };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return { ok: false, code: 'ENOTREG', why: `${kindOf(st)}, not a regular file` };
    }
    return { ok: true, fd, size: st.size };
  } catch (error) {
    closeSync(fd);
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, why: code };
  }
}

/** A regular file's text, or why not: missing, not a regular file (named), larger than maxBytes. */
export function readRegularFile(path: string, maxBytes: number): BoundedRead {
  const opened = openRegularFile(path);
  if (!opened.ok) return opened;
  const { fd } = opened;
  try {
    if (opened.size > maxBytes) return { ok: false, code: 'E2BIG', why: `${sizeText(opened.size)}, larger than ${sizeText(maxBytes)}` };
    return decode(readUpTo(fd, maxBytes), maxBytes, 'the file');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, why: code };
  } finally {
    closeSync(fd);
  }
}

/** stdin's text up to maxBytes (a pipe, a file or a terminal), or why not. */
export function readStdinBounded(maxBytes: number): BoundedRead {
  try {
    return decode(readUpTo(0, maxBytes), maxBytes, 'stdin');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, why: code };
  }
}

/**
 * The chunks of an open fd from its current position to its end (EAGAIN retried). One buffer is
 * reused: a chunk is valid until the next one is asked for (boundedLines copies what it keeps).
 */
export function* fdChunks(fd: number, chunkBytes = 1 * MiB): Generator<Buffer> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(sleepBuffer, 0, 0, 10);
        continue;
      }
      throw error;
    }
    if (n === 0) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * One line of a stream (1-based `line`, without its newline or a CR before it), or, when the line
 * is longer than the cap, its number and length (`text: null`) and none of its content.
 */
export type BoundedLine = { line: number; text: string } | { line: number; text: null; bytes: number };

/**
 * The lines of a byte stream (a file's chunks, stdin), with no total cap: at most one line is held
 * at a time, and a line longer than `maxLineBytes` (newline not counted) is not held at all: it is
 * reported with its length and skipped up to the next newline. Memory stays about maxLineBytes plus
 * a chunk whatever the stream's size. Newlines are split on bytes, so UTF-8 is never cut. A chunk
 * is not kept after the next one is asked for (its buffer may be reused).
 */
export async function* boundedLines(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<BoundedLine> {
  let pieces: Buffer[] = []; // the current line so far (when it continues past a chunk)
  let held = 0; // bytes in pieces
  let skipping = false; // the current line is past the cap: counted, not kept
  let skipped = 0; // its length so far
  let line = 1;
  const text = (buf: Buffer): string => {
    const t = buf.toString('utf8');
    return t.endsWith('\r') ? t.slice(0, -1) : t;
  };
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl === -1 ? chunk.length : nl;
      const length = end - pos;
      if (skipping) {
        skipped += length;
      } else if (held + length > maxLineBytes) {
        skipping = true;
        skipped = held + length;
        pieces = [];
        held = 0;
      } else if (nl !== -1) {
        const whole = held === 0 ? chunk.subarray(pos, end) : Buffer.concat([...pieces, chunk.subarray(pos, end)], held + length);
        pieces = [];
        held = 0;
        yield { line, text: text(whole) };
      } else {
        pieces.push(Buffer.from(chunk.subarray(pos, end))); // a copy: the chunk's buffer may be reused
        held += length;
      }
      if (nl === -1) break;
      if (skipping) {
        yield { line, text: null, bytes: skipped };
        skipping = false;
        skipped = 0;
      }
      line += 1;
      pos = nl + 1;
    }
  }
  // The last line, without a newline after it.
  if (skipping) yield { line, text: null, bytes: skipped };
  else if (held > 0) yield { line, text: text(Buffer.concat(pieces, held)) };
}

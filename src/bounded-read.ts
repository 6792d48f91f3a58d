// Reading files that come from outside (reports, policies, profiles, units): only regular files
// (or stdin), never more than a cap. A FIFO would block forever and /dev/zero would grow without
// end; both are refused with a reason instead.
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

function sizeText(bytes: number): string {
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

/** A regular file's text, or why not: missing, not a regular file (named), larger than maxBytes. */
export function readRegularFile(path: string, maxBytes: number): BoundedRead {
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
    if (!st.isFile()) return { ok: false, code: 'ENOTREG', why: `${kindOf(st)}, not a regular file` };
    if (st.size > maxBytes) return { ok: false, code: 'E2BIG', why: `${sizeText(st.size)}, larger than ${sizeText(maxBytes)}` };
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

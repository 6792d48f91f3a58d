// Fleet inputs: report files, directories of them, NDJSON files and NDJSON on stdin, each read and classified.
import { closeSync, readdirSync, statSync } from 'node:fs';
import { boundedLines, fdChunks, openRegularFile, sizeText, type BoundedLine } from '../bounded-read.js';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MAX_REPORT_BYTES, parseReportText, readReportFile, type ReadOutcome } from '../reader.js';

/** One document read from the inputs: where it came from and what it is. */
export interface InputDocument {
  /** file path, `file:LINE` for NDJSON, `stdin:LINE` for `-` */
  source: string;
  outcome: ReadOutcome;
}

const REPORT_FILE = /\.(json|ndjson|jsonl)$/i;
const NDJSON_FILE = /\.(ndjson|jsonl)$/i;

/** Every report-looking file under `dir`, sorted, recursively (dot-directories skipped). */
/**
 * The report files under `dir`, and the subdirectories that could not be listed (EACCES as a
 * non-root user): those are skipped inputs with their reason, and the walk goes on. Every entry
 * named like a report is returned whatever its type (a FIFO, a device, a symlink to one): the
 * reader refuses what is not a regular file, so it is listed as skipped, not silently ignored.
 */
function filesUnder(dir: string): { files: string[]; unlistable: InputDocument[] } {
  const files: string[] = [];
  const unlistable: InputDocument[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      unlistable.push({ source: d, outcome: { ok: false, problem: 'unreadable', message: `cannot list this directory (${code === 'EACCES' ? 'permission denied' : code}); its reports are left out` } });
      return;
    }
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) walk(full);
      } else if (REPORT_FILE.test(e.name) && !e.name.startsWith('.')) {
        files.push(full);
      }
    }
  };
  walk(dir);
  return { files, unlistable };
}

/** An NDJSON input without a single line of content (a collection that produced nothing) is a skipped input, not zero hosts. */
function emptyNdjson(source: string): InputDocument {
  return { source, outcome: { ok: false, problem: 'empty', message: 'no reports in this NDJSON input (every line is blank); check the job that collected them' } };
}

/**
 * The longest NDJSON line read: one report, as for a report file. NDJSON (a file or stdin) has no
 * total cap: it is streamed line by line, and a longer line is one skipped input, not the end.
 */
export const MAX_NDJSON_LINE_BYTES = MAX_REPORT_BYTES;

/**
 * NDJSON from byte chunks (a file's or stdin's), line by line: one document per non-blank line,
 * named `prefix:LINE`. Never more than one line is held (the accumulator keeps per-host summaries),
 * so the input's size does not matter; a line past MAX_NDJSON_LINE_BYTES is skipped unread.
 */
async function* ndjsonDocuments(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer>, prefix: string): AsyncGenerator<InputDocument> {
  let documents = 0;
  let lastLine = 0;
  const lines = boundedLines(chunks, MAX_NDJSON_LINE_BYTES);
  for (;;) {
    let next: IteratorResult<BoundedLine, void>;
    try {
      next = await lines.next();
    } catch (error) {
      // A read error in the middle (EIO, a stdin that fails): the lines read so far count.
      const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      documents += 1;
      yield { source: prefix, outcome: { ok: false, problem: 'unreadable', message: `cannot read past line ${lastLine} (${code}); the reports after it are left out` } };
      break;
    }
    if (next.done) break;
    const l = next.value;
    lastLine = l.line;
    if (l.text === null) {
      documents += 1;
      yield {
        source: `${prefix}:${l.line}`,
        outcome: {
          ok: false,
          problem: 'unreadable',
          message: `a line of ${l.bytes} bytes, over the ${sizeText(MAX_NDJSON_LINE_BYTES)} cap for one report (a report is tens of KiB); skipped up to the next newline`,
        },
      };
      continue;
    }
    if (l.text.trim() === '') continue;
    documents += 1;
    yield { source: `${prefix}:${l.line}`, outcome: parseReportText(l.text) };
  }
  if (documents === 0) yield emptyNdjson(prefix);
}

/** An NDJSON file, streamed: a regular file only (a FIFO or a device is refused with its kind), any size. */
async function* ndjsonFile(file: string): AsyncGenerator<InputDocument> {
  const opened = openRegularFile(file);
  if (!opened.ok) {
    yield { source: file, outcome: { ok: false, problem: 'unreadable', message: `cannot read (${opened.why})` } };
    return;
  }
  try {
    yield* ndjsonDocuments(fdChunks(opened.fd), file);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Every document named by `paths`: a file (one report, or NDJSON when it ends in .ndjson/.jsonl),
 * a directory (its *.json/*.ndjson/*.jsonl files, recursively), or `-` (NDJSON on `stdin`).
 * Nothing throws for a bad input: each problem is a document with `outcome.ok === false`.
 */
export async function* readInputs(paths: readonly string[], stdin: Readable): AsyncGenerator<InputDocument> {
  for (const path of paths) {
    if (path === '-') {
      yield* ndjsonDocuments(stdin, 'stdin');
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      yield { source: path, outcome: { ok: false, problem: 'unreadable', message: `cannot read (${code === 'ENOENT' ? 'no such file or directory' : code})` } };
      continue;
    }
    const listed = isDir ? filesUnder(path) : { files: [path], unlistable: [] };
    const files = listed.files;
    yield* listed.unlistable;
    if (isDir && files.length === 0 && listed.unlistable.length === 0) {
      yield { source: path, outcome: { ok: false, problem: 'empty', message: 'no *.json, *.ndjson or *.jsonl reports in this directory' } };
      continue;
    }
    for (const file of files) {
      if (NDJSON_FILE.test(file)) {
        yield* ndjsonFile(file);
      } else {
        yield { source: file, outcome: readReportFile(file) };
      }
    }
  }
}


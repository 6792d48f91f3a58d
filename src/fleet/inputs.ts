// Fleet inputs: report files, directories of them, NDJSON files and NDJSON on stdin, each read and classified.
import { readdirSync, statSync } from 'node:fs';
import { MiB, readRegularFile } from '../bounded-read.js';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseReportText, readReportFile, type ReadOutcome } from '../reader.js';

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

/** An NDJSON file is read whole, up to this (stdin is streamed line by line instead). */
const MAX_NDJSON_BYTES = 512 * MiB;

function* ndjsonDocuments(text: string, prefix: string): Generator<InputDocument> {
  const lines = text.split('\n');
  let documents = 0;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    documents += 1;
    yield { source: `${prefix}:${i + 1}`, outcome: parseReportText(line) };
  }
  if (documents === 0) yield emptyNdjson(prefix);
}

/** NDJSON from a stream, line by line (a large stdin is never held whole). */
async function* ndjsonStream(stream: Readable, prefix: string): AsyncGenerator<InputDocument> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  let documents = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    documents += 1;
    yield { source: `${prefix}:${n}`, outcome: parseReportText(line) };
  }
  if (documents === 0) yield emptyNdjson(prefix);
}

/**
 * Every document named by `paths`: a file (one report, or NDJSON when it ends in .ndjson/.jsonl),
 * a directory (its *.json/*.ndjson/*.jsonl files, recursively), or `-` (NDJSON on `stdin`).
 * Nothing throws for a bad input: each problem is a document with `outcome.ok === false`.
 */
export async function* readInputs(paths: readonly string[], stdin: Readable): AsyncGenerator<InputDocument> {
  for (const path of paths) {
    if (path === '-') {
      yield* ndjsonStream(stdin, 'stdin');
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
        const read = readRegularFile(file, MAX_NDJSON_BYTES);
        if (!read.ok) {
          yield { source: file, outcome: { ok: false, problem: 'unreadable', message: `cannot read (${read.why})` } };
          continue;
        }
        yield* ndjsonDocuments(read.text, file);
      } else {
        yield { source: file, outcome: readReportFile(file) };
      }
    }
  }
}


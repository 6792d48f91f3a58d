// Reads a recorded report: JSON, a known schema major version, valid against schema/report-v1.schema.json.
import { readFileSync } from 'node:fs';
import { MiB, readRegularFile, readStdinBounded } from './bounded-read.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { escapeControls } from './report/terminal-safe.js';
import { packageFile, packageText } from './runtime.js';
import type { Report } from './types.js';

/** The schema major versions this build reads. */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1];

/** What is wrong with an input that is not a usable report (a stable name, used in fleet output). */
export type ReadProblem =
  | 'unreadable'          // the file could not be read (missing, permissions, a directory)
  | 'empty'               // zero bytes or only whitespace
  | 'truncated'           // JSON that stops in the middle (a cut-off copy)
  | 'malformed-json'      // not JSON at all, or broken JSON
  | 'foreign'             // JSON, but not written by uring-probe
  | 'error-document'      // uring-probe's own error document: that host produced no report
  | 'unsupported-version' // a schema major version this build does not know
  | 'schema-invalid'      // claims to be a v1 report but does not match the schema
  | 'future-date';        // (fleet) dated more than a day after the roll-up: it would hide the machine's real reports

export type ReadOutcome =
  | { ok: true; report: Report }
  | { ok: false; problem: ReadProblem; message: string };

/** Thrown by the throwing readers; `message` is one line naming the source and what to do. */
export class ReportReadError extends Error {
  readonly code = 'REPORT_UNREADABLE';
  constructor(readonly source: string, readonly problem: ReadProblem, detail: string) {
    super(`${source}: ${detail}`);
    this.name = 'ReportReadError';
  }
}

/** schema/ ships next to dist/ in the package; the single executable carries it (src/runtime.ts). */
export function schemaPath(): string {
  return packageFile('schema/report-v1.schema.json');
}

let cachedSchema: Record<string, unknown> | null = null;
let cachedAjv: InstanceType<typeof Ajv2020> | null = null;
const validators = new Map<string, ValidateFunction>();

/** The parsed schema document (read once). */
export function reportSchema(): Record<string, unknown> {
  if (!cachedSchema) cachedSchema = JSON.parse(packageText('schema/report-v1.schema.json')) as Record<string, unknown>;
  return cachedSchema;
}

/**
 * A compiled validator for the whole schema (report or error document) or one of its $defs
 * (e.g. 'report', 'fleetRollup', 'diff', 'gateResult').
 */
export function schemaValidator(def?: string): ValidateFunction {
  const key = def ?? '';
  const found = validators.get(key);
  if (found) return found;
  if (!cachedAjv) {
    cachedAjv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    cachedAjv.addSchema(reportSchema());
  }
  const id = String(reportSchema()['$id']);
  const validate = cachedAjv.getSchema(def ? `${id}#/$defs/${def}` : id);
  if (!validate) throw new Error(`schema/report-v1.schema.json has no definition '${key}'`);
  validators.set(key, validate);
  return validate;
}

/** Ajv errors as short "where: what" strings, most specific first, at most `limit`. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, limit = 3): string[] {
  if (!errors || errors.length === 0) return [];
  // oneOf/anyOf/if wrappers repeat what their branches said; keep the leaf messages.
  const leaves = errors.filter((e) => !['oneOf', 'anyOf', 'if'].includes(e.keyword));
  const chosen = (leaves.length > 0 ? leaves : errors)
    .slice()
    .sort((a, b) => b.instancePath.length - a.instancePath.length);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of chosen) {
    let text = `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'enum' && Array.isArray((e.params as { allowedValues?: unknown[] }).allowedValues)) {
      text = `${e.instancePath || '/'} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    } else if (e.keyword === 'additionalProperties') {
      text = `${e.instancePath || '/'} has unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    }
    text = escapeControls(text); // a key or value from the input: never a raw control character on a terminal
    if (seen.has(text)) continue;
    seen.add(text);
    out.push(text);
    if (out.length >= limit) break;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The major version a document claims, or null when it has none we can read. */
function claimedMajor(doc: Record<string, unknown>): number | null {
  const v = doc['schemaVersion'];
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\d+(\.\d+)*$/.test(v)) return Number.parseInt(v, 10);
  return null;
}

/** Classify and validate an already-parsed JSON value. */
export function checkReportDocument(doc: unknown): ReadOutcome {
  if (!isObject(doc)) {
    return { ok: false, problem: 'foreign', message: `not a uring-probe report: the JSON is ${Array.isArray(doc) ? 'an array' : typeof doc === 'object' ? 'null' : `a ${typeof doc}`}, not an object` };
  }
  const tool = doc['tool'];
  if (!isObject(tool) || tool['name'] !== 'uring-probe') {
    return { ok: false, problem: 'foreign', message: 'not a uring-probe report (no tool.name "uring-probe"); pass only files written by `uring-probe check --json`' };
  }
  const major = claimedMajor(doc);
  if (major === null) {
    return { ok: false, problem: 'schema-invalid', message: 'uring-probe report without a readable schemaVersion; re-run `uring-probe check --json` on that host' };
  }
  if (!SUPPORTED_SCHEMA_VERSIONS.includes(major)) {
    const newer = major > Math.max(...SUPPORTED_SCHEMA_VERSIONS);
    return {
      ok: false,
      problem: 'unsupported-version',
      message: `report schema version ${major} is not supported (this uring-probe reads version ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}); ` +
        (newer ? 'upgrade uring-probe where the reports are read' : 're-run a current `uring-probe check --json` on that host'),
    };
  }
  if (isObject(doc['error']) && !('probes' in doc)) {
    const err = doc['error'];
    const valid = schemaValidator('errorDocument');
    const what = typeof err['message'] === 'string' ? err['message'] : 'no message';
    const code = typeof err['code'] === 'string' ? err['code'] : '?';
    return {
      ok: false,
      problem: valid(doc) ? 'error-document' : 'schema-invalid',
      message: `uring-probe error document, not a report: the check on that host failed (${escapeControls(`${code}: ${what}`)})`,
    };
  }
  const validate = schemaValidator('report');
  if (!validate(doc)) {
    const why = describeSchemaErrors(validate.errors).join('; ');
    return { ok: false, problem: 'schema-invalid', message: `does not match the report schema v${major}: ${why}` };
  }
  if (Number.isNaN(Date.parse(doc['startedAt'] as string))) {
    return { ok: false, problem: 'schema-invalid', message: `does not match the report schema v${major}: /startedAt is not a valid date` };
  }
  return { ok: true, report: doc as unknown as Report };
}

/** A report nests about 8 levels; past this, a document is not one (and deep recursion must not crash a reader). */
export const MAX_REPORT_DEPTH = 64;

/** The deepest nesting of objects/arrays in JSON text (strings skipped), without parsing it. */
function maxDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i += 1;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth -= 1;
  }
  return deepest;
}

/** True when the text opens more objects/arrays than it closes (strings skipped): a cut-off document. */
function endsInsideValue(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i += 1; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) depth += 1;
    else if (ch === 0x7d || ch === 0x5d) depth -= 1;
  }
  return inString || depth > 0;
}

/** Parse and classify the text of one report. */
export function parseReportText(raw: string): ReadOutcome {
  // A UTF-8 byte order mark (editors on other systems write one) is not part of the JSON.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (text.trim().length === 0) {
    return { ok: false, problem: 'empty', message: 'empty file; the report was never written (check the job that produced it)' };
  }
  const depth = maxDepth(text);
  if (depth > MAX_REPORT_DEPTH) {
    return { ok: false, problem: 'malformed-json', message: `nested ${depth} levels deep (a report has fewer than ${MAX_REPORT_DEPTH}); pass a report written by \`uring-probe check --json\`` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the input around the error: its control characters are shown escaped.
    const detail = escapeControls(error instanceof Error ? error.message : String(error));
    if (/end of (JSON )?input|Unterminated string/i.test(detail) || endsInsideValue(text)) {
      return { ok: false, problem: 'truncated', message: `truncated JSON (stops after ${Buffer.byteLength(text)} bytes); fetch the report again` };
    }
    return { ok: false, problem: 'malformed-json', message: `not valid JSON (${detail}); pass a report written by \`uring-probe check --json\`` };
  }
  return checkReportDocument(doc);
}

/** Read and classify one report file. */
export function readReportFile(path: string): ReadOutcome {
  const read = readRegularFile(path, MAX_REPORT_BYTES);
  if (!read.ok) return { ok: false, problem: 'unreadable', message: `cannot read (${read.why})` };
  return parseReportText(read.text);
}

/**
 * A report is tens of KiB; anything past this is not one (and must not exhaust memory: parsing and
 * validating a document takes about 7-9 times its size, so 8 MiB keeps one input under ~100 MiB,
 * where the earlier 64 MiB let one near-cap report take over 500 MiB).
 */
export const MAX_REPORT_BYTES = 8 * MiB;

/** The report on stdin, read up to MAX_REPORT_BYTES. */
export function readReportStdin(): ReadOutcome {
  const read = readStdinBounded(MAX_REPORT_BYTES);
  if (!read.ok) return { ok: false, problem: 'unreadable', message: `cannot read stdin (${read.why})` };
  return parseReportText(read.text);
}

/** Read one report or throw a ReportReadError whose message names `source` and the problem. */
export function loadReport(path: string, source: string = path): Report {
  const outcome = path === '-' ? readReportStdin() : readReportFile(path);
  if (!outcome.ok) throw new ReportReadError(source, outcome.problem, outcome.message);
  return outcome.report;
}

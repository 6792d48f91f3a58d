// Reports for tests: a probe result in one line, the shipped schema's own validator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { probeResult } from '../../src/probes/result.js';
import type { ProbeResult, ProbeStatus, ReasonCode } from '../../src/types.js';
import { ROOT } from './paths.js';

/** A probe result with a summary made of its id and status (the title is the id). */
export function probeOf(id: string, status: ProbeStatus, reason: ReasonCode | null = null): ProbeResult {
  return probeResult({ id, title: id }, { status, summary: `${id} ${status}`, reason });
}

/**
 * An independent validator straight from the shipped schema file (not the reader's cached one):
 * the whole document, or one of its $defs; returns the errors, [] when valid.
 */
export function schemaValidatorFor(def?: string): (doc: unknown) => string[] {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report-v1.schema.json'), 'utf8')) as { $id: string };
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addSchema(schema);
  const validate = ajv.getSchema(def ? `${schema.$id}#/$defs/${def}` : schema.$id)!;
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

// Policy files: the gate's requirements as JSON a repository keeps, validated, merged with the command line.
import { MiB, readRegularFile } from '../bounded-read.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { UsageError } from '../usage-error.js';
import { describeSchemaErrors } from '../reader.js';
import { escapeControls } from '../report/terminal-safe.js';
import { EMPTY_POLICY, type GatePolicy } from './evaluate.js';
import { parseRequirement, type Requirement } from './names.js';

/** The policy file as written: every field optional. */
export interface PolicyDocument {
  policyVersion?: 1;
  description?: string;
  require?: string[];
  minPps?: number | null;
  minRatio?: number | null;
  strict?: boolean;
}

/** JSON Schema (2020-12) of a policy file; documented in README.md. */
export const POLICY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    policyVersion: { const: 1 },
    description: { type: 'string' },
    require: { type: 'array', items: { type: 'string', minLength: 1 } },
    minPps: { type: ['number', 'null'], minimum: 0 },
    minRatio: { type: ['number', 'null'], minimum: 0 },
    strict: { type: 'boolean' },
  },
} as const;

let validatePolicy: ReturnType<InstanceType<typeof Ajv2020>['compile']> | null = null;

/** Parse and validate policy JSON text; `source` names the file in messages. Throws UsageError. */
export function parsePolicy(text: string, source: string): GatePolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the file around the error: its control characters are shown escaped.
    throw new UsageError(`policy ${source} is not valid JSON (${escapeControls((error as Error).message)})`, 'fix the file; see README.md for the format');
  }
  validatePolicy ??= new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(POLICY_SCHEMA);
  if (!validatePolicy(doc)) {
    const why = describeSchemaErrors(validatePolicy.errors).join('; ');
    throw new UsageError(
      `policy ${source} is not a valid policy: ${why}`,
      'allowed fields: policyVersion (1), description, require [names], minPps, minRatio, strict',
    );
  }
  const policy = doc as PolicyDocument;
  const requirements: Requirement[] = [];
  for (const name of policy.require ?? []) {
    try {
      requirements.push(parseRequirement(name));
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`policy ${source}: ${escapeControls(error.message)}`, error.hint);
      throw error;
    }
  }
  return {
    requirements,
    strict: policy.strict ?? false,
    minPps: policy.minPps ?? null,
    minRatio: policy.minRatio ?? null,
  };
}

/** Read a policy file. Throws UsageError naming the file when it cannot be read or is invalid. */
export function loadPolicy(path: string): GatePolicy {
  const read = readRegularFile(path, 1 * MiB);
  if (!read.ok) throw new UsageError(`cannot read policy ${path} (${read.why})`, 'pass an existing JSON policy file to --policy');
  return parsePolicy(read.text, path);
}

/**
 * Combine policies: every requirement of each (deduplicated), the highest minimum of each
 * figure, strict when any is strict.
 */
export function mergePolicies(...policies: GatePolicy[]): GatePolicy {
  const seen = new Set<string>();
  const requirements: Requirement[] = [];
  let minPps: number | null = null;
  let minRatio: number | null = null;
  let strict = false;
  for (const p of policies) {
    for (const r of p.requirements) {
      if (!seen.has(r.canonical)) {
        seen.add(r.canonical);
        requirements.push(r);
      }
    }
    if (p.minPps !== null) minPps = Math.max(minPps ?? 0, p.minPps);
    if (p.minRatio !== null) minRatio = Math.max(minRatio ?? 0, p.minRatio);
    strict ||= p.strict;
  }
  return { ...EMPTY_POLICY, requirements, minPps, minRatio, strict };
}

/** The policy as a document (for --format json outputs and round trips). */
export function policyDocument(policy: GatePolicy): PolicyDocument {
  return {
    policyVersion: 1,
    require: policy.requirements.map((r) => r.canonical),
    minPps: policy.minPps,
    minRatio: policy.minRatio,
    strict: policy.strict,
  };
}

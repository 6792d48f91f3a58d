#!/usr/bin/env node
// Writes the probes' facts definitions into schema/report-v1.schema.json from their TypeScript
// types (src/probes/facts.ts lists which types each probe may carry), so the schema and the types
// the gate reads cannot drift apart. `--check` only compares and exits 1 when the schema is stale
// (a test runs it).
//
//   node scripts/gen-facts-schema.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = join(ROOT, 'schema', 'report-v1.schema.json');
const require = createRequire(import.meta.url);
const { createGenerator } = require('ts-json-schema-generator');
const { FACTS_TYPES, RUNNER_FACTS_TYPES } = await import(pathToFileURL(join(ROOT, 'dist', 'src', 'probes', 'facts.js')).href);

const PREFIX = 'facts.';
const keyOf = (name) => PREFIX + decodeURIComponent(name).replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, '');

function rewrite(node) {
  if (Array.isArray(node)) return node.map(rewrite);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) out[k] = `#/$defs/${keyOf(v.slice('#/definitions/'.length))}`;
    else out[k] = rewrite(v);
  }
  return out;
}

const generator = createGenerator({
  path: join(ROOT, 'src', 'probes', 'facts.ts'),
  tsconfig: join(ROOT, 'tsconfig.json'),
  type: '*',
  expose: 'export',
  topRef: true,
  jsDoc: 'basic',
  additionalProperties: false,
  skipTypeCheck: true,
});
const generated = generator.createSchema('*');
const defs = {};
for (const [name, def] of Object.entries(generated.definitions ?? {})) defs[keyOf(name)] = rewrite(def);

const wanted = new Set([...Object.values(FACTS_TYPES).flat(), ...RUNNER_FACTS_TYPES]);
for (const name of wanted) if (!defs[keyOf(name)]) throw new Error(`gen-facts-schema: no definition for ${name}: is it exported from src/probes/facts.ts?`);

const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
// Drop the old facts definitions, add the new ones.
for (const key of Object.keys(schema.$defs)) if (key.startsWith(PREFIX)) delete schema.$defs[key];
Object.assign(schema.$defs, Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))));
// Each probe's facts: its own types, or what the runner writes when the probe did not return.
const runner = RUNNER_FACTS_TYPES.map((t) => ({ $ref: `#/$defs/${keyOf(t)}` }));
schema.$defs.probeFacts = {
  description:
    "A probe's facts, by probe id: its own typed facts (src/probes/<id>.ts), or the runner's when the probe did not return a result (dependency skip, an exception, a death). Facts of a probe id this version does not know are not checked.",
  allOf: Object.entries(FACTS_TYPES).map(([id, types]) => ({
    if: { type: 'object', properties: { id: { const: id } }, required: ['id'] },
    then: { type: 'object', properties: { facts: { anyOf: [...types.map((t) => ({ $ref: `#/$defs/${keyOf(t)}` })), ...runner] } } },
  })),
};
const probe = schema.$defs.probe;
probe.allOf = [...(probe.allOf ?? []).filter((x) => x.$ref !== '#/$defs/probeFacts'), { $ref: '#/$defs/probeFacts' }];

const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(SCHEMA, 'utf8') !== text) {
    console.error('gen-facts-schema: schema/report-v1.schema.json is out of date with the facts types; run node scripts/gen-facts-schema.mjs');
    process.exit(1);
  }
  console.log('gen-facts-schema: schema up to date');
} else {
  writeFileSync(SCHEMA, text);
  console.log(`gen-facts-schema: ${Object.keys(defs).length} facts definitions written`);
}

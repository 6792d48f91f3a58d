// What the port found in the seed: one table, complete and held to the seed's text; `explain seed` shows it, reports
// carry its ids (`seedFindings`, valid against the schema), and `check --verbose` ends with it while `check` does not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  explainIds,
  findAnyEntry,
  findEntry,
  findSeedFinding,
  seedFindingEntries,
  suggestSeedIds,
  type SeedFindingEntry,
} from '../src/explain/catalog.js';
import { SEED_FINDINGS, type SeedFinding } from '../src/seed/findings.js';
import type { Report } from '../src/types.js';
import { runCli, type CliRun } from './helpers/launcher.js';
import { ROOT } from './helpers/paths.js';
import { schemaValidatorFor as validatorFor } from './helpers/reports.js';

/** The seed's Go source, flattened (shared/ beside the repository; CI lays it there too). */
const SEED_DIR = resolve(ROOT, '..', 'shared', 'seed');
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const IDS = SEED_FINDINGS.map((f) => f.id);

const cli = (args: string[]): CliRun => runCli(args, { timeoutMs: 120_000 });

function seedSource(): string | null {
  if (!existsSync(SEED_DIR)) return null;
  return readdirSync(SEED_DIR)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => readFileSync(join(SEED_DIR, f), 'utf8'))
    .join('\n');
}

function assertFilled(f: SeedFinding): void {
  for (const [key, value] of Object.entries(f)) {
    if (typeof value === 'string') {
      assert.ok(value.trim().length > 0, `${f.id}: ${key} is empty`);
    } else {
      assert.ok(Array.isArray(value) && value.length > 0, `${f.id}: ${key} is empty`);
      for (const v of value as unknown[]) assert.ok(typeof v === 'string' && v.trim().length > 0, `${f.id}: an empty item in ${key}`);
    }
  }
}

/** A report as versions before seedFindings wrote it: a fixture without the field. */
function olderReport(): Report {
  const doc = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'reports', '6.18-compatible.json'), 'utf8')) as Report;
  delete doc.seedFindings;
  return doc;
}

describe('the seed findings table', () => {
  it('is not empty, and its ids are unique and kebab-case', () => {
    assert.ok(SEED_FINDINGS.length >= 6);
    assert.equal(new Set(IDS).size, IDS.length, 'ids are unique');
    for (const id of IDS) assert.match(id, KEBAB);
  });

  it('fills every field of every finding; a title is one line that fits the --verbose foot at 110 columns', () => {
    const fields: Array<keyof SeedFinding> = ['id', 'title', 'goSymbols', 'seed', 'evidence', 'consequence', 'conditions', 'kernelFeatures', 'fix', 'port', 'portFiles'];
    const idColumn = 2 + Math.max(...IDS.map((id) => id.length)) + 2;
    for (const f of SEED_FINDINGS) {
      assert.deepEqual(Object.keys(f).sort(), [...fields].sort(), `${f.id}: exactly the table's fields`);
      assertFilled(f);
      assert.doesNotMatch(f.title, /\n/);
      assert.ok(idColumn + f.title.length <= 110, `${f.id}: a title of ${f.title.length} characters wraps`);
    }
  });

  it('keeps the findings the port was asked to check', () => {
    for (const id of [
      'params-struct-112-bytes',
      'full-sq-waits-forever',
      'unbounded-waits',
      'recv-close-double-munmap',
      'send-copy-256-byte-window',
      'setup-ladder-needs-clamp',
    ]) {
      assert.ok(IDS.includes(id), id);
    }
  });

  it('names the port\'s files that exist, in the text that says what the port does', () => {
    for (const f of SEED_FINDINGS) {
      for (const file of f.portFiles) {
        assert.match(file, /^native\//, f.id);
        assert.ok(existsSync(join(ROOT, file)), `${f.id}: ${file} does not exist`);
        assert.ok(f.port.includes(file), `${f.id}: port does not name ${file}`);
      }
    }
  });

  it('quotes the seed verbatim and names only Go symbols the seed has', { skip: seedSource() === null && `no seed text at ${SEED_DIR}` }, () => {
    const text = seedSource()!;
    for (const f of SEED_FINDINGS) {
      for (const quote of f.evidence) assert.ok(text.includes(quote), `${f.id}: not in the seed: ${quote}`);
      for (const symbol of f.goSymbols) {
        const name = symbol.split('.').pop()!;
        assert.ok(new RegExp(`(func|type) (\\([^)]*\\) )?${name}\\b`).test(text), `${f.id}: the seed has no func or type ${symbol}`);
      }
    }
  });
});

describe('the seed findings in the explain catalog', () => {
  it('gives each an entry of kind seed-finding with the table\'s own text and the release of each kernel feature', () => {
    const entries = seedFindingEntries();
    assert.deepEqual(entries.map((e) => e.id), IDS);
    for (const e of entries) {
      assert.equal(e.kind, 'seed-finding');
      const { kind: _kind, kernel, ...table } = e;
      assert.deepEqual(table, SEED_FINDINGS.find((f) => f.id === e.id));
      assert.equal(kernel.length, e.kernelFeatures.length);
      for (const k of kernel) assert.match(k.since ?? '', /^\d+\.\d+$/, `${e.id}: ${k.feature} has no release`);
    }
    const clamp = findSeedFinding('setup-ladder-needs-clamp')!.kernel.find((k) => k.feature === 'IORING_SETUP_CLAMP');
    assert.deepEqual([clamp?.since, clamp?.confidence], ['5.6', 'unverified']);
    const single = findSeedFinding('recv-close-double-munmap')!.kernel.find((k) => k.feature === 'IORING_FEAT_SINGLE_MMAP');
    assert.equal(single?.since, '5.4');
  });

  it('finds a finding as seed:ID or by its bare id, case- and separator-insensitively, never as a probe or reason', () => {
    assert.equal(findAnyEntry('seed:full-sq-waits-forever')?.id, 'full-sq-waits-forever');
    assert.equal(findAnyEntry('SEED:Full_SQ_Waits_Forever')?.id, 'full-sq-waits-forever');
    assert.equal(findAnyEntry('unbounded-waits')?.kind, 'seed-finding');
    assert.equal(findAnyEntry('seed:ring-setup'), null, 'seed: names only seed findings');
    assert.equal(findAnyEntry('ring-setup')?.kind, 'probe');
    const catalogKeys = new Set(explainIds().map((id) => id.toLowerCase().replace(/[-_]/g, '')));
    for (const id of IDS) {
      assert.ok(!catalogKeys.has(id.replace(/-/g, '')), `${id} spells like a probe id or reason code`);
      assert.equal(findEntry(id), null);
    }
  });

  it('suggests the nearest findings for a misspelt seed:ID', () => {
    assert.equal(suggestSeedIds('seed:full-sq-wait-forever')[0], 'seed:full-sq-waits-forever');
    assert.ok(suggestSeedIds('seed:clamp').includes('seed:setup-ladder-needs-clamp'));
    assert.ok(suggestSeedIds('seed:munmap').includes('seed:recv-close-double-munmap'));
    assert.deepEqual(suggestSeedIds('seed:qqqqqqqq'), []);
  });
});

describe('uring-probe explain seed', () => {
  it('lists every finding, one line each: id and title', () => {
    const r = cli(['explain', 'seed']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    for (const f of SEED_FINDINGS) {
      assert.equal(lines.filter((l) => l.startsWith(`  ${f.id} `) && l.endsWith(f.title)).length, 1, `${f.id} listed once`);
    }
    assert.match(r.stdout, /uring-probe explain seed:ID/);
  });

  it('--json prints {"entries": [...]} with every finding, each valid against $defs/seedFinding', () => {
    const r = cli(['explain', 'seed', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { entries: SeedFindingEntry[] };
    assert.deepEqual(doc.entries.map((e) => e.id), IDS);
    const validate = validatorFor('seedFinding');
    for (const e of doc.entries) assert.deepEqual(validate(e), [], e.id);
  });

  it('explains one finding: what the seed does, the evidence, the consequence, the kernels, the Go fix and the port', () => {
    const r = cli(['explain', 'seed:recv-close-double-munmap']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^seed:recv-close-double-munmap {2}seed finding: ioUringRecvState\.Close/);
    for (const label of ['Seed', 'Go', 'Evidence', 'Effect', 'When', 'Kernel', 'Fix \\(Go\\)', 'Port']) {
      assert.match(r.stdout, new RegExp(`^  ${label} +\\S`, 'm'), label);
    }
    assert.match(r.stdout, /IORING_FEAT_SINGLE_MMAP: Linux 5\.4/);
    assert.match(r.stdout, /native\/ring\.cc/);
    const json = JSON.parse(cli(['explain', 'seed:setup-ladder-needs-clamp', '--json']).stdout) as SeedFindingEntry;
    assert.equal(json.kind, 'seed-finding');
    assert.deepEqual(validatorFor('seedFinding')(json), []);
  });

  it('an unknown seed:ID is a usage error (exit 64) with a "did you mean"; the plain list points at `explain seed`', () => {
    const r = cli(['explain', 'seed:full-sq']);
    assert.equal(r.status, 64);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^uring-probe: unknown seed finding 'seed:full-sq'; did you mean seed:full-sq-waits-forever\b/);
    assert.match(cli(['explain']).stdout, /uring-probe explain seed lists what the port found in the seed/);
  });
});

describe('seedFindings in reports', () => {
  it('the schema takes kebab-case ids (known or not), refuses others, and describes the table', () => {
    const validate = validatorFor('report');
    const base = olderReport() as unknown as Record<string, unknown>;
    assert.deepEqual(validate(base), [], 'a report without the field');
    assert.deepEqual(validate({ ...base, seedFindings: IDS }), []);
    assert.deepEqual(validate({ ...base, seedFindings: ['a-finding-of-a-later-version'] }), [], 'ids a reader does not know');
    assert.notDeepEqual(validate({ ...base, seedFindings: ['Not_Kebab'] }), []);
    assert.notDeepEqual(validate({ ...base, seedFindings: [IDS[0], IDS[0]] }), []);
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'report-v1.schema.json'), 'utf8')) as {
      $defs: { report: { properties: { seedFindings: { description: string } } }; seedFinding: unknown };
    };
    const description = schema.$defs.report.properties.seedFindings.description;
    for (const f of SEED_FINDINGS) assert.ok(description.includes(`${f.id}: ${f.title}`), `the schema's description lacks ${f.id}`);
    assert.ok(schema.$defs.seedFinding);
  });

  it('`check --json --no-bench` lists the table\'s ids in seedFindings and validates against the schema', () => {
    const r = cli(['check', '--json', '--no-bench']);
    assert.ok(r.status !== null && [0, 1, 2, 3].includes(r.status), `exit ${r.status}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as Report;
    assert.deepEqual(doc.seedFindings, IDS);
    assert.deepEqual(validatorFor()(doc), []);
    assert.deepEqual(validatorFor('report')(doc), []);
  });

  it('`check --verbose` ends with the findings, one line each; `check` does not show them', () => {
    const verbose = cli(['check', '--no-bench', '--verbose']);
    assert.ok(verbose.status !== null && [0, 1, 2, 3].includes(verbose.status), verbose.stderr);
    const tail = verbose.stdout.trimEnd().split('\n').slice(-(IDS.length + 2));
    assert.equal(tail[0], 'What the port found in the seed:');
    IDS.forEach((id, i) => {
      assert.ok(tail[i + 1]!.startsWith(`  ${id} `), `line ${i + 1} of the foot: ${tail[i + 1]}`);
      assert.ok(tail[i + 1]!.endsWith(SEED_FINDINGS[i]!.title), `${id} on one line`);
    });
    assert.match(tail.at(-1)!, /`uring-probe explain seed`/);

    const plain = cli(['check', '--no-bench']);
    assert.ok(plain.status !== null && [0, 1, 2, 3].includes(plain.status), plain.stderr);
    assert.doesNotMatch(plain.stdout, /What the port found in the seed/);
    assert.match(plain.stdout.trimEnd().split('\n').at(-1)!, /^Verdict: /);
  });
});

// `uring-probe explain`: an entry for every probe of the registry and every reason code, the fix of a
// reason code is REMEDIATION's own text, unknown IDs are usage errors with a suggestion, and --json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainCatalog, explainIds, findAnyEntry, findEntry, seedFindingEntries, suggestIds, type ExplainEntry } from '../src/explain/catalog.js';
import { PROBES } from '../src/probes/index.js';
import { REMEDIATION } from '../src/probes/reasons.js';
import type { ReasonCode } from '../src/types.js';
import { runCli, type CliRun } from './helpers/launcher.js';

/** Every reason code, from the code: REMEDIATION is a Record<ReasonCode, string>, so a new code has a key there. */
const REASON_CODES = Object.keys(REMEDIATION) as ReasonCode[];
const PROBE_IDS = PROBES.map((p) => p.id);

const cli = (args: string[]): CliRun => runCli(args, { timeoutMs: 30_000 });

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

function assertWritten(e: ExplainEntry): void {
  const texts = [e.title, e.meaning, e.fix, e.kind === 'probe' ? e.checks : e.when];
  for (const t of texts) {
    assert.ok(t.trim().length > 0, `${e.id}: empty text`);
    assert.doesNotMatch(t, /not written yet/, `${e.id}: no explanation written`);
  }
  for (const k of e.kernel) {
    assert.ok(k.feature.length > 0, e.id);
    assert.ok(k.since === null || /^\d+\.\d+$/.test(k.since), `${e.id}: ${k.feature} since ${String(k.since)}`);
    assert.ok(['documented', 'measured', 'unverified'].includes(k.confidence), e.id);
  }
  if (e.kernel.length === 0) assert.ok(e.kernelNote, `${e.id}: no kernel release and no note saying why`);
}

describe('the explain catalog', () => {
  it('has a written entry for every probe id in the registry, in registry order, with its title', () => {
    const probes = explainCatalog().filter((e) => e.kind === 'probe');
    assert.deepEqual(probes.map((e) => e.id), PROBE_IDS);
    for (const spec of PROBES) {
      const e = findEntry(spec.id);
      assert.ok(e && e.kind === 'probe', `no entry for probe ${spec.id}`);
      assert.equal(e.title, spec.title);
      assert.deepEqual(e.dependsOn, spec.dependsOn);
      assertWritten(e);
    }
  });

  it('has a written entry for every reason code, whose fix is REMEDIATION\'s own text', () => {
    assert.ok(REASON_CODES.length >= 27);
    const reasons = explainCatalog().filter((e) => e.kind === 'reason');
    assert.deepEqual(reasons.map((e) => e.id), REASON_CODES);
    for (const code of REASON_CODES) {
      const e = findEntry(code);
      assert.ok(e && e.kind === 'reason', `no entry for reason ${code}`);
      assert.equal(e.fix, REMEDIATION[code]);
      assertWritten(e);
    }
  });

  it('cross-references only real ids, both ways', () => {
    const entries = explainCatalog();
    for (const e of entries) {
      if (e.kind === 'probe') {
        for (const r of e.reasons) assert.ok(REASON_CODES.includes(r), `${e.id} gives unknown reason ${r}`);
        for (const d of e.dependsOn) assert.ok(PROBE_IDS.includes(d), `${e.id} depends on unknown ${d}`);
      } else {
        for (const p of e.givenBy) {
          assert.ok(PROBE_IDS.includes(p), `${e.id} given by unknown probe ${p}`);
          const probe = findEntry(p);
          assert.ok(probe?.kind === 'probe' && probe.reasons.includes(e.id as ReasonCode));
        }
      }
    }
    // the field notes' unverified items are said to be unverified
    const clamp = findEntry('ring-setup')!.kernel.find((k) => k.feature === 'IORING_SETUP_CLAMP');
    assert.deepEqual([clamp?.since, clamp?.confidence], ['5.6', 'unverified']);
    const coop = findEntry('FLAGS_FALLBACK')!.kernel.find((k) => k.feature === 'IORING_SETUP_COOP_TASKRUN');
    assert.deepEqual([coop?.since, coop?.confidence], ['5.19', 'documented']);
  });

  it('finds ids case-insensitively, with - and _ alike, and never two entries for one spelling', () => {
    assert.equal(findEntry('RING-SETUP')?.id, 'ring-setup');
    assert.equal(findEntry('ring_setup')?.id, 'ring-setup');
    assert.equal(findEntry('seccomp-blocked')?.id, 'SECCOMP_BLOCKED');
    assert.equal(findEntry('probe:loopback')?.id, 'loopback');
    assert.equal(findEntry('nope'), null);
    const keys = explainIds().map((id) => id.toLowerCase().replace(/[-_]/g, ''));
    assert.equal(new Set(keys).size, keys.length);
  });

  it('suggests the nearest ids for a misspelt one', () => {
    assert.equal(suggestIds('ring-setp')[0], 'ring-setup');
    assert.equal(suggestIds('SECCOMP_BLOCK')[0], 'SECCOMP_BLOCKED');
    assert.ok(suggestIds('seccomp').includes('SECCOMP_BLOCKED'));
    assert.ok(suggestIds('COOP_TASKRUN').includes('FLAGS_FALLBACK'));
    assert.deepEqual(suggestIds('qqqqqqqq'), []);
  });
});

describe('uring-probe explain', () => {
  it('without an ID lists every probe id and reason code, one line each', () => {
    const r = cli(['explain']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    for (const id of [...PROBE_IDS, ...REASON_CODES]) {
      assert.equal(lines.filter((l) => new RegExp(`^  ${id} +\\S`).test(l)).length, 1, `${id} listed once`);
    }
  });

  it('explains a probe, case-insensitively', () => {
    const r = cli(['explain', 'RING-SETUP']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ring-setup {2}probe: Ring setup/);
    for (const label of ['Means', 'Checks', 'Kernel', 'Reasons', 'Fix']) assert.match(r.stdout, new RegExp(`^  ${label} `, 'm'));
    assert.match(r.stdout, /IORING_SETUP_CLAMP: Linux 5\.6 \(unverified\)/);
    assert.match(r.stdout, /IORING_SETUP_COOP_TASKRUN: Linux 5\.19/);
  });

  it('explains a reason code with REMEDIATION\'s text as the fix', () => {
    const r = cli(['explain', 'seccomp_blocked']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^SECCOMP_BLOCKED {2}reason code: /);
    assert.match(r.stdout, /^ {2}When /m);
    assert.match(r.stdout, /^ {2}Given by +memlock, ring-setup/m);
    assert.ok(squash(r.stdout).includes(squash(REMEDIATION.SECCOMP_BLOCKED)));
  });

  it('an unknown ID is a usage error (exit 64) with a "did you mean"', () => {
    const r = cli(['explain', 'ring-setp']);
    assert.equal(r.status, 64);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^uring-probe: unknown probe id or reason code 'ring-setp'; did you mean ring-setup\b/);
  });

  it('an unknown ID with --json is an error document on stdout', () => {
    const r = cli(['explain', 'NOPE_NOPE', '--json']);
    assert.equal(r.status, 64);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string }; exitCode: number };
    assert.equal(doc.error.code, 'USAGE');
    assert.equal(doc.exitCode, 64);
    assert.match(doc.error.message, /NOPE_NOPE/);
  });

  it('--json prints the entry as one JSON object', () => {
    const r = cli(['explain', 'no_worker_limit', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout) as ExplainEntry;
    assert.equal(e.kind, 'reason');
    assert.equal(e.id, 'NO_WORKER_LIMIT');
    assert.equal(e.fix, REMEDIATION.NO_WORKER_LIMIT);
    assert.deepEqual(e.kernel, [{ feature: 'IORING_REGISTER_IOWQ_MAX_WORKERS', since: '5.15', confidence: 'documented' }]);
    assert.ok(e.kind === 'reason' && e.givenBy.includes('worker-limit'));

    const p = JSON.parse(cli(['explain', 'loopback', '--json']).stdout) as ExplainEntry;
    assert.equal(p.kind, 'probe');
    assert.ok(p.kind === 'probe' && p.reasons.includes('DATA_MISMATCH') && p.reasons.includes('NO_LOOPBACK'));
  });

  it('--json without an ID prints {"entries": [...]} with every entry', () => {
    const r = cli(['explain', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { entries: ExplainEntry[] };
    assert.deepEqual(doc.entries.map((e) => e.id), [...PROBE_IDS, ...REASON_CODES]);
  });
});

describe('uring-probe explain seed (what the port found in the seed)', () => {
  it('has an entry of kind seed-finding for every finding, every field written', () => {
    const entries = seedFindingEntries();
    assert.ok(entries.length > 0);
    for (const e of entries) {
      assert.equal(e.kind, 'seed-finding');
      for (const t of [e.id, e.title, e.seed, e.consequence, e.conditions, e.fix, e.port]) {
        assert.ok(t.trim().length > 0, `${e.id}: empty text`);
        assert.doesNotMatch(t, /not written yet/, e.id);
      }
      for (const list of [e.goSymbols, e.evidence, e.kernelFeatures, e.portFiles]) {
        assert.ok(list.length > 0 && list.every((x) => x.trim().length > 0), `${e.id}: an empty list or item`);
      }
      assert.equal(e.kernel.length, e.kernelFeatures.length, e.id);
      for (const k of e.kernel) assert.ok(k.since === null || /^\d+\.\d+$/.test(k.since), `${e.id}: ${k.feature} since ${String(k.since)}`);
      assert.equal(findAnyEntry(`seed:${e.id}`), e);
    }
    // not in the probe/reason catalog: `explain --json` stays probes then reason codes
    assert.ok(!explainCatalog().some((e) => (e as { kind: string }).kind === 'seed-finding'));
  });

  it('lists them with `explain seed` and shows one with `explain seed:ID`', () => {
    const list = cli(['explain', 'seed']);
    assert.equal(list.status, 0, list.stderr);
    for (const e of seedFindingEntries()) assert.match(list.stdout, new RegExp(`^  ${e.id} +\\S`, 'm'), e.id);
    const first = seedFindingEntries()[0]!;
    const one = cli(['explain', `seed:${first.id}`]);
    assert.equal(one.status, 0, one.stderr);
    assert.ok(one.stdout.startsWith(`seed:${first.id}  seed finding: ${first.title}`));
    assert.ok(squash(one.stdout).includes(squash(first.fix)));
  });
});

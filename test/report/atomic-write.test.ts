// Atomic writes of reports (src/report/atomic-write.ts): a reader never sees half a file, a failure leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/report/atomic-write.js';
import { withTempDir } from '../helpers/paths.js';

test('writeFileAtomic: a concurrent reader only ever sees a whole file', () => withTempDir('uring-atomic-', async (dir) => {
  const target = join(dir, 'report.json');
  const docs = ['a', 'b'].map((fill) => JSON.stringify({ fill, pad: fill.repeat(512 * 1024) }));
  writeFileAtomic(target, docs[0]!);
  // The reader runs in another process, re-reading the file as fast as it can while we rewrite it.
  const reader = spawn(process.execPath, ['-e', `
    const fs = require('fs'); let reads = 0, bad = 0; const end = Date.now() + 60000;
    process.stdin.on('data', () => { process.stdout.write(JSON.stringify({ reads, bad })); process.exit(0); });
    (function loop() { for (let i = 0; i < 20; i++) { try { JSON.parse(fs.readFileSync(${JSON.stringify(target)}, 'utf8')); } catch { bad++; } reads++; }
      if (Date.now() < end) setImmediate(loop); })();
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  reader.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  for (let i = 0; i < 150; i++) {
    writeFileAtomic(target, docs[i % 2]!);
    await new Promise((r) => setImmediate(r));
  }
  reader.stdin.write('stop\n');
  await new Promise((r) => reader.on('exit', r));
  const { reads, bad } = JSON.parse(out) as { reads: number; bad: number };
  assert.ok(reads > 0);
  assert.equal(bad, 0, `${bad} of ${reads} reads saw a partial file`);
  assert.deepEqual(readdirSync(dir), ['report.json'], 'no temporary files left');
}));

test('writeFileAtomic: a failed write leaves neither the target nor a temporary file', () => withTempDir('uring-atomic-', (dir) => {
  writeFileSync(join(dir, 'keep.json'), 'old');
  assert.throws(() => writeFileAtomic(join(dir, 'missing-dir', 'r.json'), 'x'), { code: 'ENOENT' });
  assert.throws(() => writeFileAtomic(dir, 'x'), (e: NodeJS.ErrnoException) => ['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes(e.code ?? ''));
  assert.deepEqual(readdirSync(dir), ['keep.json']);
  assert.equal(readFileSync(join(dir, 'keep.json'), 'utf8'), 'old');
}));

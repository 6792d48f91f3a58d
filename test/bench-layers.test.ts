// The bench engine on the shared layers (issue 12): no errno read and no raw ring access in
// native/bench (the ring-access layer and syscalls.h do both), and the coordinator's failure
// report (inject) while the sender runs, through strace error injection into sendmsg.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { codeOnly } from './helpers/cpp-source.js';
import { missingCommand, skipReason } from './helpers/require.js';

const BENCH_DIR = join(ROOT, 'native', 'bench');
const ADDON = join(ROOT, 'build', 'Release', 'uring_probe.node');
const ENOBUFS = -105;

/** C++ source without comments, literals and preprocessor lines (helpers/cpp-source.ts). */
const code = (path: string): string => codeOnly(readFileSync(path, 'utf8'));

/** Lines of `text` matching `re`, numbered, for the assertion message. */
function hits(text: string, re: RegExp): string[] {
  return text
    .split('\n')
    .map((line, i) => `${i + 1}: ${line.trim()}`)
    .filter((line) => re.test(line));
}

describe('native/bench sits on the shared layers', () => {
  const files = readdirSync(BENCH_DIR).filter((f) => /\.(cc|h)$/.test(f));

  it('reads errno nowhere (syscalls.h is the only place)', () => {
    assert.ok(files.length > 0);
    for (const f of files) {
      assert.deepEqual(hits(code(join(BENCH_DIR, f)), /\berrno\b/), [], `native/bench/${f} reads errno`);
    }
  });

  it('engine.cc writes no SQE and reads no CQE itself (the ring-access layer does)', () => {
    const ringFields = /\b(sqTail|cqHead|cqTail|sqArray)\b|\.sqes\[|cqes\[|memset\(s\b|EnterBounded\(/;
    assert.deepEqual(hits(code(join(BENCH_DIR, 'engine.cc')), ringFields), []);
  });
});

// ---------------------------------------------------------------------------
// The inject step fails while the sender thread runs: the run reports it (stage "inject"), the
// sender and receiver still finish, nothing arrives corrupt. (Before the fix this path was a data
// race on the sender's failure fields, which ThreadSanitizer reported.)
// ---------------------------------------------------------------------------
const CHILD = `
const addon = require(process.argv[1]);
addon.bench.run({ mode: 'syscall', size: 64, durationMs: 100, inject: 3 }).then((r) => {
  process.stdout.write(JSON.stringify(r));
});
`;

function straceMissing(): string | null {
  const missing = missingCommand('strace', 'injects an error into sendmsg');
  if (missing) return missing;
  const run = spawnSync('strace', ['-qq', '-o', '/dev/null', '-e', 'trace=sendmsg', 'true'], { encoding: 'utf8' });
  return run.status === 0 ? null : `strace cannot trace here: ${run.stderr.trim()}`;
}

/** Node must make no sendmsg of its own, or strace's first sendmsg is not the inject step's. */
function nodeSendsItself(): string | null {
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sendmsg', process.execPath, '-e', '0'], { encoding: 'utf8' });
  const calls = (run.stderr.match(/sendmsg\(/g) ?? []).length;
  return calls === 0 ? null : `node ${process.version} makes ${calls} sendmsg call(s) of its own at start-up`;
}

const strace = straceMissing();
const skip = skipReason(
  existsSync(ADDON) ? null : 'the addon is not built (npm run build)',
  strace,
  strace === null ? nodeSendsItself() : null,
);

describe('bench: the coordinator fails (inject) while the sender runs', { skip }, () => {
  it('reports stage inject with the injected errno, and the run still ends with intact data', () => {
    const run = spawnSync(
      'strace',
      ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=sendmsg', '-e', 'inject=sendmsg:error=ENOBUFS:when=1',
        process.execPath, '-e', CHILD, ADDON],
      { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
    );
    assert.equal(run.status, 0, `strace node → ${run.status} ${run.signal}\n${run.stderr}`);
    const r = JSON.parse(run.stdout) as { res: number; stage: string; sent: number; received: number; corrupt: number };
    assert.equal(r.stage, 'inject');
    assert.equal(r.res, ENOBUFS);
    assert.equal(r.corrupt, 0);
    assert.ok(r.received <= r.sent, `received ${r.received} > sent ${r.sent}`);
  });
});

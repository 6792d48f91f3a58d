// Issue 12, "the multishot + provided-buffer-ring code exists twice": the opcodes probe
// (native/probes/opcodes.cc) and the bench engine (native/bench/engine.cc) both receive through one
// component, native/multishot_recv.{h,cc}. A source-level guard that no other file arms a multishot
// RECVMSG, registers a buffer ring or fills one, and, through the real kernel, the bench's
// multishot receiver giving its buffers back: a run that receives more datagrams than the pool
// has buffers, none of them corrupt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { benchEngine } from '../src/bench/engine.js';
import { ROOT } from './helpers/paths.js';
import { codeOnly, sources } from './helpers/cpp-source.js';
import { requireBenchMode } from './helpers/require.js';

const NATIVE_DIR = join(ROOT, 'native');
/** The one home of the multishot receive, the ring-access layer (the helpers) and abi.h (the constants). */
const ALLOWED = new Set(['native/multishot_recv.cc', 'native/multishot_recv.h', 'native/ring_access.h', 'native/abi.h']);

describe('multishot RECVMSG over a provided-buffer ring lives in native/multishot_recv.cc only', () => {
  it('no other native file arms it, registers or fills a buffer ring, or parses io_uring_recvmsg_out', () => {
    const pattern = /\b(PrepRecvmsgMultishot|BufRingInit|BufRingAdd|BufRingAdvance)\s*\(|\bREGISTER_PBUF_RING\b|\bio_uring_recvmsg_out\s*[*&]|\bio_uring_recvmsg_out\s+\w+\s*;/;
    const hits: string[] = [];
    for (const file of sources(NATIVE_DIR)) {
      const rel = relative(ROOT, file);
      if (ALLOWED.has(rel)) continue;
      codeOnly(readFileSync(file, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(hits, []);
  });
});

describe('bench multishot through the shared receiver', () => {
  it('gives every buffer back: more datagrams than the pool has buffers arrive, none corrupt', async (t) => {
    // depth 8: a pool of 256 buffers. The receiver stalls first, so a backlog waits in the socket.
    const r = await benchEngine().run({ mode: 'multishot', size: 64, durationMs: 200, depth: 8, stallMs: 100, rcvbuf: 1 << 20 });
    if (!(await requireBenchMode(t, r))) return;
    assert.equal(r.res, 0, JSON.stringify(r));
    assert.equal(r.corrupt, 0, JSON.stringify(r));
    assert.ok(r.received > 256, `received ${r.received}: the 256 buffers were handed back and reused`);
    assert.ok(r.received <= r.sent, JSON.stringify(r));
  });
});

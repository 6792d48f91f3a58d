// The native addon's syscall layer (issue 12, "errno is read only in the syscall layer"): every
// raw syscall goes through a sys:: wrapper in native/syscalls.h, which returns >= 0 or -errno, so
// no other file of native/ (sub-directories included) reads errno. A source-level guard: C++
// code with its comments, string and character literals and preprocessor lines blanked out (line
// numbers kept), searched for the identifier `errno`. `errno.h`, `errno_name`, "errno" as a
// string (the Node error's property) and -errno in comments are therefore not reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/paths.js';

const NATIVE_DIR = join(ROOT, 'native');
/** The syscall layer: the one file allowed to read errno (relative to the repository root). */
const SYSCALL_LAYER = 'native/syscalls.h';

/** Every .cc/.h under `dir`, recursively, sorted. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (/\.(cc|h)$/.test(entry.name)) out.push(path);
  }
  return out.sort();
}

/**
 * C++ source with comments, string/char literals (raw strings included) and preprocessor lines
 * replaced by spaces; newlines are kept, so line numbers stay those of the file.
 */
function codeOnly(src: string): string {
  let out = '';
  let i = 0;
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    // Preprocessor line (with backslash continuations): #include <errno.h> and the like.
    if (lineStart && c === '#') {
      let j = i;
      for (;;) {
        const nl = src.indexOf('\n', j);
        if (nl === -1) { j = src.length; break; }
        if (src[nl - 1] === '\\') { j = nl + 1; continue; }
        j = nl;
        break;
      }
      out += blank(src.slice(i, j));
      i = j;
      continue;
    }
    if (c === '/' && next === '/') {
      const nl = src.indexOf('\n', i);
      const j = nl === -1 ? src.length : nl;
      out += blank(src.slice(i, j));
      i = j;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const j = end === -1 ? src.length : end + 2;
      out += blank(src.slice(i, j));
      i = j;
      continue;
    }
    if (c === '"') {
      const raw = /(?:^|[^A-Za-z0-9_])(?:u8|[uUL])?R$/.exec(src.slice(Math.max(0, i - 4), i));
      let j: number;
      if (raw) {
        const open = src.indexOf('(', i);
        const delim = src.slice(i + 1, open);
        const close = src.indexOf(`)${delim}"`, open);
        j = close === -1 ? src.length : close + delim.length + 2;
      } else {
        j = i + 1;
        while (j < src.length && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
        j += 1;
      }
      out += blank(src.slice(i, j));
      i = j;
      lineStart = false;
      continue;
    }
    // A character literal, not a digit separator (1'000'000).
    if (c === "'" && !/[0-9A-Fa-f]/.test(src[i - 1] ?? '')) {
      let j = i + 1;
      while (j < src.length && src[j] !== "'" && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      j += 1;
      out += blank(src.slice(i, j));
      i = j;
      lineStart = false;
      continue;
    }
    out += c;
    if (c === '\n') lineStart = true;
    else if (c !== ' ' && c !== '\t') lineStart = false;
    i += 1;
  }
  return out;
}

/** "file:line: text" of every errno read in `src` (file as given). */
function errnoReads(file: string, src: string): string[] {
  const lines = src.split('\n');
  return codeOnly(src)
    .split('\n')
    .flatMap((line, i) => (/\berrno\b/.test(line) ? [`${file}:${i + 1}: ${(lines[i] ?? '').trim()}`] : []));
}

describe('native: errno is read only in the syscall layer', () => {
  it('the scanner sees a read in code and nothing in comments, strings, includes or errno_name', () => {
    const sample = [
      '#include <errno.h>',                                   // 1
      '#include "errno_name.h"',                              // 2
      '// returns 0 or -errno',                               // 3
      '/* -errno, errno',                                     // 4
      '   still a comment: errno */',                         // 5
      'e.Set("errno", Napi::Number::New(env, -err));',        // 6
      'const char* s = R"x(errno )" errno)x";',               // 7
      'char q = \'"\'; int k = 1\'000;',                      // 8
      'if (r < 0) return -errno;',                            // 9
      'while (nanosleep(&t, &t) == -1 && errno == EINTR) {',  // 10
      'auto n = errno_name::Name(e); int my_errno = 0;',      // 11
      '#define X(a) \\',                                      // 12
      '  errno',                                              // 13
      'int e = errno;  // "quoted" errno',                    // 14
    ].join('\n');
    assert.deepEqual(
      errnoReads('x.cc', sample).map((h) => h.split(':').slice(0, 2).join(':')),
      ['x.cc:9', 'x.cc:10', 'x.cc:14'],
    );
  });

  it(`no file under native/ but ${SYSCALL_LAYER} reads errno`, () => {
    const files = sources(NATIVE_DIR);
    assert.ok(files.some((f) => relative(ROOT, f) === SYSCALL_LAYER), `${SYSCALL_LAYER} is missing`);
    assert.ok(files.length > 10, `only ${files.length} native sources found`);
    const offenders = files
      .map((f) => relative(ROOT, f))
      .filter((f) => f !== SYSCALL_LAYER)
      .flatMap((f) => errnoReads(f, readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(offenders, [], `errno read outside ${SYSCALL_LAYER}:\n${offenders.join('\n')}`);
  });

  it(`${SYSCALL_LAYER} itself does read errno (the guard looks at real code)`, () => {
    const reads = errnoReads(SYSCALL_LAYER, readFileSync(join(ROOT, SYSCALL_LAYER), 'utf8'));
    assert.ok(reads.length > 0, 'the scanner found no errno read even in the syscall layer');
  });
});

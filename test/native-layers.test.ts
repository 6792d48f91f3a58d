// The native addon's syscall layer (issue 12, "errno is read only in the syscall layer"): every
// raw syscall goes through a sys:: wrapper in native/syscalls.h, which returns >= 0 or -errno, so
// no other file of native/ (sub-directories included) reads errno. A source-level guard: C++
// code with its comments, string and character literals and preprocessor lines blanked out (line
// numbers kept), searched for the identifier `errno`. `errno.h`, `errno_name`, "errno" as a
// string (the Node error's property) and -errno in comments are therefore not reads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers/paths.js';
import { codeOnly, sources } from './helpers/cpp-source.js';

const NATIVE_DIR = join(ROOT, 'native');
/** The syscall layer: the one file allowed to read errno (relative to the repository root). */
const SYSCALL_LAYER = 'native/syscalls.h';


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

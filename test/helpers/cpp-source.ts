// C++ source scanning for the source-level guards (native-layers, multishot-once, bench-layers).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every .cc/.h under `dir`, recursively, sorted. */
export function sources(dir: string): string[] {
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
export function codeOnly(src: string): string {
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

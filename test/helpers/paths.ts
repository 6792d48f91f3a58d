// Where things are, for every test file: the repository root, the built CLI, the fixtures, temp dirs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readReportFile } from '../../src/reader.js';
import type { Report } from '../../src/types.js';

/** The repository root: the nearest ancestor holding the uring-probe package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (pkg.name === 'uring-probe') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('paths: no uring-probe package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const ROOT = repoRoot();
/** The built CLI (`npm run build:ts`). */
export const CLI_PATH = join(ROOT, 'dist', 'bin', 'uring-probe.js');
/** The package version, from package.json. */
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export const FIXTURES = join(ROOT, 'fixtures');
/** Reports of other hosts (fixtures/reports/), the inputs of gate, diff, fleet and the renderers. */
export const REPORTS = join(FIXTURES, 'reports');

/** A path under fixtures/, e.g. fixturePath('seccomp', 'kill-io_uring.json'). */
export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

/** A report fixture read and checked by the reader: a file name in fixtures/reports/, or a path. */
export function reportFixture(nameOrPath: string): Report {
  const path = isAbsolute(nameOrPath) ? nameOrPath : join(REPORTS, nameOrPath);
  const read = readReportFile(path);
  if (!read.ok) throw new Error(`${nameOrPath}: ${read.message}`);
  return read.report;
}

/** A new directory in the temp dir (prefix e.g. 'uring-probe-output-'); the caller removes it. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Runs `body` with a new temp directory, removed afterwards whatever happens (sync or async body). */
export function withTempDir<T>(prefix: string, body: (dir: string) => T): T {
  const dir = makeTempDir(prefix);
  let result: T;
  try {
    result = body(dir);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => removeDir(dir)) as T;
  removeDir(dir);
  return result;
}

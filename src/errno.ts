// errno numbers <-> symbolic names ('EPERM'), from os.constants.errno of the running platform.
import { constants } from 'node:os';

/** Where two names share a number, the name the kernel's man pages use. */
const PREFERRED = new Set(['EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);

const nameByNumber = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  const existing = nameByNumber.get(value);
  if (existing === undefined || (PREFERRED.has(name) && !PREFERRED.has(existing))) {
    nameByNumber.set(value, name);
  }
}

/** Name of an errno; accepts the positive number or the kernel's negative return value. */
export function errnoName(value: number): string {
  const n = Math.abs(value);
  return nameByNumber.get(n) ?? `E${n}`;
}

/** Number of an errno name ('EPERM' -> 1), or null when this platform does not know it. */
export function errnoNumber(name: string): number | null {
  const value = (constants.errno as Record<string, number | undefined>)[name];
  return value ?? null;
}

/** The errno name of a `>= 0 or -errno` result, null when it succeeded. */
export function errnoOfResult(res: number): string | null {
  return res < 0 ? errnoName(res) : null;
}

// Who we are and where we run: HostInfo for the report header, and the tool's own name/version.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, machine, release, version } from 'node:os';
import { packageText } from './runtime.js';
import type { HostInfo } from './types.js';

let cachedVersion: string | null = null;

/** `version` of our package.json ('0.0.0' if it cannot be read, which only a broken install does). */
export function toolVersion(): string {
  if (cachedVersion !== null) return cachedVersion;
  try {
    const pkg = JSON.parse(packageText('package.json')) as { version?: unknown };
    cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

export function toolInfo(): { name: 'uring-probe'; version: string } {
  return { name: 'uring-probe', version: toolVersion() };
}

/** A file's text, or null when it does not exist or cannot be read. */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** PRETTY_NAME of /etc/os-release (falling back to /usr/lib/os-release), or null. */
export function readDistribution(): string | null {
  const text = readTextOrNull('/etc/os-release') ?? readTextOrNull('/usr/lib/os-release');
  if (text === null) return null;
  for (const line of text.split('\n')) {
    const m = /^PRETTY_NAME=(.*)$/.exec(line.trim());
    if (m && m[1] !== undefined) return m[1].replace(/^["']|["']$/g, '') || null;
  }
  return null;
}

/** First 16 hex chars of sha256(/etc/machine-id): identifies a host in a fleet without exposing the id. */
export function machineIdHash(): string | null {
  const id = readTextOrNull('/etc/machine-id')?.trim();
  if (!id) return null;
  return createHash('sha256').update(id).digest('hex').slice(0, 16);
}

export function collectHostInfo(): HostInfo {
  return {
    hostname: hostname(),
    machineIdHash: machineIdHash(),
    kernelRelease: release(),
    kernelVersion: version(),
    arch: machine(),
    distribution: readDistribution(),
  };
}

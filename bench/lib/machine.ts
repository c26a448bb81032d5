import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Packages whose version changes what the benchmark measures. */
export const MEASURED_PACKAGES = [
  '@noble/curves',
  '@noble/ciphers',
  '@noble/hashes',
  '@hpke/core',
  '@hpke/common',
  'libsodium-wrappers',
  'aedes',
  'mqtt',
  'better-sqlite3',
  'viem',
  '@foundry-rs/anvil',
  'cbor-x',
  'fastify',
] as const;

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memGiB: number;
  readonly platform: string;
  readonly kernel: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  readonly openssl: string;
  readonly vitalseal: { readonly version: string; readonly commit: string | null; readonly dirty: boolean | null };
  readonly packages: Readonly<Record<string, string | null>>;
  readonly loadavgStart: readonly number[];
  loadavgEnd: readonly number[];
}

function packageVersion(name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: platform(),
    kernel: release(),
    arch: arch(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? 'unknown',
    vitalseal: { version: own.version, commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
    packages: Object.fromEntries(MEASURED_PACKAGES.map((p) => [p, packageVersion(p)])),
    loadavgStart: loadavg().map((x) => Math.round(x * 100) / 100),
    loadavgEnd: [],
  };
}

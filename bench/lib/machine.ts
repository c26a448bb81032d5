import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantileSorted, round, sortedCopy } from './stats.ts';

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

/** How long the disk under a directory takes to make a small write durable. */
export interface DiskSyncLatency {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly samples: number;
}

/**
 * fdatasync latency of the disk holding `dir`: `samples` appends of 4 KiB to a scratch file, each
 * followed by an fdatasync — the step that every durable group commit (WAL frames, then fdatasync)
 * waits for, and so a floor under the round trip of a publisher whose PUBACK follows it.
 */
export function diskSyncLatency(dir: string, samples: number): DiskSyncLatency {
  const scratch = mkdtempSync(join(dir, 'vitalseal-fsync-probe-'));
  const fd = openSync(join(scratch, 'probe'), 'w');
  const block = Buffer.alloc(4096, 0xa5);
  const ms: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      writeSync(fd, block, 0, block.length, i * block.length);
      const t0 = performance.now();
      fdatasyncSync(fd);
      ms.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(scratch, { recursive: true, force: true });
  }
  const sorted = sortedCopy(ms);
  return {
    p50Ms: round(quantileSorted(sorted, 0.5), 3),
    p90Ms: round(quantileSorted(sorted, 0.9), 3),
    p99Ms: round(quantileSorted(sorted, 0.99), 3),
    samples,
  };
}

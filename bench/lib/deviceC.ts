/**
 * Builds the C device library (device-c/, issue #19) with its own Makefile and says where the
 * programs are, or why it cannot: `make -C device-c` needs a C compiler, make and libsodium's
 * headers (Debian: gcc make libsodium-dev; the pretest step and .ci/run install them).
 *
 * Used by `vitalseal bench crypto` (the C seal row, bench/native.ts) and by the tests
 * (test/deviceC/build.ts). Concurrent callers (vitest workers, a bench next to a test run) are
 * serialised with flock(1) on device-c/build/.lock, so two makes never write the same object.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEVICE_C_DIR = resolve(fileURLToPath(new URL('../../device-c', import.meta.url)));

export interface DeviceCBuild {
  /** The build directory (device-c/build, or device-c/build/asan for the sanitizer build). */
  readonly dir: string;
  readonly asan: boolean;
  /** Path of a program or library the Makefile builds into `dir` (e.g. 'vs-kat', 'vitalseal-device-c'). */
  path(name: string): string;
}

export type DeviceCResult = { readonly ok: true; readonly build: DeviceCBuild } | { readonly ok: false; readonly reason: string };

const SODIUM_HEADERS = ['/usr/include/sodium.h', '/usr/local/include/sodium.h'];

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/** Why device-c cannot be built on this machine, or undefined when the toolchain is there. */
export function deviceCMissing(): string | undefined {
  const missing: string[] = [];
  if (!onPath(process.env.CC ?? 'cc')) missing.push('a C compiler (cc; Debian package gcc)');
  if (!onPath('make')) missing.push('make');
  if (!SODIUM_HEADERS.some((h) => existsSync(h))) missing.push('libsodium headers (Debian package libsodium-dev)');
  return missing.length > 0 ? `device-c cannot be built: missing ${missing.join(', ')}` : undefined;
}

const built = new Map<string, DeviceCResult>();

/**
 * `make -C device-c all` (or `asan`), once per process and build kind; make's own dependency
 * tracking makes a later call in another process cheap. Never throws: a failure is a reason.
 */
export function buildDeviceC(opts: { readonly asan?: boolean } = {}): DeviceCResult {
  const asan = opts.asan ?? false;
  const key = asan ? 'asan' : 'default';
  const cached = built.get(key);
  if (cached) return cached;
  const result = build(asan);
  built.set(key, result);
  return result;
}

function build(asan: boolean): DeviceCResult {
  const missing = deviceCMissing();
  if (missing) return { ok: false, reason: missing };
  const buildRoot = join(DEVICE_C_DIR, 'build');
  mkdirSync(buildRoot, { recursive: true });
  const makeArgs = ['-C', DEVICE_C_DIR, '--no-print-directory', '-j2', asan ? 'asan' : 'all'];
  const lock = onPath('flock') ? ['flock', join(buildRoot, '.lock'), 'make'] : ['make'];
  const r = spawnSync(lock[0]!, [...lock.slice(1), ...makeArgs], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    return { ok: false, reason: `make ${makeArgs.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${out}` };
  }
  const dir = asan ? join(buildRoot, 'asan') : buildRoot;
  return { ok: true, build: { dir, asan, path: (name) => join(dir, name) } };
}

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// A crash between write and rename, simulated: renameSync fails once when `crash.armed`.
const crash = vi.hoisted(() => ({ armed: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    renameSync: (from: string, to: string) => {
      if (crash.armed) {
        crash.armed = false;
        throw Object.assign(new Error('simulated crash before rename'), { code: 'ECRASH' });
      }
      fs.renameSync(from, to);
    },
  };
});

const { writePrivateFileAtomicSync, writePrivateFileAtomic } = await import('../../platform/privateFiles.ts');
const { loadOrCreateAdminToken, loadOrCreateIdentity } = await import('../../agent/identity.ts');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vs-private-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('platform/privateFiles: atomic key-file writes', () => {
  it('writes 0600 and replaces the old file whole', async () => {
    const dir = tempDir();
    const path = join(dir, 'key.json');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    writePrivateFileAtomicSync(path, 'new key\n');
    expect(readFileSync(path, 'utf8')).toBe('new key\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writePrivateFileAtomic(path, new TextEncoder().encode('newer key\n'));
    expect(readFileSync(path, 'utf8')).toBe('newer key\n');
    expect(readdirSync(dir)).toEqual(['key.json']);
  });

  it('a crash between write and rename leaves the old file intact and only a temp file beside it', () => {
    const dir = tempDir();
    const path = join(dir, 'ward-keys.json');
    writePrivateFileAtomicSync(path, 'old key\n');
    crash.armed = true;
    expect(() => writePrivateFileAtomicSync(path, 'new key, never half-visible\n')).toThrow('simulated crash');
    expect(readFileSync(path, 'utf8')).toBe('old key\n');
    const tmp = readdirSync(dir).filter((n) => n !== 'ward-keys.json');
    expect(tmp).toHaveLength(1);
    expect(tmp[0]).toMatch(/^ward-keys\.json\.tmp-/);
    expect(statSync(join(dir, tmp[0]!)).mode & 0o777).toBe(0o600);
    // the next write (after the restart) replaces the stale temp file and succeeds
    writePrivateFileAtomicSync(path, 'new key\n');
    expect(readFileSync(path, 'utf8')).toBe('new key\n');
    expect(readdirSync(dir)).toEqual(['ward-keys.json']);
  });

  it('the agent identity and admin token go through it (0600, no file left on a crash before rename)', () => {
    const dir = tempDir();
    crash.armed = true;
    expect(() => loadOrCreateAdminToken(dir)).toThrow('simulated crash');
    expect(existsSync(join(dir, 'admin-token'))).toBe(false);
    const token = loadOrCreateAdminToken(dir);
    expect(loadOrCreateAdminToken(dir)).toBe(token);
    loadOrCreateIdentity(dir);
    for (const f of ['admin-token', 'agent-key.json']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });
});

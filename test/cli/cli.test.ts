import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '../support/services.ts';

const BIN = join(import.meta.dirname, '../../bin/vitalseal.js');

function run(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('vitalseal CLI (keygen → seal → open → verify-proof)', () => {
  const dir = tempDir('vitalseal-cli-');
  const keyFile = join(dir, 'patient.key');

  it('keygen writes a temp key file and never prints the secret', () => {
    const r = run(['keygen', '--patient-id', 'p-42', '--out', keyFile, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { kid: string; publicKey: string };
    const file = JSON.parse(readFileSync(keyFile, 'utf8')) as { secretKey: string; kid: string };
    expect(file.kid).toBe(summary.kid);
    expect(r.out).not.toContain(file.secretKey);
  });

  it('seals a reading and opens it back with the key file', () => {
    const sealed = run(
      ['seal', '--key', keyFile, '--dev', 'oxi-01', '--seq', '7'],
      JSON.stringify({ st: 'spo2', ts: 1_700_000_000_000, v: [97, 72], u: '%' }),
    );
    expect(sealed.code).toBe(0);
    const envFile = join(dir, 'reading.hex');
    writeFileSync(envFile, sealed.out);
    const opened = run(['open', '--key', keyFile, '--in', envFile]);
    expect(opened.code).toBe(0);
    const j = JSON.parse(opened.out) as { header: { dev: string; seq: number }; reading: { v: number[] } };
    expect(j.header).toMatchObject({ dev: 'oxi-01', seq: 7 });
    expect(j.reading.v).toEqual([97, 72]);
  });

  it('reports a tampered envelope with exit code 4 and a stable code', () => {
    const sealed = run(
      ['seal', '--key', keyFile, '--dev', 'oxi-01', '--seq', '8'],
      JSON.stringify({ st: 'spo2', v: [97], u: '%' }),
    ).out.trim();
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('00') ? '01' : '00');
    const r = run(['open', '--key', keyFile, '--json'], tampered);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'ENVELOPE_DECRYPT_FAILED' } });
  });

  it('rejects a malformed reading with exit code 3', () => {
    const r = run(['seal', '--key', keyFile, '--dev', 'oxi-01', '--seq', '9', '--json'], JSON.stringify({ st: 'spo2', v: ['x'], u: '%' }));
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).error.code).toBe('READING_INVALID');
  });

  it('verify-proof: a one-leaf tree verifies; a wrong root exits 4', () => {
    const env = run(
      ['seal', '--key', keyFile, '--dev', 'oxi-01', '--seq', '10'],
      JSON.stringify({ st: 'spo2', v: [97], u: '%' }),
    ).out.trim();
    const envFile = join(dir, 'one.hex');
    writeFileSync(envFile, env);
    const root = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(env, 'hex')]))
      .digest('hex');
    expect(run(['verify-proof', '--leaf-index', '0', '--tree-size', '1', '--envelope', envFile, '--root', root]).code).toBe(0);
    const bad = run(['verify-proof', '--leaf-index', '0', '--tree-size', '1', '--envelope', envFile, '--root', '00'.repeat(32), '--json']);
    expect(bad.code).toBe(4);
    expect(JSON.parse(bad.out).error.code).toBe('PROOF_MISMATCH');
  });

  it('bad usage exits 2', () => {
    expect(run(['keygen']).code).toBe(2);
  });
});

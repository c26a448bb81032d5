import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesToHex } from 'viem';
import { Wallet } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/errors.ts';
import { reasonHashOf, openRelease } from '../../wallet/emergency.ts';
import { isDrillReason, RELEASE_INFO, releaseAad } from '../../protocol/escrow.ts';
import { importKeyShare, sealKeyShare } from '../../wallet/keyShare.ts';
import { parseScope } from '../../wallet/consent.ts';
import { toCsv, toNdjson } from '../../wallet/readings.ts';
import { encryptEncrypt0ChaCha } from '../../protocol/cose/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { seededRng } from '../../protocol/rng.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-wallet-');
const rng = seededRng('wallet-test');
const hpke = createHpke('node');
const N = 1 << 10;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wallet file', () => {
  it('round-trips, holds no secret in clear, and is mode 0600', () => {
    const path = join(dir, 'a.json');
    const w = Wallet.create(path, 'correct horse', { rng, scryptN: N });
    w.addSession({
      patient: w.address,
      device: 'd1',
      kid: '00'.repeat(16),
      sk: 'ab'.repeat(32),
      pk: 'cd'.repeat(32),
      nbf: 1,
      exp: 2,
      source: 'own',
    });
    w.save();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(w.privateKey.slice(2));
    expect(text).not.toContain('ab'.repeat(32));
    expect(text).not.toContain(toHex(w.vitalsealSecretKey));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = Wallet.open(path, 'correct horse', rng);
    expect(again.address).toBe(w.address);
    expect(again.sessions).toHaveLength(1);
    expect(JSON.stringify(again)).not.toContain('ab'.repeat(32));
  });

  it('refuses a wrong passphrase and a tampered header with stable codes', () => {
    const path = join(dir, 'b.json');
    Wallet.create(path, 'pw', { rng, scryptN: N });
    expect(() => Wallet.open(path, 'other', rng)).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PASSPHRASE' }));
    const j = JSON.parse(readFileSync(path, 'utf8')) as { address: string };
    j.address = `0x${'11'.repeat(20)}`;
    writeFileSync(path, JSON.stringify(j));
    expect(() => Wallet.open(path, 'pw', rng)).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PASSPHRASE' }));
    expect(() => Wallet.create(path, 'pw', { rng, scryptN: N })).toThrow(WalletError);
  });
});

describe('key shares, emergency release, scopes, exports', () => {
  it('a key share opens only with the grantee wallet', () => {
    const p = Wallet.create(join(dir, 'p.json'), 'x', { rng, scryptN: N });
    const c = Wallet.create(join(dir, 'c.json'), 'x', { rng, scryptN: N });
    const other = Wallet.create(join(dir, 'o.json'), 'x', { rng, scryptN: N });
    p.addSession({
      patient: p.address,
      device: 'd',
      kid: '11'.repeat(16),
      sk: '22'.repeat(32),
      pk: '33'.repeat(32),
      nbf: 1,
      exp: 2,
      source: 'own',
    });
    const share = sealKeyShare(p, p.sessions, c.address, c.vitalsealPublicKey, hpke, rng);
    expect(importKeyShare(c, share, hpke)).toBe(1);
    expect(toHex(c.sessionSecretFor('11'.repeat(16))!)).toBe('22'.repeat(32));
    expect(() => importKeyShare(other, { ...share, grantee: other.address }, hpke)).toThrow(
      expect.objectContaining({ code: 'WALLET_SHARE_INVALID' }),
    );
  });

  it('a release opens with the clinician key only', () => {
    const clin = Wallet.create(join(dir, 'e.json'), 'x', { rng, scryptN: N });
    const patient = `0x${'aa'.repeat(20)}`;
    const k = rng(32);
    const profile = encryptEncrypt0ChaCha({
      key: k,
      iv: rng(12),
      plaintext: utf8(JSON.stringify({ bloodType: 'B-', allergies: [], medication: [] })),
      externalAad: utf8(patient),
    });
    const sealed = hpke.seal(x25519.getPublicKey(clin.vitalsealSecretKey), RELEASE_INFO, releaseAad(patient, clin.address), k, { rng });
    const rel = {
      profile: Buffer.from(profile).toString('base64'),
      enc: bytesToHex(sealed.enc),
      sealedKey: Buffer.from(sealed.ciphertext).toString('base64'),
    };
    expect(openRelease(clin, patient as `0x${string}`, rel, hpke).bloodType).toBe('B-');
    const stranger = Wallet.create(join(dir, 'f.json'), 'x', { rng, scryptN: N });
    expect(() => openRelease(stranger, patient as `0x${string}`, rel, hpke)).toThrow();
  });

  it('marks drill reasons on-chain and only those', () => {
    expect(isDrillReason(reasonHashOf('x', true))).toBe(true);
    expect(isDrillReason(reasonHashOf('x', false))).toBe(false);
    expect(reasonHashOf('x', true)).toHaveLength(66);
  });

  it('parses scopes and exports CSV / NDJSON', () => {
    expect(parseScope('all')).toEqual({ kind: 'all' });
    expect(parseScope('sensor:spo2')).toEqual({ kind: 'sensor', sensorType: 'spo2' });
    expect(parseScope(`session:${'0f'.repeat(16)}`).kind).toBe('session');
    expect(() => parseScope('session:zz')).toThrow(WalletError);
    const rows = [{ device: 'd', values: '1 2', note: 'a,"b"' }];
    expect(toCsv(rows)).toBe('device,values,note\nd,1 2,"a,""b"""\n');
    expect(toNdjson(rows)).toBe(`${JSON.stringify(rows[0])}\n`);
  });
});

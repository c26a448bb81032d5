/**
 * HPKE Auth-mode reading envelopes (issue #20, docs/PROTOCOL.md §3.6, §5.2, §5.5, §5.7, §6, §13.1):
 * sealed with the device's identity secret, opened with the identity key the ticket certifies, on
 * both backends and across them; every way a reading can fail to prove its origin has its code.
 */
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, type CborMap } from '../../protocol/cbor/index.ts';
import { decodeEncrypt0, encodeEncrypt0 } from '../../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  decodeEnvelopeHeaderView,
  describeOrigin,
  originOfOpened,
  discloseReadingKey,
  envelopeAad,
  identityFingerprint,
  openDisclosedReading,
  openReading,
  sealReading,
  tryDecodeCanonicalEnvelope,
  type Reading,
  type ReadingHeader,
} from '../../protocol/envelope/index.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { createHpke, HPKE_BACKENDS } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { codeOf } from './fuzzInputs.ts';

const noble = createHpke('noble');
const patient = noble.deriveKeyPair(utf8('patient:auth-mode-test-recipient-000000'));
const recipient = { publicKey: patient.publicKey, kid: keyIdOf(patient.publicKey) };
const device = noble.deriveKeyPair(utf8('device:oxi-01:identity-key-000000000000'));
const forger = noble.deriveKeyPair(utf8('gateway:forger-identity-key-000000000000'));
const otherPatient = noble.deriveKeyPair(utf8('patient:someone-else-0000000000000000000'));
const TS = 1_767_225_600_000;
const header: ReadingHeader = { dev: 'oxi-01', seq: 42, ts: TS, st: 'spo2' };
const reading: Reading = { st: 'spo2', ts: TS, v: [97], u: '%' };

describe.each(HPKE_BACKENDS)('Auth mode on the %s backend', (name) => {
  const hpke = createHpke(name);
  const auth = sealReading({ reading, header, recipient, hpke, rng: seededRng('auth/1'), senderSecretKey: device.secretKey });
  const base = sealReading({ reading, header, recipient, hpke, rng: seededRng('auth/1') });
  const open = (bytes: Uint8Array, senderPublicKey?: Uint8Array, secretKey = patient.secretKey) =>
    openReading(bytes, { secretKey, hpke, ...(senderPublicKey ? { senderPublicKey } : {}) });

  it('single-shot: opens with the ticket identity key and reports the origin', () => {
    const opened = open(auth, device.publicKey);
    expect(opened.reading).toEqual(reading);
    expect(opened.header.m).toBe(2);
    const origin = originOfOpened(opened, device.publicKey);
    expect(origin).toEqual({ mode: 'auth', senderPublicKey: device.publicKey });
    expect(describeOrigin(origin, 'oxi-01')).toBe(`verified: sealed by device oxi-01 identity ${identityFingerprint(device.publicKey)}`);
    expect(identityFingerprint(device.publicKey)).toBe(toHex(keyIdOf(device.publicKey)));
    // base mode stays readable (old data) and says so
    const old = open(base);
    expect(originOfOpened(old, undefined)).toEqual({ mode: 'base' });
    expect(describeOrigin(originOfOpened(old, undefined), 'oxi-01')).toBe('base mode: origin not proven');
  });

  it('a forger with only the patient public key: its own identity key → ENVELOPE_ORIGIN_UNVERIFIED; base mode under an idk ticket → ENVELOPE_ORIGIN_UNVERIFIED', () => {
    const forged = sealReading({ reading, header, recipient, hpke, rng: seededRng('forger'), senderSecretKey: forger.secretKey });
    expect(codeOf(() => open(forged, device.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    expect(codeOf(() => open(base, device.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    // and the genuine envelope does not verify against another identity key either
    expect(codeOf(() => open(auth, forger.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
  });

  it('Auth mode without the identity key → ENVELOPE_NO_SENDER_KEY; another recipient key → ENVELOPE_DECRYPT_FAILED', () => {
    expect(codeOf(() => open(auth))).toBe('ENVELOPE_NO_SENDER_KEY');
    expect(codeOf(() => open(auth, device.publicKey, otherPatient.secretKey))).toBe('ENVELOPE_DECRYPT_FAILED');
  });

  it('the mode is authenticated: dropping "m" (re-encoded header, same ciphertext) does not open in base mode', () => {
    const e = decodeEncrypt0(auth);
    const map = decodeStrict(e.protectedBytes) as CborMap;
    map.delete('m');
    const stripped = encodeEncrypt0({ protectedBytes: encodeCanonical(map), unprotected: e.unprotected, ciphertext: e.ciphertext });
    expect(codeOf(() => open(stripped))).toBe('ENVELOPE_DECRYPT_FAILED');
  });

  it('a tampered ciphertext of an Auth-mode envelope is "not from the device" (reader holds the right key)', () => {
    const t = auth.slice();
    t[t.length - 1]! ^= 1;
    expect(codeOf(() => open(t, device.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
  });

  it('session mode: SetupAuthS once, every envelope "m": 2, opened out of order with the identity key', () => {
    const s = createSessionSealer({ recipient, hpke, rng: seededRng('auth/session'), senderSecretKey: device.secretKey });
    const envs = [0, 1, 2].map((i) => s.seal({ reading: { ...reading, ts: TS + i }, header: { ...header, seq: 42 + i, ts: TS + i } }));
    for (const i of [2, 0, 1]) {
      const o = open(envs[i]!, device.publicKey);
      expect(o.header).toMatchObject({ hs: i, m: 2 });
      expect(o.reading.ts).toBe(TS + i);
    }
    const forgedSession = createSessionSealer({ recipient, hpke, rng: seededRng('forger/session'), senderSecretKey: forger.secretKey });
    expect(codeOf(() => open(forgedSession.seal({ reading, header }), device.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
  });

  it('research disclosure: the patient derives key and nonce only for a reading from the device', () => {
    const d = discloseReadingKey(auth, { secretKey: patient.secretKey, hpke, senderPublicKey: device.publicKey });
    expect(d.origin).toEqual({ mode: 'auth', senderPublicKey: device.publicKey });
    const researcher = openDisclosedReading(auth, { key: d.key, nonce: d.baseNonce, recordId: d.recordId }, hpke);
    expect(researcher.reading).toEqual(reading);
    expect(researcher.header.m).toBe(2); // what the authenticated header states; not re-verifiable from a symmetric key
    expect(codeOf(() => discloseReadingKey(auth, { secretKey: patient.secretKey, hpke }))).toBe('ENVELOPE_NO_SENDER_KEY');
    expect(codeOf(() => discloseReadingKey(auth, { secretKey: patient.secretKey, hpke, senderPublicKey: forger.publicKey }))).toBe(
      'ENVELOPE_ORIGIN_UNVERIFIED',
    );
    expect(discloseReadingKey(base, { secretKey: patient.secretKey, hpke }).origin).toEqual({ mode: 'base' });
  });
});

describe('Auth mode across backends and key-less', () => {
  it('noble seals, node opens, and the reverse; for the same randomness both give the same bytes', () => {
    const node = createHpke('node');
    const byNoble = sealReading({ reading, header, recipient, hpke: noble, rng: seededRng('x'), senderSecretKey: device.secretKey });
    const byNode = sealReading({ reading, header, recipient, hpke: node, rng: seededRng('x'), senderSecretKey: device.secretKey });
    expect(toHex(byNode)).toBe(toHex(byNoble));
    expect(openReading(byNoble, { secretKey: patient.secretKey, hpke: node, senderPublicKey: device.publicKey }).reading).toEqual(reading);
    expect(openReading(byNode, { secretKey: patient.secretKey, hpke: noble, senderPublicKey: device.publicKey }).reading).toEqual(reading);
  });

  it('protected header: keys in deterministic order 1, "m", "hs", …; the agent decodes "m" without a key', () => {
    const s = createSessionSealer({ recipient, hpke: noble, rng: seededRng('order'), senderSecretKey: device.secretKey });
    const env = s.seal({ reading, header });
    const p = decodeEnvelope(env).protectedBytes;
    // a7 01 18 2a 61 6d 02 62 68 73 00 …: map(7), 1: 42, "m": 2, "hs": 0
    expect(toHex(p.subarray(0, 11))).toBe('a701182a616d0262687300');
    expect(decodeEnvelopeHeaderView(env).header.m).toBe(2);
    // the key-less fast path (agent ingest, opening) reads Auth mode too, with the strict decoder's result
    const fast = tryDecodeCanonicalEnvelope(env)!;
    const strict = decodeEnvelope(env);
    expect(fast.header).toEqual(strict.header);
    expect([fast.kid, fast.enc, fast.ciphertext, fast.protectedBytes].map(toHex)).toEqual(
      [strict.kid, strict.enc, strict.ciphertext, strict.protectedBytes].map(toHex),
    );
    const single = sealReading({ reading, header, recipient, hpke: noble, rng: seededRng('o'), senderSecretKey: device.secretKey });
    expect(decodeEnvelope(single).header).toEqual({ alg: 42, ...header, m: 2 });
  });

  it.each([0, 1, 3, '2', true])('"m": %s → ENVELOPE_BAD_HEADER', (m) => {
    const map: CborMap = new Map<string | number, string | number | boolean>([
      [1, 42],
      ['dev', 'oxi-01'],
      ['seq', 1],
      ['ts', TS],
      ['st', 'spo2'],
      ['m', m],
    ]);
    const protectedBytes = encodeCanonical(map);
    const { enc, ciphertext } = noble.seal(recipient.publicKey, new Uint8Array(0), envelopeAad(protectedBytes), new Uint8Array(20), {
      rng: seededRng('m'),
    });
    const bytes = encodeEncrypt0({
      protectedBytes,
      unprotected: new Map([
        [4, recipient.kid],
        [-4, enc],
      ]),
      ciphertext,
    });
    expect(codeOf(() => decodeEnvelope(bytes))).toBe('ENVELOPE_BAD_HEADER');
  });
});

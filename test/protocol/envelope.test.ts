import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../protocol/bytes.ts';
import { encodeCanonical, Tag, type CborMap, type CborValue } from '../../protocol/cbor/index.ts';
import { decodeEncrypt0, encodeEncrypt0 } from '../../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  discloseReadingKey,
  encodeReading,
  envelopeAad,
  ENVELOPE_MAX_BYTES,
  openDisclosedReading,
  openReading,
  READING_MAX_VALUES,
  sealReading,
  type Reading,
  type ReadingHeader,
} from '../../protocol/envelope/index.ts';
import { createHpke, HPKE_BACKENDS } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { keyIdOf, tempKeyPairGen } from '../../protocol/keys/index.ts';
import { codeOf, FUZZ_RUNS, mutatedBytes, onlyKnownErrors, randomBytes } from './fuzzInputs.ts';

const noble = createHpke('noble');
const node = createHpke('node');
const recipientPair = noble.deriveKeyPair(utf8('patient:test-recipient-0000000000000000'));
const recipient = { publicKey: recipientPair.publicKey, kid: keyIdOf(recipientPair.publicKey) };
const secretKey = recipientPair.secretKey;
const TS = 1_700_000_000_000;
const header: ReadingHeader = { dev: 'spo2-0001', seq: 7, ts: TS, st: 'spo2' };
const reading: Reading = { st: 'spo2', ts: TS, v: [97, 96.5], u: '%' };
const sealed = sealReading({ reading, header, recipient, hpke: noble, rng: seededRng('envelope-test') });

/** Seals arbitrary protected-header maps / plaintexts, to reach checks a well-behaved sealer never triggers. */
function sealRaw(protectedMap: CborMap, plaintext: Uint8Array, unprotected?: CborMap): Uint8Array {
  const protectedBytes = encodeCanonical(protectedMap);
  const { enc, ciphertext } = noble.seal(recipient.publicKey, new Uint8Array(0), envelopeAad(protectedBytes), plaintext, {
    rng: seededRng('raw'),
  });
  return encodeEncrypt0({
    protectedBytes,
    unprotected:
      unprotected ??
      new Map<number, CborValue>([
        [4, recipient.kid],
        [-4, enc],
      ]),
    ciphertext,
  });
}
const protectedMap = (): CborMap =>
  new Map<number | string, CborValue>([
    [1, 42],
    ['dev', header.dev],
    ['seq', header.seq],
    ['ts', header.ts],
    ['st', header.st],
  ]);
const reencode = (bytes: Uint8Array, edit: (items: CborValue[]) => CborValue) => {
  const m = decodeEncrypt0(bytes);
  return encodeCanonical(edit([m.protectedBytes, m.unprotected, m.ciphertext]));
};

// Known-answer vectors: test/vectors/vitalseal/*.json, checked by test/protocol/vectors.test.ts.

describe('sealReading / decodeEnvelope / openReading', () => {
  it('builds COSE_Encrypt0 tag 16 with the protected and unprotected headers of the design', () => {
    expect(sealed[0]).toBe(0xd0);
    const m = decodeEncrypt0(sealed);
    // {1: 42, "st": "spo2", "ts": TS, "dev": "spo2-0001", "seq": 7}, keys in deterministic order
    expect(toHex(m.protectedBytes)).toBe(
      'a5' + '01182a' + '6273746473706f32' + '6274731b0000018bcfe56800' + '636465766973706f322d30303031' + '63736571' + '07',
    );
    expect([...m.unprotected.keys()]).toEqual([4, -4]);
    const d = decodeEnvelope(sealed);
    expect(d.header).toEqual({ alg: 42, ...header });
    expect(d.kid).toEqual(recipient.kid);
    expect(d.enc).toHaveLength(32);
    expect(toHex(d.recordId)).toBe(createHash('sha256').update(sealed).digest('hex'));
  });

  it.each(HPKE_BACKENDS)('round-trips with the %s backend (sealed by either)', (backend) => {
    const hpke = createHpke(backend);
    const mine = sealReading({ reading, header, recipient, hpke, rng: seededRng('envelope-test') });
    expect(toHex(mine)).toBe(toHex(sealed)); // same randomness, same bytes on both backends
    expect(openReading(sealed, { secretKey, hpke })).toEqual({
      header: { alg: 42, ...header },
      reading,
      recordId: decodeEnvelope(sealed).recordId,
    });
  });

  it('seals to a TempKeyPairGen pair and opens with its secret key', () => {
    const pair = tempKeyPairGen('patient:0042', seededRng('temp-pair'), node);
    const bytes = sealReading({ reading, header, recipient: pair, hpke: node, rng: seededRng('t') });
    expect(decodeEnvelope(bytes).kid).toEqual(pair.kid);
    expect(openReading(bytes, { secretKey: pair.secretKey, hpke: noble }).reading).toEqual(reading);
  });

  it('uses a fresh ephemeral key for every reading', () => {
    const rng = seededRng('fresh');
    const a = decodeEnvelope(sealReading({ reading, header, recipient, hpke: node, rng }));
    const b = decodeEnvelope(sealReading({ reading, header, recipient, hpke: node, rng }));
    expect(toHex(a.enc)).not.toBe(toHex(b.enc));
  });

  it('accepts the envelope untagged', () => {
    const untagged = reencode(sealed, (items) => items);
    expect(untagged[0]).toBe(0x83);
    expect(openReading(untagged, { secretKey, hpke: node }).reading).toEqual(reading);
  });

  it('fits an ECG block of 250 samples, and 400 values with the longest fields, in 4096 bytes', () => {
    const ecg: Reading = { st: 'ecg', ts: TS, v: Array.from({ length: 250 }, (_, i) => Math.sin(i / 10) * 1.234567), u: 'mV' };
    const ecgEnvelope = sealReading({ reading: ecg, header: { ...header, st: 'ecg' }, recipient, hpke: node, rng: seededRng('ecg') });
    expect(ecgEnvelope.length).toBeLessThan(ENVELOPE_MAX_BYTES);
    expect(openReading(ecgEnvelope, { secretKey, hpke: node }).reading).toEqual(ecg);
    const st = 's'.repeat(32);
    const worst: Reading = {
      st,
      ts: Number.MAX_SAFE_INTEGER,
      v: Array.from({ length: READING_MAX_VALUES }, (_, i) => i + 0.1),
      u: '°'.repeat(16),
    };
    const worstHeader = { dev: 'd'.repeat(64), seq: Number.MAX_SAFE_INTEGER, ts: worst.ts, st };
    const worstEnvelope = sealReading({ reading: worst, header: worstHeader, recipient, hpke: node, rng: seededRng('worst') });
    expect(worstEnvelope.length).toBeLessThanOrEqual(ENVELOPE_MAX_BYTES);
    expect(openReading(worstEnvelope, { secretKey, hpke: node }).reading).toEqual(worst);
  });
});

describe('every envelope error code', () => {
  const open = (bytes: Uint8Array) => codeOf(() => openReading(bytes, { secretKey, hpke: node }));
  const decode = (bytes: Uint8Array) => codeOf(() => decodeEnvelope(bytes));

  it('ENVELOPE_TOO_LARGE', () => {
    expect(decode(new Uint8Array(ENVELOPE_MAX_BYTES + 1))).toBe('ENVELOPE_TOO_LARGE');
    expect(codeOf(() => decodeEnvelope(sealed, { maxBytes: sealed.length - 1 }))).toBe('ENVELOPE_TOO_LARGE');
  });

  it('ENVELOPE_NOT_CBOR', () => {
    expect(decode(sealed.subarray(0, sealed.length - 1))).toBe('ENVELOPE_NOT_CBOR');
    expect(decode(new Uint8Array([...sealed, 0]))).toBe('ENVELOPE_NOT_CBOR');
    expect(decode(utf8('{"not":"cbor"}'))).toBe('ENVELOPE_NOT_CBOR');
    expect(decode(new Uint8Array(0))).toBe('ENVELOPE_NOT_CBOR');
  });

  it('ENVELOPE_BAD_TAG', () => {
    expect(decode(reencode(sealed, (items) => new Tag(items, 18)))).toBe('ENVELOPE_BAD_TAG');
    expect(decode(reencode(sealed, (items) => new Tag(items, 96)))).toBe('ENVELOPE_BAD_TAG');
    expect(decode(fromHex('c11a5f000000'))).toBe('ENVELOPE_BAD_TAG');
  });

  it('ENVELOPE_BAD_STRUCTURE', () => {
    expect(decode(reencode(sealed, (items) => new Tag(items.slice(0, 2), 16)))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(reencode(sealed, (items) => new Tag([...items, new Uint8Array(0)], 16)))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(reencode(sealed, (items) => new Tag(new Tag(items, 16), 16)))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(reencode(sealed, ([p, u]) => new Tag([p!, u!, new Uint8Array(15)], 16)))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(reencode(sealed, ([p, u]) => new Tag([p!, u!, null], 16)))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(encodeCanonical(new Map([[1, 2]])))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(decode(fromHex('9fff'))).toBe('ENVELOPE_BAD_STRUCTURE'); // indefinite length
    // no timing assertion: a declared 16 EiB byte string that were allocated would be a RangeError, not ENVELOPE_NOT_CBOR
    const bomb = new Uint8Array(100_000).fill(0x81);
    expect(decode(bomb)).toBe('ENVELOPE_TOO_LARGE');
    expect(codeOf(() => decodeEnvelope(bomb, { maxBytes: Infinity }))).toBe('ENVELOPE_BAD_STRUCTURE'); // CBOR_TOO_DEEP
    expect(codeOf(() => decodeEnvelope(fromHex('d0835bffffffffffffffff'), { maxBytes: Infinity }))).toBe('ENVELOPE_NOT_CBOR'); // huge declared length
  });

  it('ENVELOPE_UNKNOWN_ALG', () => {
    expect(decode(sealRaw(protectedMap().set(1, 24), encodeReading(reading)))).toBe('ENVELOPE_UNKNOWN_ALG');
    expect(decode(sealRaw(protectedMap().set(1, 'HPKE-4'), encodeReading(reading)))).toBe('ENVELOPE_UNKNOWN_ALG');
    expect(decode(sealRaw(protectedMap().set(1, 35), encodeReading(reading)))).toBe('ENVELOPE_UNKNOWN_ALG');
  });

  it('ENVELOPE_BAD_HEADER', () => {
    const pt = encodeReading(reading);
    const without = (label: string | number) => {
      const m = protectedMap();
      m.delete(label);
      return m;
    };
    expect(decode(sealRaw(without(1), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(without('dev'), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap().set('seq', -1), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap().set('ts', 1.5), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap().set('dev', 'a/b/#'), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap().set('hs', 'one'), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap().set('extra', 1), pt))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(sealRaw(protectedMap(), pt, new Map([[4, recipient.kid]])))).toBe('ENVELOPE_BAD_HEADER');
    expect(
      decode(
        sealRaw(
          protectedMap(),
          pt,
          new Map<number, CborValue>([
            [4, recipient.kid.subarray(1)],
            [-4, new Uint8Array(32)],
          ]),
        ),
      ),
    ).toBe('ENVELOPE_BAD_HEADER');
    expect(
      decode(
        sealRaw(
          protectedMap(),
          pt,
          new Map<number, CborValue>([
            [4, recipient.kid],
            [-4, new Uint8Array(31)],
          ]),
        ),
      ),
    ).toBe('ENVELOPE_BAD_HEADER');
    expect(
      decode(
        sealRaw(
          protectedMap(),
          pt,
          new Map<number, CborValue>([
            [4, recipient.kid],
            [-4, new Uint8Array(32)],
            [5, new Uint8Array(12)],
          ]),
        ),
      ),
    ).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(reencode(sealed, ([, u, c]) => new Tag([fromHex('8101'), u!, c!], 16)))).toBe('ENVELOPE_BAD_HEADER');
    expect(decode(reencode(sealed, ([, u, c]) => new Tag([new Uint8Array(0), u!, c!], 16)))).toBe('ENVELOPE_BAD_HEADER');
    expect(
      decode(
        reencode(
          sealed,
          ([p, , c]) =>
            new Tag(
              [
                p!,
                new Map<number, CborValue>([
                  [4, recipient.kid],
                  [-4, new Uint8Array(32)],
                  [1, 42],
                ]),
                c!,
              ],
              16,
            ),
        ),
      ),
    ).toBe('ENVELOPE_BAD_HEADER');
    expect(codeOf(() => sealReading({ reading, header: { ...header, seq: -1 }, recipient, hpke: node, rng: seededRng('x') }))).toBe(
      'ENVELOPE_BAD_HEADER',
    );
  });

  it('ENVELOPE_DECRYPT_FAILED', () => {
    const otherKey = node.deriveKeyPair(utf8('someone else entirely, 32+ bytes of ikm')).secretKey;
    expect(codeOf(() => openReading(sealed, { secretKey: otherKey, hpke: node }))).toBe('ENVELOPE_DECRYPT_FAILED');
    const flipped = new Uint8Array(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(open(flipped)).toBe('ENVELOPE_DECRYPT_FAILED');
    // the protected header is authenticated: another seq does not decrypt
    const otherSeq = reencode(sealed, ([, u, c]) => new Tag([encodeCanonical(protectedMap().set('seq', 8)), u!, c!], 16));
    expect(open(otherSeq)).toBe('ENVELOPE_DECRYPT_FAILED');
    // a low-order ek (all zero) fails inside HPKE, reported the same way
    const zeroEk = reencode(
      sealed,
      ([p, , c]) =>
        new Tag(
          [
            p!,
            new Map<number, CborValue>([
              [4, recipient.kid],
              [-4, new Uint8Array(32)],
            ]),
            c!,
          ],
          16,
        ),
    );
    expect(open(zeroEk)).toBe('ENVELOPE_DECRYPT_FAILED');
  });

  it('READING_INVALID', () => {
    expect(open(sealRaw(protectedMap(), utf8('plain text')))).toBe('READING_INVALID');
    expect(open(sealRaw(protectedMap(), encodeReading({ ...reading, ts: TS + 1 })))).toBe('READING_INVALID');
    expect(open(sealRaw(protectedMap(), encodeReading({ ...reading, st: 'ecg' })))).toBe('READING_INVALID');
    const nan = encodeCanonical(
      new Map<string, CborValue>([
        ['st', 'spo2'],
        ['ts', TS],
        ['v', [Number.NaN]],
        ['u', '%'],
      ]),
    );
    expect(open(sealRaw(protectedMap(), nan))).toBe('READING_INVALID');
    const extra = encodeCanonical(
      new Map<string, CborValue>([
        ['st', 'spo2'],
        ['ts', TS],
        ['v', [1]],
        ['u', '%'],
        ['x', 1],
      ]),
    );
    expect(open(sealRaw(protectedMap(), extra))).toBe('READING_INVALID');
    const bigint = encodeCanonical(
      new Map<string, CborValue>([
        ['st', 'spo2'],
        ['ts', TS],
        ['v', [2n ** 60n]],
        ['u', '%'],
      ]),
    );
    expect(open(sealRaw(protectedMap(), bigint))).toBe('READING_INVALID');
    const seal = (r: Reading, h: ReadingHeader = header) =>
      codeOf(() => sealReading({ reading: r, header: h, recipient, hpke: node, rng: seededRng('x') }));
    expect(seal({ ...reading, v: [] })).toBe('READING_INVALID');
    expect(seal({ ...reading, v: [Infinity] })).toBe('READING_INVALID');
    expect(seal({ ...reading, v: new Array(READING_MAX_VALUES + 1).fill(1) })).toBe('READING_INVALID');
    expect(seal({ ...reading, u: '' })).toBe('READING_INVALID');
    expect(seal({ ...reading, ts: TS + 1 })).toBe('READING_INVALID');
  });
});

describe('session mode', () => {
  const readings = [0, 1, 2, 3, 4].map((i) => ({
    header: { dev: 'temp-0003', seq: 100 + i, ts: TS + i * 1000, st: 'temp' },
    reading: { st: 'temp', ts: TS + i * 1000, v: [36 + i / 8], u: '°C' },
  }));
  const sealer = createSessionSealer({ recipient, hpke: noble, rng: seededRng('session') });
  const envelopes = readings.map((r) => sealer.seal(r));

  it('shares one ek, numbers messages with hs, and opens in any order on both backends', () => {
    expect(sealer.nextHs).toBe(5);
    const decoded = envelopes.map((e) => decodeEnvelope(e));
    expect(new Set(decoded.map((d) => toHex(d.enc))).size).toBe(1);
    expect(decoded.map((d) => d.header.hs)).toEqual([0, 1, 2, 3, 4]);
    for (const hpke of [noble, node]) {
      for (const i of [4, 1, 3, 0, 2]) expect(openReading(envelopes[i]!, { secretKey, hpke }).reading).toEqual(readings[i]!.reading);
    }
  });

  it('authenticates hs: an envelope relabelled with another hs does not decrypt', () => {
    const m = decodeEncrypt0(envelopes[1]!);
    const relabelled = encodeEncrypt0({ ...m, protectedBytes: encodeCanonical(new Map([...m.protected]).set('hs', 2)) });
    expect(codeOf(() => openReading(relabelled, { secretKey, hpke: node }))).toBe('ENVELOPE_DECRYPT_FAILED');
  });

  it("trade-off, demonstrated: one reading's disclosure opens the whole session", () => {
    const d = discloseReadingKey(envelopes[2]!, { secretKey, hpke: node });
    expect(d.scope).toBe('session');
    expect(openDisclosedReading(envelopes[2]!, d, node).reading).toEqual(readings[2]!.reading);
    // base_nonce = nonce XOR hs, so the nonce of message 0 follows
    const nonce0 = d.baseNonce.map((b, i) => (i === 11 ? b ^ 2 : b));
    expect(openDisclosedReading(envelopes[0]!, { key: d.key, nonce: nonce0 }, node).reading).toEqual(readings[0]!.reading);
  });
});

describe('research disclosure (single-shot)', () => {
  it('discloses key + base_nonce of one reading; a researcher opens that reading only', () => {
    for (const hpke of [noble, node]) {
      const d = discloseReadingKey(sealed, { secretKey, hpke });
      expect(d.scope).toBe('reading');
      expect(d.recordId).toEqual(decodeEnvelope(sealed).recordId);
      expect(openDisclosedReading(sealed, d, hpke)).toEqual(openReading(sealed, { secretKey, hpke }));
      const other = sealReading({ reading, header: { ...header, seq: 8 }, recipient, hpke, rng: seededRng('other') });
      expect(codeOf(() => openDisclosedReading(other, { key: d.key, nonce: d.baseNonce }, hpke))).toBe('ENVELOPE_DECRYPT_FAILED');
      expect(codeOf(() => openDisclosedReading(other, d, hpke))).toBe('ENVELOPE_DECRYPT_FAILED'); // recordId mismatch
    }
    const wrongKey = node.deriveKeyPair(utf8('someone else entirely, 32+ bytes of ikm')).secretKey;
    expect(codeOf(() => discloseReadingKey(sealed, { secretKey: wrongKey, hpke: node }))).toBe('ENVELOPE_DECRYPT_FAILED');
  });
});

describe('fuzz', () => {
  const session = createSessionSealer({ recipient, hpke: node, rng: seededRng('fuzz-session') });
  const seeds = [
    sealed,
    reencode(sealed, (items) => items),
    sealReading({
      reading: { st: 'ecg', ts: TS, v: [0.5, -0.25, 1e-3], u: 'mV' },
      header: { ...header, st: 'ecg' },
      recipient,
      hpke: node,
      rng: seededRng('f'),
    }),
    session.seal({ reading, header }),
    session.seal({ reading, header: { ...header, seq: 8 } }),
  ];
  const envelopeCodes = /^(ENVELOPE_|READING_INVALID$)/;
  const onlyEnvelopeErrors = (fn: () => unknown) =>
    onlyKnownErrors(() => {
      try {
        fn();
      } catch (e) {
        expect((e as { code: string }).code).toMatch(envelopeCodes);
        throw e;
      }
    });

  it('decodeEnvelope: random and mutated input give only ENVELOPE_* errors', () => {
    const run = (b: Uint8Array) => onlyEnvelopeErrors(() => decodeEnvelope(b));
    fc.assert(fc.property(randomBytes(), run), { numRuns: FUZZ_RUNS });
    fc.assert(fc.property(mutatedBytes(seeds), run), { numRuns: FUZZ_RUNS });
  });

  it('openReading: random and mutated input give only ENVELOPE_* / READING_INVALID errors', () => {
    const run = (b: Uint8Array) => onlyEnvelopeErrors(() => openReading(b, { secretKey, hpke: node }));
    fc.assert(fc.property(randomBytes(), run), { numRuns: FUZZ_RUNS });
    fc.assert(fc.property(mutatedBytes(seeds), run), { numRuns: FUZZ_RUNS });
  });
});

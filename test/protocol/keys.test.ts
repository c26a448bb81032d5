import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash, createHmac, createPrivateKey, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import {
  EmergencyKey,
  KEY_FILE_MAX_LENGTH,
  TempKeyPair,
  decodeKeyFile,
  emergencyKeyGen,
  encodeKeyFile,
  keyIdOf,
  tempKeyPairGen,
  type VitalsealKey,
} from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { VitalsealError, type ErrorCode } from '../../protocol/errors.ts';
import { toHex } from '../../protocol/bytes.ts';
import { fixedRng, seededRng } from '../../protocol/rng.ts';
import { runs as fuzzRuns } from '../support/fuzz.ts';

const hex = (b: Uint8Array): string => toHex(b);
const PATIENT = 'patient-0001';
const RANDOMNESS = Uint8Array.from({ length: 32 }, (_, i) => i);
const node = createHpke('node');
const noble = createHpke('noble');

function expectCode(fn: () => unknown, code: ErrorCode): VitalsealError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VitalsealError);
    expect((e as VitalsealError).code).toBe(code);
    return e as VitalsealError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('known answers (patient "patient-0001", randomness 00 01 … 1f)', () => {
  const ikm = Buffer.concat([Buffer.from(PATIENT, 'utf8'), RANDOMNESS]);

  it('EmergencyKeyGen: K and kid, cross-checked with node:crypto hkdfSync', () => {
    const k = emergencyKeyGen(PATIENT, fixedRng(RANDOMNESS));
    const expectedK = '7b3145a80b611267f750ef48cd35d604623a1d106e72d57a34f5f6c109e4f373';
    expect(hex(k.key)).toBe(expectedK);
    expect(hex(k.kid)).toBe('a95508f8184bcd3caca8f1aca7abac3e');
    const independent = Buffer.from(hkdfSync('sha256', ikm, Buffer.from('vitalseal/v1/emergency'), Buffer.alloc(0), 32));
    expect(independent.toString('hex')).toBe(expectedK);
    expect(createHash('sha256').update(independent).digest('hex').slice(0, 32)).toBe(hex(k.kid));
    expect(k.patientId).toBe(PATIENT);
  });

  it('TempKeyPairGen: sk, pk and kid, cross-checked with a direct node:crypto DeriveKeyPair and the node backend', () => {
    const kp = tempKeyPairGen(PATIENT, fixedRng(RANDOMNESS));
    const expected = {
      sk: '3606488c6bc0812d312fa3b2fd55be5d523b44e343afeb8e344747543c3bd705',
      pk: '28d63331519fe994ad25c6f65297f900102f163e0dc55fa0493587c7ec3fa458',
      kid: '6a3720aed401667163e81d2298bb4c80',
    };
    expect([hex(kp.secretKey), hex(kp.publicKey), hex(kp.kid)]).toEqual([expected.sk, expected.pk, expected.kid]);

    // RFC 9180 §7.1.3 written out with createHmac, and the public key from OpenSSL.
    const kemSuite = Buffer.from('KEM\x00\x20', 'latin1');
    const dkpPrk = createHmac('sha256', Buffer.alloc(0))
      .update(Buffer.concat([Buffer.from('HPKE-v1'), kemSuite, Buffer.from('dkp_prk'), ikm]))
      .digest();
    const sk = createHmac('sha256', dkpPrk)
      .update(Buffer.concat([Buffer.from([0, 32]), Buffer.from('HPKE-v1'), kemSuite, Buffer.from('sk'), Buffer.from([1])]))
      .digest();
    expect(sk.toString('hex')).toBe(expected.sk);
    const jwk = createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), sk]),
      format: 'der',
      type: 'pkcs8',
    }).export({ format: 'jwk' });
    expect(Buffer.from(jwk.x!, 'base64url').toString('hex')).toBe(expected.pk);
    expect(createHash('sha256').update(Buffer.from(expected.pk, 'hex')).digest('hex').slice(0, 32)).toBe(expected.kid);

    const viaNode = tempKeyPairGen(PATIENT, fixedRng(RANDOMNESS), node);
    expect([hex(viaNode.secretKey), hex(viaNode.publicKey), hex(viaNode.kid)]).toEqual([expected.sk, expected.pk, expected.kid]);
  });

  it('both backends give the same temp key pairs for the same seeded randomness', () => {
    for (let i = 0; i < 5; i++) {
      const a = tempKeyPairGen(`p-${i}`, seededRng(`k${i}`), noble);
      const b = tempKeyPairGen(`p-${i}`, seededRng(`k${i}`), node);
      expect([hex(a.secretKey), hex(a.publicKey), hex(a.kid)]).toEqual([hex(b.secretKey), hex(b.publicKey), hex(b.kid)]);
    }
  });

  it('a temp key pair opens what is sealed to its public key', () => {
    const kp = tempKeyPairGen(PATIENT, seededRng('open'));
    const sealed = node.seal(kp.publicKey, new Uint8Array(0), new Uint8Array(0), Uint8Array.of(1, 2, 3), { rng: seededRng('e') });
    expect([...noble.open(sealed.enc, kp.secretKey, new Uint8Array(0), new Uint8Array(0), sealed.ciphertext)]).toEqual([1, 2, 3]);
  });
});

describe('patient id and randomness checks', () => {
  const rng = () => seededRng('pid');
  it.each([
    ['empty', ''],
    ['257 ASCII bytes', 'a'.repeat(257)],
    ['258 UTF-8 bytes in 86 characters', '€'.repeat(86)],
    ['a lone high surrogate', 'patient-\uD800'],
    ['a lone low surrogate', '\uDC00x'],
  ])('%s → KEY_BAD_PATIENT_ID', (_name, id) => {
    expectCode(() => tempKeyPairGen(id, rng()), 'KEY_BAD_PATIENT_ID');
    expectCode(() => emergencyKeyGen(id, rng()), 'KEY_BAD_PATIENT_ID');
  });

  it('non-strings → KEY_BAD_PATIENT_ID; 256 bytes and astral characters are fine', () => {
    expectCode(() => tempKeyPairGen(42 as unknown as string, rng()), 'KEY_BAD_PATIENT_ID');
    expect(tempKeyPairGen('a'.repeat(256), rng()).patientId).toHaveLength(256);
    expect(emergencyKeyGen(`${'€'.repeat(85)}a`, rng()).patientId).toHaveLength(86);
    expect(emergencyKeyGen('🩺-patient', rng()).kid).toHaveLength(16);
  });

  it('an rng that does not return 32 bytes → INPUT_BAD_LENGTH', () => {
    expectCode(() => tempKeyPairGen(PATIENT, () => new Uint8Array(31)), 'INPUT_BAD_LENGTH');
    expectCode(() => emergencyKeyGen(PATIENT, () => new Uint8Array(33)), 'INPUT_BAD_LENGTH');
  });
});

describe('key objects never show a secret', () => {
  const temp = tempKeyPairGen(PATIENT, seededRng('show-t'));
  const emergency = emergencyKeyGen(PATIENT, seededRng('show-e'));
  const cases: [string, VitalsealKey, Uint8Array][] = [
    ['temp', temp, temp.secretKey],
    ['emergency', emergency, emergency.key],
  ];

  it.each(cases)('%s: JSON.stringify, String, template, util.inspect, spread print the kid only', (_type, key, secret) => {
    const secretHex = hex(secret);
    const secretB64 = Buffer.from(secret).toString('base64');
    const shown = [
      JSON.stringify(key),
      JSON.stringify({ nested: [key] }),
      String(key),
      `${key}`,
      inspect(key),
      inspect(key, { showHidden: true, depth: 10, getters: true }),
      inspect({ nested: key }, { showHidden: true, depth: 10 }),
      JSON.stringify({ ...key }),
      Object.keys(key).join(','),
    ];
    for (const s of shown) {
      expect(s).not.toContain(secretHex);
      expect(s).not.toContain(secretB64);
      expect(s).not.toMatch(/\b\d{1,3}(, \d{1,3}){31}\b/);
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({ type: key.type, kid: hex(key.kid) });
    expect(String(key)).toContain(hex(key.kid));
    expect(inspect(key)).toContain(hex(key.kid));
  });
});

describe('key files', () => {
  const temp = tempKeyPairGen(PATIENT, seededRng('file-t'));
  const emergency = emergencyKeyGen('Ärztin-Zoë 🩺', seededRng('file-e'));
  const tempText = encodeKeyFile(temp);
  const emergencyText = encodeKeyFile(emergency);
  const edit = (text: string, change: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(text) as Record<string, unknown>;
    change(o);
    return JSON.stringify(o);
  };

  it('round trip: temp and emergency', () => {
    const t = decodeKeyFile(tempText);
    expect(t).toBeInstanceOf(TempKeyPair);
    if (t.type !== 'temp') throw new Error('type');
    expect([t.patientId, hex(t.kid), hex(t.publicKey), hex(t.secretKey)]).toEqual([
      PATIENT,
      hex(temp.kid),
      hex(temp.publicKey),
      hex(temp.secretKey),
    ]);
    expect(encodeKeyFile(t)).toBe(tempText);

    const e = decodeKeyFile(emergencyText, node);
    expect(e).toBeInstanceOf(EmergencyKey);
    if (e.type !== 'emergency') throw new Error('type');
    expect([e.patientId, hex(e.kid), hex(e.key)]).toEqual([emergency.patientId, hex(emergency.kid), hex(emergency.key)]);
    expect(encodeKeyFile(e)).toBe(emergencyText);

    expect(JSON.parse(tempText)).toEqual({
      vitalseal: 'keyfile',
      version: 1,
      type: 'temp',
      patientId: PATIENT,
      kid: hex(temp.kid),
      publicKey: hex(temp.publicKey),
      secretKey: hex(temp.secretKey),
    });
    expect(Object.keys(JSON.parse(emergencyText))).toEqual(['vitalseal', 'version', 'type', 'patientId', 'kid', 'key']);
  });

  const malformed: [string, string][] = [
    ['not JSON', '{"vitalseal":'],
    ['empty text', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"keyfile"'],
    ['another marker', edit(tempText, (o) => (o['vitalseal'] = 'other'))],
    ['no version', edit(tempText, (o) => delete o['version'])],
    ['version as a string', edit(tempText, (o) => (o['version'] = '1'))],
    ['unknown type', edit(tempText, (o) => (o['type'] = 'master'))],
    ['missing member', edit(tempText, (o) => delete o['publicKey'])],
    ['unknown member', edit(tempText, (o) => (o['note'] = 'x'))],
    ['emergency with temp members', edit(emergencyText, (o) => (o['secretKey'] = o['key']))],
    ['uppercase hex', edit(tempText, (o) => (o['secretKey'] = (o['secretKey'] as string).toUpperCase()))],
    ['short hex', edit(emergencyText, (o) => (o['key'] = (o['key'] as string).slice(2)))],
    ['hex as a number', edit(tempText, (o) => (o['kid'] = 1234))],
    ['empty patient id', edit(tempText, (o) => (o['patientId'] = ''))],
    ['patient id too long', edit(tempText, (o) => (o['patientId'] = 'x'.repeat(257)))],
    ['patient id not a string', edit(tempText, (o) => (o['patientId'] = ['p']))],
    [
      'public key of another secret key',
      edit(tempText, (o) => {
        const other = tempKeyPairGen(PATIENT, seededRng('other'));
        o['publicKey'] = hex(other.publicKey);
        o['kid'] = hex(other.kid);
      }),
    ],
    ['too large', tempText.replace('{', `{${' '.repeat(KEY_FILE_MAX_LENGTH)}`)],
  ];

  it.each(malformed)('%s → KEY_FILE_MALFORMED', (_name, text) => {
    const e = expectCode(() => decodeKeyFile(text), 'KEY_FILE_MALFORMED');
    expect(e.message).not.toContain(hex(temp.secretKey));
    expect(e.cause).toBeUndefined();
  });

  it.each([
    ['version 2', edit(tempText, (o) => (o['version'] = 2))],
    ['version 0', edit(emergencyText, (o) => (o['version'] = 0))],
    ['version 2 with another shape', '{"vitalseal":"keyfile","version":2,"whatever":true}'],
  ])('%s → KEY_FILE_BAD_VERSION', (_name, text) => {
    expectCode(() => decodeKeyFile(text), 'KEY_FILE_BAD_VERSION');
  });

  it.each([
    ['temp kid edited', edit(tempText, (o) => (o['kid'] = `00${(o['kid'] as string).slice(2)}`))],
    ['temp public key edited', edit(tempText, (o) => (o['publicKey'] = hex(tempKeyPairGen('x', seededRng('y')).publicKey)))],
    ['emergency kid edited', edit(emergencyText, (o) => (o['kid'] = hex(keyIdOf(new Uint8Array(32)))))],
    ['emergency key edited', edit(emergencyText, (o) => (o['key'] = `ff${(o['key'] as string).slice(2)}`))],
  ])('%s → KEY_FILE_KID_MISMATCH', (_name, text) => {
    expectCode(() => decodeKeyFile(text), 'KEY_FILE_KID_MISMATCH');
  });

  it('fuzz: ≥ 10,000 random and mutated inputs only ever throw VitalsealError KEY_FILE_*', () => {
    let runs = 0;
    const check = (text: string): void => {
      runs++;
      try {
        const key = decodeKeyFile(text, node);
        expect(['temp', 'emergency']).toContain(key.type);
      } catch (e) {
        if (!(e instanceof VitalsealError) || !e.code.startsWith('KEY_FILE_')) throw e;
      }
    };
    const valid = [tempText, emergencyText];
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'insert', 'delete', 'swapCase', 'duplicate'),
      char: fc.oneof(
        fc.constantFrom('"', '{', '}', ',', ':', '0', 'f', 'F', '\\', ' ', '1', 'x', '\u0000'),
        fc.string({ minLength: 1, maxLength: 3 }),
      ),
    });
    const mutate = (text: string, ms: readonly { at: number; kind: string; char: string }[]): string => {
      for (const m of ms) {
        const i = text.length === 0 ? 0 : m.at % text.length;
        if (m.kind === 'replace') text = text.slice(0, i) + m.char + text.slice(i + 1);
        else if (m.kind === 'insert') text = text.slice(0, i) + m.char + text.slice(i);
        else if (m.kind === 'delete') text = text.slice(0, i) + text.slice(i + 1);
        else if (m.kind === 'swapCase') text = text.slice(0, i) + (text[i] ?? '').toUpperCase() + text.slice(i + 1);
        else text = text.slice(0, i) + text.slice(i, i + 8).repeat(2) + text.slice(i + 8);
      }
      return text;
    };
    const members = ['vitalseal', 'version', 'type', 'patientId', 'kid', 'publicKey', 'secretKey', 'key', '__proto__', 'constructor'];
    const structured = fc.record({
      base: fc.constantFrom(...valid),
      member: fc.constantFrom(...members),
      value: fc.oneof(
        fc.jsonValue(),
        fc.constant(undefined),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 30, maxLength: 66 }),
      ),
    });

    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: fuzzRuns(1500) });
    fc.assert(fc.property(fc.json({ maxDepth: 3 }), check), { numRuns: fuzzRuns(1500) });
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }), (t, ms) => check(mutate(t, ms))),
      { numRuns: fuzzRuns(5000) },
    );
    fc.assert(
      fc.property(structured, ({ base, member, value }) =>
        check(
          edit(base, (o) => {
            if (value === undefined) delete o[member];
            else o[member] = value;
          }),
        ),
      ),
      { numRuns: fuzzRuns(2000) },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => check(Buffer.from(b).toString('latin1'))),
      { numRuns: fuzzRuns(500) },
    );
    expect(runs).toBeGreaterThanOrEqual(fuzzRuns(10_000));
  });
});

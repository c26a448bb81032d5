import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, utf8 } from '../../protocol/bytes.ts';
import { encodeCanonical, Tag, type CborMap, type CborValue } from '../../protocol/cbor/index.ts';
import { decodeSign1, signSign1, x25519CoseKeyMap } from '../../protocol/cose/index.ts';
import type { Clock } from '../../protocol/rng.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { decodeTicket, issueTicket, verifyTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import { codeOf, FUZZ_RUNS, mutatedBytes, onlyKnownErrors, randomBytes } from './fuzzInputs.ts';
import { runs } from '../support/fuzz.ts';

const authority = ed25519.keygen(new Uint8Array(32).fill(1));
const pk = fromHex('3948cfe0ad1ddb695d780e59077195da6c56506b207d71a7e5c7a9b1a1d7a6a4');
const NBF = 1_700_000_000;
const fields: TicketFields = {
  dev: 'spo2-0001',
  kid: keyIdOf(pk),
  pk,
  patient: 'patient:7f3a',
  nbf: NBF,
  exp: NBF + 3600,
  maxReadings: 720,
};
const ticket = issueTicket(fields, authority.secretKey);
const at = (seconds: number): Clock => ({ now: () => seconds * 1000 });
const verifyOpts = { authorityPublicKey: authority.publicKey, deviceId: 'spo2-0001', clock: at(NBF + 10) };

/** Re-signs an arbitrary payload map with the authority key (to reach the payload checks behind a valid signature). */
const signedPayload = (map: CborMap) => signSign1({ payload: encodeCanonical(map), secretKey: authority.secretKey });
const payloadMap = (): CborMap =>
  new Map<string, CborValue>([
    ['v', 1],
    ['dev', fields.dev],
    ['kid', fields.kid],
    ['pk', x25519CoseKeyMap(pk)],
    ['patient', fields.patient],
    ['nbf', fields.nbf],
    ['exp', fields.exp],
  ]);

describe('session tickets', () => {
  it('issue → decode → verify round-trips every field', () => {
    const expected = { v: 1, ...fields };
    expect(decodeTicket(ticket)).toEqual(expected);
    expect(verifyTicket(ticket, verifyOpts)).toEqual(expected);
    const { maxReadings: _omit, ...withoutMax } = fields;
    expect(verifyTicket(issueTicket(withoutMax, authority.secretKey), verifyOpts)).toEqual({ v: 1, ...withoutMax });
  });

  it('is a tagged COSE_Sign1 (EdDSA) whose payload is the deterministic CBOR map, pk as COSE_Key', () => {
    expect(ticket[0]).toBe(0xd2);
    const m = decodeSign1(ticket);
    expect(m.protected.get(1)).toBe(-8);
    expect(m.payload).toEqual(encodeCanonical(payloadMap().set('maxReadings', 720)));
  });

  it('refuses a bad signature, another device, expired and not-yet-valid tickets with distinct codes', () => {
    const other = ed25519.keygen(new Uint8Array(32).fill(2));
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, authorityPublicKey: other.publicKey }))).toBe('TICKET_BAD_SIGNATURE');
    expect(codeOf(() => verifyTicket(issueTicket(fields, other.secretKey), verifyOpts))).toBe('TICKET_BAD_SIGNATURE');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, deviceId: 'spo2-0002' }))).toBe('TICKET_WRONG_DEVICE');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF + 3600 + 60) }))).toBe('TICKET_EXPIRED');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF + 3600 + 59) }))).toBe('no error'); // within skew
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF + 3600), skewSeconds: 0 }))).toBe('TICKET_EXPIRED');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF - 61) }))).toBe('TICKET_NOT_YET_VALID');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF - 60) }))).toBe('no error');
    expect(codeOf(() => verifyTicket(ticket, { ...verifyOpts, clock: at(NBF - 1), skewSeconds: 0 }))).toBe('TICKET_NOT_YET_VALID');
  });

  it('checks the signature first, then the device, then the time', () => {
    const other = ed25519.keygen(new Uint8Array(32).fill(2));
    const wrongEverything = { authorityPublicKey: other.publicKey, deviceId: 'x', clock: at(0) };
    expect(codeOf(() => verifyTicket(ticket, wrongEverything))).toBe('TICKET_BAD_SIGNATURE');
    expect(codeOf(() => verifyTicket(ticket, { ...wrongEverything, authorityPublicKey: authority.publicKey }))).toBe('TICKET_WRONG_DEVICE');
    // a tampered payload is a bad signature, even if it also names another device
    const m = decodeSign1(ticket);
    const forged = encodeCanonical(
      new Tag([m.protectedBytes, m.unprotected, encodeCanonical(payloadMap().set('dev', 'evil-1')), m.signature], 18),
    );
    expect(codeOf(() => verifyTicket(forged, verifyOpts))).toBe('TICKET_BAD_SIGNATURE');
  });

  it('refuses malformed tickets (even validly signed ones) with TICKET_MALFORMED', () => {
    const cases: CborMap[] = [
      payloadMap().set('v', 2),
      payloadMap().set('dev', 'a/b'),
      payloadMap().set('kid', new Uint8Array(16)),
      payloadMap().set('pk', pk),
      payloadMap().set('pk', new Map(x25519CoseKeyMap(pk)).set(-1, 6)),
      payloadMap().set('patient', ''),
      payloadMap().set('nbf', -1),
      payloadMap().set('exp', NBF),
      payloadMap().set('exp', 1.5),
      payloadMap().set('maxReadings', 0),
      payloadMap().set('extra', 1),
      (() => {
        const m = payloadMap();
        m.delete('exp');
        return m;
      })(),
    ];
    for (const map of cases) {
      expect(codeOf(() => verifyTicket(signedPayload(map), verifyOpts))).toBe('TICKET_MALFORMED');
      expect(codeOf(() => decodeTicket(signedPayload(map)))).toBe('TICKET_MALFORMED');
    }
    expect(codeOf(() => verifyTicket(signSign1({ payload: utf8('not cbor?'), secretKey: authority.secretKey }), verifyOpts))).toBe(
      'TICKET_MALFORMED',
    );
    expect(codeOf(() => decodeTicket(new Uint8Array(0)))).toBe('TICKET_MALFORMED');
    expect(codeOf(() => decodeTicket(new Uint8Array(2000)))).toBe('TICKET_MALFORMED');
    expect(codeOf(() => decodeTicket(encodeCanonical(new Tag([], 16))))).toBe('TICKET_MALFORMED');
    const m = decodeSign1(ticket);
    const es256 = encodeCanonical(new Tag([encodeCanonical(new Map([[1, -7]])), m.unprotected, m.payload, m.signature], 18));
    expect(codeOf(() => verifyTicket(es256, verifyOpts))).toBe('TICKET_MALFORMED');
  });

  it('issueTicket refuses fields it would not accept', () => {
    expect(codeOf(() => issueTicket({ ...fields, kid: new Uint8Array(16) }, authority.secretKey))).toBe('TICKET_MALFORMED');
    expect(codeOf(() => issueTicket({ ...fields, exp: fields.nbf }, authority.secretKey))).toBe('TICKET_MALFORMED');
    expect(codeOf(() => issueTicket({ ...fields, dev: '' }, authority.secretKey))).toBe('TICKET_MALFORMED');
  });

  const seeds = [ticket, issueTicket({ ...fields, dev: 'ecg-9', patient: 'p' }, authority.secretKey)];

  it('fuzz: decodeTicket on random and mutated input throws only known VitalsealErrors', () => {
    const run = (b: Uint8Array) => onlyKnownErrors(() => decodeTicket(b));
    fc.assert(fc.property(randomBytes(), run), { numRuns: FUZZ_RUNS });
    fc.assert(fc.property(mutatedBytes(seeds), run), { numRuns: FUZZ_RUNS });
  });

  it('fuzz: verifyTicket on random and mutated input throws only known TICKET_* errors', () => {
    const run = (b: Uint8Array) =>
      onlyKnownErrors(() => {
        try {
          verifyTicket(b, verifyOpts);
        } catch (e) {
          expect((e as { code: string }).code).toMatch(/^TICKET_/);
          throw e;
        }
      });
    fc.assert(fc.property(randomBytes(), run), { numRuns: FUZZ_RUNS });
    // Most mutants still decode and each costs an Ed25519 verification (~1.6 ms): 4,000 here keeps
    // the file under ~20 s; the same mutants' parsing is fuzzed 10,000 times by decodeTicket above.
    fc.assert(fc.property(mutatedBytes(seeds), run), { numRuns: runs(4000) });
  });
});

/**
 * Session tickets that certify a device identity key (docs/PROTOCOL.md §7.1, issue #20): `idk` is a
 * COSE_Key X25519 and makes the ticket version 2; a ticket without `idk` stays version 1 byte for byte.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, Tag, type CborMap, type CborValue } from '../../protocol/cbor/index.ts';
import { decodeSign1, signSign1, x25519CoseKeyMap } from '../../protocol/cose/index.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import type { Clock } from '../../protocol/rng.ts';
import { decodeTicket, issueTicket, verifyTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import { codeOf } from './fuzzInputs.ts';

const authority = ed25519.keygen(new Uint8Array(32).fill(1));
const pk = fromHex('3948cfe0ad1ddb695d780e59077195da6c56506b207d71a7e5c7a9b1a1d7a6a4');
const idk = fromHex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const NBF = 1_700_000_000;
const base: TicketFields = { dev: 'spo2-0001', kid: keyIdOf(pk), pk, patient: 'patient:7f3a', nbf: NBF, exp: NBF + 3600 };
const at = (seconds: number): Clock => ({ now: () => seconds * 1000 });
const verifyOpts = { authorityPublicKey: authority.publicKey, deviceId: 'spo2-0001', clock: at(NBF + 10) };
const payloadOf = (ticket: Uint8Array): CborMap => decodeStrict(decodeSign1(ticket).payload) as CborMap;
const signed = (map: CborMap) => signSign1({ payload: encodeCanonical(map), secretKey: authority.secretKey });

describe('ticket idk (device identity key)', () => {
  it('a ticket with idk is version 2 and verifies with its idk; without idk it is version 1 and has no idk key', () => {
    const v2 = issueTicket({ ...base, idk }, authority.secretKey);
    const t = verifyTicket(v2, verifyOpts);
    expect(t.v).toBe(2);
    expect(t.idk).toEqual(idk);
    expect(payloadOf(v2).get('v')).toBe(2);
    expect(payloadOf(v2).get('idk')).toEqual(x25519CoseKeyMap(idk));
    const v1 = issueTicket(base, authority.secretKey);
    expect(verifyTicket(v1, verifyOpts).v).toBe(1);
    expect(decodeTicket(v1).idk).toBeUndefined();
    expect(payloadOf(v1).has('idk')).toBe(false);
  });

  it('the signature covers idk: replacing it breaks the signature', () => {
    const v2 = issueTicket({ ...base, idk }, authority.secretKey);
    const m = decodeSign1(v2);
    const map = payloadOf(v2);
    map.set('idk', x25519CoseKeyMap(new Uint8Array(32).fill(5)));
    // the gateway swaps in its own identity key and keeps the authority's signature
    const swapped = encodeCanonical(new Tag([m.protectedBytes, m.unprotected, encodeCanonical(map), m.signature], 18));
    expect(codeOf(() => verifyTicket(swapped, verifyOpts))).toBe('TICKET_BAD_SIGNATURE');
    // and a ticket signed by any key but the pinned authority's is refused
    const otherAuthority = signSign1({ payload: encodeCanonical(map), secretKey: ed25519.keygen(new Uint8Array(32).fill(2)).secretKey });
    expect(codeOf(() => verifyTicket(otherAuthority, verifyOpts))).toBe('TICKET_BAD_SIGNATURE');
  });

  const withV = (v: number, idkValue?: CborValue): CborMap => {
    const m = new Map<string, CborValue>([
      ['v', v],
      ['dev', base.dev],
      ['kid', base.kid],
      ['pk', x25519CoseKeyMap(pk)],
      ['patient', base.patient],
      ['nbf', base.nbf],
      ['exp', base.exp],
    ]);
    if (idkValue !== undefined) m.set('idk', idkValue);
    return m;
  };

  it.each([
    ['v 2 without idk', withV(2)],
    ['v 1 with idk', withV(1, x25519CoseKeyMap(idk))],
    ['v 3', withV(3, x25519CoseKeyMap(idk))],
    ['idk a bare byte string', withV(2, idk)],
    ['idk of 31 bytes', withV(2, x25519CoseKeyMap(idk).set(-2, idk.slice(1)))],
  ])('%s → TICKET_MALFORMED', (_name, map) => {
    expect(codeOf(() => verifyTicket(signed(map), verifyOpts))).toBe('TICKET_MALFORMED');
  });

  it('issuing refuses an idk that is not 32 bytes', () => {
    expect(codeOf(() => issueTicket({ ...base, idk: idk.slice(1) }, authority.secretKey))).toBe('TICKET_MALFORMED');
  });
});

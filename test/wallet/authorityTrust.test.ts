/**
 * Which ward authority keys a wallet trusts for a served ticket (docs/PROTOCOL.md §7.7): the current
 * key, or a retired key only for a ticket that took effect before its retirement (nbf · 1000 < until);
 * anything else is ENVELOPE_ORIGIN_UNVERIFIED. trustedAuthorities reads the list from GET /v1/ward.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { createHpke } from '../../protocol/node.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { trustedAuthorities, type WardInfo } from '../../wallet/agentClient.ts';
import { expectedSenderKey } from '../../wallet/origin.ts';
import { seededRng } from '../../protocol/rng.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';

const hpke = createHpke('node');
const k1 = ed25519.keygen(new Uint8Array(32).fill(31));
const k2 = ed25519.keygen(new Uint8Array(32).fill(32));
const ROTATED_MS = 1_800_000_000_000;
const idk = hpke.generateKeyPair(seededRng('trust/idk')).publicKey;
const pk = hpke.generateKeyPair(seededRng('trust/pk')).publicKey;
const kid = keyIdOf(pk);

function served(by: Uint8Array, nbf: number): ServedRecord {
  const ticket = issueTicket({ dev: 'oxi-9', kid, pk, patient: 'p', nbf, exp: nbf + 3600, idk }, by);
  return { device: 'oxi-9', kid: toHex(kid), ticket: Buffer.from(ticket).toString('base64') } as unknown as ServedRecord;
}
const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return isVitalsealError(e) ? e.code : 'untyped';
  }
};

describe('ward authority keys a wallet trusts', () => {
  const ward: WardInfo = {
    authorityPublicKey: toHex(k2.publicKey),
    authorityKeys: [
      { publicKey: toHex(k2.publicKey), from: ROTATED_MS, current: true },
      { publicKey: toHex(k1.publicKey), from: 0, until: ROTATED_MS, current: false },
    ],
    emergencyPublicKey: '',
    logId: '',
    chain: null,
  };
  const trusted = trustedAuthorities(ward);

  it('the current key; a retired key for tickets that took effect before its retirement', () => {
    expect(expectedSenderKey(served(k2.secretKey, ROTATED_MS / 1000 + 10), trusted)).toEqual(idk);
    expect(expectedSenderKey(served(k1.secretKey, ROTATED_MS / 1000 - 60), trusted)).toEqual(idk);
  });

  it('refuses a retired key’s ticket that starts after the retirement, and a key never published', () => {
    expect(code(() => expectedSenderKey(served(k1.secretKey, ROTATED_MS / 1000), trusted))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    const other = ed25519.keygen(new Uint8Array(32).fill(33));
    expect(code(() => expectedSenderKey(served(other.secretKey, 1), trusted))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    // an agent from before rotation (no authorityKeys): its one key, no retired ones
    const old = trustedAuthorities({ ...ward, authorityKeys: undefined } as unknown as WardInfo);
    expect(old).toEqual([{ publicKey: k2.publicKey }]);
    expect(code(() => expectedSenderKey(served(k1.secretKey, 1), old))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
  });
});

import { encodeCanonical, type CborMap, type CborValue } from '../../protocol/cbor/index.ts';

/** What a kind-2 log leaf records (no plaintext, no key: addresses, ids, counts). */
export type AccessEvent =
  | { t: 'query'; requester: string; patient: string; records: number; withheld: number; digest: Uint8Array; nonce: Uint8Array; ts: number }
  | { t: 'session'; patient: string; device: string; kid: Uint8Array; nbf: number; exp: number; ts: number }
  | { t: 'session-end'; patient: string; device: string; kid: Uint8Array; ts: number }
  | { t: 'escrow'; patient: string; ts: number }
  | { t: 'emergency-release'; clinician: string; patient: string; drill: boolean; until: number; ts: number };

/** Canonical CBOR body of the leaf (versioned map). */
export function encodeAccessEvent(e: AccessEvent): Uint8Array {
  const m: CborMap = new Map<string, CborValue>([['v', 1]]);
  for (const [k, v] of Object.entries(e)) m.set(k, v as CborValue);
  return encodeCanonical(m);
}

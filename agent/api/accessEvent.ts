import { decodeStrict, encodeCanonical, type CborMap, type CborValue } from '../../protocol/cbor/index.ts';

/** What a kind-2 log leaf records (no plaintext, no key: addresses, ids, counts). */
export type AccessEvent =
  | { t: 'query'; requester: string; patient: string; records: number; withheld: number; digest: Uint8Array; nonce: Uint8Array; ts: number }
  | { t: 'session'; patient: string; device: string; kid: Uint8Array; nbf: number; exp: number; ts: number }
  | { t: 'session-end'; patient: string; device: string; kid: Uint8Array; ts: number }
  | { t: 'escrow'; patient: string; ts: number }
  | { t: 'assign'; patient: string; device: string; via: 'pairing' | 'operator'; ts: number }
  | { t: 'release'; patient: string; device: string; reason: 'reassigned' | 'released'; sessions: number; ts: number }
  | { t: 'session-refused'; patient: string; requester: string; device: string; kid: Uint8Array; reason: 'key-taken' | 'not-assigned'; ts: number }
  | { t: 'emergency-release'; clinician: string; patient: string; drill: boolean; until: number; ts: number };

/** Canonical CBOR body of the leaf (versioned map). */
export function encodeAccessEvent(e: AccessEvent): Uint8Array {
  const m: CborMap = new Map<string, CborValue>([['v', 1]]);
  for (const [k, v] of Object.entries(e)) m.set(k, v as CborValue);
  return encodeCanonical(m);
}

/** JSON view of a leaf body (byte strings as hex); undefined if it is not an access event. */
export function decodeAccessEvent(body: Uint8Array): Record<string, unknown> | undefined {
  let v: CborValue;
  try {
    v = decodeStrict(body, { maxBytes: 8192 });
  } catch {
    return undefined;
  }
  if (!(v instanceof Map) || v.get('v') !== 1) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of v) out[String(k)] = x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x;
  return out;
}

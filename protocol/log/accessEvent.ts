/**
 * The access-event leaf (docs/PROTOCOL.md §12): the body of a kind-2 log
 * leaf (leafKinds.ts), recording who touched a patient's data and when — served queries,
 * sessions, custody changes, escrow uploads, emergency releases. No plaintext, no key: addresses,
 * ids, counts. The body is the canonical CBOR map {"v": 1, "t": <type>, ...fields}.
 */
import { toHex } from '../bytes.ts';
import { decodeStrict, encodeCanonical, type CborMap, type CborValue } from '../cbor/index.ts';

/** Version of the access-event map (key "v"). */
export const ACCESS_EVENT_VERSION = 1;

/** Largest access-event body a reader decodes. */
export const ACCESS_EVENT_MAX_BYTES = 8192;

/** What a kind-2 log leaf records (no plaintext, no key: addresses, ids, counts). */
export type AccessEvent =
  | { t: 'query'; requester: string; patient: string; records: number; withheld: number; digest: Uint8Array; nonce: Uint8Array; ts: number }
  | { t: 'session'; patient: string; device: string; kid: Uint8Array; nbf: number; exp: number; ts: number }
  | { t: 'session-end'; patient: string; device: string; kid: Uint8Array; ts: number }
  | { t: 'escrow'; patient: string; ts: number }
  | { t: 'assign'; patient: string; device: string; via: 'pairing' | 'operator'; ts: number }
  | { t: 'release'; patient: string; device: string; reason: 'reassigned' | 'released'; sessions: number; ts: number }
  | {
      t: 'session-refused';
      patient: string;
      requester: string;
      device: string;
      kid: Uint8Array;
      reason: 'key-taken' | 'not-assigned';
      ts: number;
    }
  | { t: 'emergency-release'; clinician: string; patient: string; drill: boolean; until: number; ts: number };

/** Canonical CBOR body of the leaf (versioned map). */
export function encodeAccessEvent(e: AccessEvent): Uint8Array {
  const m: CborMap = new Map<string, CborValue>([['v', ACCESS_EVENT_VERSION]]);
  for (const [k, v] of Object.entries(e)) m.set(k, v as CborValue);
  return encodeCanonical(m);
}

/** JSON view of a leaf body (byte strings as lower-case hex); undefined if it is not an access event. */
export function decodeAccessEvent(body: Uint8Array): Record<string, unknown> | undefined {
  let v: CborValue;
  try {
    v = decodeStrict(body, { maxBytes: ACCESS_EVENT_MAX_BYTES, floats: 'nowhere' }); // no access event has a float field (§12)
  } catch {
    return undefined;
  }
  if (!(v instanceof Map) || v.get('v') !== ACCESS_EVENT_VERSION) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of v) out[String(k)] = x instanceof Uint8Array ? toHex(x) : x;
  return out;
}

import {
  decodeStrict,
  encodeCanonical,
  isBytes,
  isCborMap,
  Tag,
  type CborKey,
  type CborMap,
  type CborValue,
  type StrictDecodeOptions,
} from '../cbor/index.ts';
import { fail } from '../errors.ts';

/** The header buckets every COSE message starts with (RFC 9052 §3). */
export interface CoseHeaders {
  /** The protected header exactly as it appears in the message (authenticated as these bytes). */
  readonly protectedBytes: Uint8Array;
  readonly protected: CborMap;
  readonly unprotected: CborMap;
}

export interface CoseDecodeOptions {
  /** CBOR limits for the whole message (defaults: see cbor/limits.ts). */
  readonly limits?: Omit<StrictDecodeOptions, 'allowedTags'>;
  /** Refuse an untagged message (default: tagged and untagged are both accepted). */
  readonly requireTag?: boolean;
}

/**
 * Decodes a COSE message array of `length` items, tagged with `tag` or untagged.
 * A different leading tag is COSE_BAD_TAG; CBOR errors keep their CBOR_* code.
 */
export function decodeCoseArray(bytes: Uint8Array, tag: number, length: number, options: CoseDecodeOptions = {}): CborValue[] {
  const leading = leadingTag(bytes);
  if (leading !== undefined && leading !== tag) fail('COSE_BAD_TAG');
  if (leading === undefined && options.requireTag === true) fail('COSE_BAD_TAG', 'COSE message is not tagged');
  const decoded = decodeStrict(bytes, { ...options.limits, allowedTags: [tag] });
  const body = decoded instanceof Tag ? decoded.value : decoded;
  if (!Array.isArray(body) || body.length !== length) fail('COSE_BAD_STRUCTURE');
  return body as CborValue[];
}

/**
 * The tag number of the item's first head if it is a tag, else undefined.
 * Reads at most 9 bytes; an unreadable head yields undefined (the strict
 * decoder then reports it).
 */
export function leadingTag(bytes: Uint8Array): number | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return undefined;
  const initial = bytes[0]!;
  if (initial >> 5 !== 6) return undefined;
  const additional = initial & 0x1f;
  if (additional < 24) return additional;
  if (additional > 27) return undefined;
  const size = 1 << (additional - 24);
  if (bytes.length < 1 + size) return undefined;
  let n = 0;
  for (let i = 1; i <= size; i++) n = n * 256 + bytes[i]!;
  return n; // beyond 2^53 only loses precision; it is refused either way
}

/** Reads items 0 and 1 of a COSE message: protected bstr and unprotected map. */
export function decodeHeaders(protectedItem: CborValue | undefined, unprotectedItem: CborValue | undefined): CoseHeaders {
  if (!isBytes(protectedItem) || !isCborMap(unprotectedItem)) fail('COSE_BAD_STRUCTURE');
  const protectedMap = decodeProtectedHeader(protectedItem);
  for (const label of protectedMap.keys()) {
    if (unprotectedItem.has(label)) fail('COSE_BAD_HEADER', 'a header label appears in both buckets');
  }
  return { protectedBytes: protectedItem, protected: protectedMap, unprotected: unprotectedItem };
}

/** A zero-length protected header is the empty map (RFC 9052 §3). */
export function decodeProtectedHeader(protectedBytes: Uint8Array): CborMap {
  if (protectedBytes.length === 0) return new Map();
  let value: CborValue;
  try {
    // no protected header parameter of vitalseal's COSE messages is a float (alg, the envelope's seq, ts, hs, m: §5.2, §7.2)
    value = decodeStrict(protectedBytes, { floats: 'nowhere' });
  } catch (e) {
    fail('COSE_BAD_HEADER', 'protected header is not strict CBOR', e);
  }
  if (!isCborMap(value)) fail('COSE_BAD_HEADER', 'protected header is not a map');
  return value;
}

/** Deterministic protected header bytes; the empty map is sent as a zero-length string. */
export function encodeProtectedHeader(header: CborMap): Uint8Array {
  return header.size === 0 ? new Uint8Array(0) : encodeCanonical(header);
}

/** A header parameter from either bucket (they never share a label after decodeHeaders). */
export function headerParam(headers: CoseHeaders, label: CborKey): CborValue | undefined {
  return headers.protected.get(label) ?? headers.unprotected.get(label);
}

/** The message's algorithm, which must be protected (RFC 9052 §3.1). */
export function protectedAlg(headers: CoseHeaders): CborValue | undefined {
  return headers.protected.get(1);
}

export function encodeCoseMessage(tag: number, items: CborValue[], tagged = true): Uint8Array {
  return encodeCanonical(tagged ? new Tag(items, tag) : items);
}

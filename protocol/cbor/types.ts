import { Tag } from 'cbor-x';

/** A CBOR tag with its content (cbor-x's class, re-exported so callers need not import cbor-x). */
export { Tag };

/** Map keys vitalseal accepts: integers (COSE labels) and text. */
export type CborKey = number | bigint | string;
export type CborMap = Map<CborKey, CborValue>;

/**
 * The CBOR data model as vitalseal uses it. Integers beyond 2^53 decode as bigint;
 * byte strings are plain `Uint8Array` copies (never views into the input).
 */
export type CborValue = number | bigint | string | boolean | null | Uint8Array | CborValue[] | CborMap | Tag;

export function isCborMap(v: unknown): v is CborMap {
  return v instanceof Map;
}

export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

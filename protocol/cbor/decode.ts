import { Decoder } from 'cbor-x';
import { fail } from '../errors.ts';
import type { StrictDecodeOptions } from './limits.ts';
import { Tag, type CborKey, type CborValue } from './types.ts';
import { checkWellFormed } from './wellFormed.ts';

/** cbor-x decoder for COSE data: maps stay `Map`s so integer labels stay integers. */
const coseDecoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/**
 * Strict CBOR decoding: the hand-written pre-scan (limits, well-formedness,
 * tag allow-list, no duplicate keys; see wellFormed.ts) and only then cbor-x.
 * Throws VitalsealError with a CBOR_* code; never returns views into `bytes`.
 */
export function decodeStrict(bytes: Uint8Array, options?: StrictDecodeOptions): CborValue {
  checkWellFormed(bytes, options);
  let decoded: unknown;
  try {
    decoded = coseDecoder.decode(bytes);
  } catch (e) {
    fail('CBOR_MALFORMED', 'CBOR decoder rejected the input', e);
  }
  return toOwnedValue(decoded);
}

/**
 * Copies byte strings out of the input buffer (cbor-x returns Buffer views into
 * it) and checks the value is one vitalseal's data model describes. Recursion is
 * bounded by the pre-scan's depth limit.
 */
function toOwnedValue(v: unknown): CborValue {
  switch (typeof v) {
    case 'bigint':
      return integerOf(v);
    case 'number':
    case 'string':
    case 'boolean':
      return v;
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(toOwnedValue);
  if (v instanceof Map) {
    const out = new Map<CborKey, CborValue>();
    for (const [key, value] of v) out.set(toOwnedKey(key), toOwnedValue(value));
    return out;
  }
  if (v instanceof Tag) return new Tag(toOwnedValue(v.value), v.tag);
  return fail('CBOR_UNSUPPORTED', 'CBOR item decodes to an unsupported value');
}

/** cbor-x returns every 8-byte integer as bigint; vitalseal uses number whenever it is exact. */
function integerOf(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
}

function toOwnedKey(k: unknown): CborKey {
  if (typeof k === 'bigint') return integerOf(k);
  if (typeof k === 'number' || typeof k === 'string') return k;
  return fail('CBOR_UNSUPPORTED', 'map keys must be integers or text strings');
}

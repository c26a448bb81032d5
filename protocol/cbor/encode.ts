import { Encoder } from 'cbor-x';
import { compareBytes } from './compareBytes.ts';
import { fail } from '../errors.ts';
import { Tag, type CborKey, type CborValue } from './types.ts';

/**
 * cbor-x encoder configured for COSE: no record extension, no tag 259 on maps,
 * and `Uint8Array` as a plain byte string (major type 2) rather than cbor-x's
 * default tag 64 typed array, which would change every Enc/Sig_structure.
 */
const coseEncoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  mapsAsObjects: false,
  useTag259ForMaps: false,
  variableMapSize: true,
} as ConstructorParameters<typeof Encoder>[0]);

const UINT32_MAX = 0xffffffff;
const NEGINT32_MIN = -0x100000000;

/**
 * Deterministic CBOR for everything vitalseal signs or authenticates
 * (RFC 8949 §4.2.1 core deterministic encoding, with one §4.2.2 choice):
 * - integers and lengths in their shortest form, definite lengths only;
 * - map keys sorted by the bytewise order of their encodings, no duplicates;
 * - non-integral numbers always as float64 (JS numbers carry no width, so a
 *   fixed width keeps encoding deterministic; integral numbers are integers).
 * Accepts only the CBOR data model of types.ts (Maps, not plain objects).
 */
export function encodeCanonical(value: CborValue): Uint8Array {
  const prepared = prepare(value, 0);
  return new Uint8Array(coseEncoder.encode(prepared));
}

const MAX_ENCODE_DEPTH = 64;

/** Rewrites a value so cbor-x's output is deterministic (see encodeCanonical). */
function prepare(v: CborValue, depth: number): unknown {
  if (depth > MAX_ENCODE_DEPTH) fail('CBOR_TOO_DEEP', 'value nests too deeply to encode');
  switch (typeof v) {
    case 'number':
      return prepareNumber(v);
    case 'bigint':
      return prepareBigint(v);
    case 'string':
    case 'boolean':
      return v;
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((item) => prepare(item, depth + 1));
  if (v instanceof Map) return prepareMap(v, depth);
  if (v instanceof Tag) return new Tag(prepare(v.value as CborValue, depth + 1), v.tag);
  return fail('CBOR_UNSUPPORTED', 'value cannot be encoded as vitalseal CBOR');
}

/** cbor-x writes integers outside the 32-bit range as float64; as bigint they get a shortest 8-byte head. */
function prepareNumber(n: number): number | bigint {
  if (Number.isSafeInteger(n) && (n > UINT32_MAX || n < NEGINT32_MIN)) return BigInt(n);
  if (Object.is(n, -0)) return 0;
  return n;
}

function prepareBigint(n: bigint): number | bigint {
  // -(2^64) is valid CBOR but cbor-x can only write it as a bignum tag: refused too.
  if (n > 2n ** 64n - 1n || n <= -(2n ** 64n)) fail('CBOR_UNSUPPORTED', 'integer does not fit in 64 bits');
  if (n <= BigInt(UINT32_MAX) && n >= BigInt(NEGINT32_MIN)) return Number(n);
  return n;
}

function prepareMap(map: Map<CborKey, CborValue>, depth: number): Map<unknown, unknown> {
  const entries = [...map].map(([key, value]) => {
    if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') {
      fail('CBOR_UNSUPPORTED', 'map keys must be integers or text strings');
    }
    if (typeof key === 'number' && !Number.isInteger(key)) fail('CBOR_UNSUPPORTED', 'map keys must be integers or text strings');
    const preparedKey = prepare(key, depth + 1);
    return { encodedKey: new Uint8Array(coseEncoder.encode(preparedKey)), preparedKey, value };
  });
  entries.sort((a, b) => compareBytes(a.encodedKey, b.encodedKey));
  const out = new Map<unknown, unknown>();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (i > 0 && compareBytes(entries[i - 1]!.encodedKey, entry.encodedKey) === 0) fail('CBOR_UNSUPPORTED', 'duplicate map key');
    out.set(entry.preparedKey, prepare(entry.value, depth + 1));
  }
  return out;
}

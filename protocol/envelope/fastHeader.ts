/**
 * Fast path of the key-less envelope decode, for the one byte layout devices
 * actually produce (sealReading / the session sealer, via encodeCanonical):
 *
 *   [D0]                                  optional tag 16 (COSE_Encrypt0)
 *   83                                    array(3)
 *   58 nn | 40+nn                         bstr: protected header, exactly one map:
 *     A5 | A6 | A7                          map(5), map(6) with "hs" or "m", map(7) with both
 *     01 18 2A                              1 (alg): 42 (HPKE-4)
 *     [61 "m" 02]                           HPKE Auth mode only
 *     [62 "hs" uint]                        session mode only
 *     62 "st" text   62 "ts" uint   63 "dev" text   63 "seq" uint
 *   A2 04 50 <16 bytes> 23 58 20 <32 bytes>  unprotected {4: kid, -4: ek}
 *   bstr                                  ciphertext (>= 16 bytes), ending the input
 *
 * The protected keys appear in RFC 8949 §4.2.1 order (bytewise order of the
 * encoded keys: 01 < 62 68.. < 62 73.. < 62 74.. < 63 64.. < 63 73..), which is
 * what encodeEnvelopeProtected emits. Every integer and length must be in its
 * shortest form and every length definite.
 *
 * Anything else yields null and the caller runs the strict decodeEnvelope;
 * whenever this returns non-null, decodeEnvelope accepts the same bytes and
 * returns deep-equal fields (test/protocol/envelopeFast.test.ts checks it).
 * Pure: no I/O, no Node-only APIs; it never throws.
 */
import { DEFAULT_CBOR_LIMITS } from '../cbor/limits.ts';
import { ALG } from '../cose/constants.ts';
import { asciiHash, asciiString } from './asciiCache.ts';
import { DEVICE_ID_MAX_LENGTH } from '../deviceId.ts';
import { AEAD_TAG_BYTES, ENC_BYTES, ENVELOPE_MAX_BYTES, KID_BYTES } from './constants.ts';
import type { EnvelopeHeader } from './header.ts';

/** The protected header fields next to alg, as the fast path reads them. */
export interface EnvelopeHeaderFields {
  dev: string;
  seq: number;
  ts: number;
  st: string;
  hs?: number;
}

/** Everything decodeEnvelope returns except recordId (the caller hashes with whatever SHA-256 it has). */
export interface CanonicalEnvelopeView {
  readonly header: EnvelopeHeader;
  readonly kid: Uint8Array;
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly protectedBytes: Uint8Array;
}

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;

/** The strict decoder's string limit (decodeEnvelope only overrides maxBytes). */
const MAX_STRING_BYTES = DEFAULT_CBOR_LIMITS.maxStringBytes;

/** Longest device id / sensor type (DEVICE_ID_PATTERN in ../deviceId.ts, SENSOR_TYPE_PATTERN in fields.ts). */
const DEVICE_ID_MAX = DEVICE_ID_MAX_LENGTH;
const SENSOR_TYPE_MAX = 32;

/** Tag 16 (COSE_Encrypt0) in its one-byte head, and array(3). */
const TAG16 = 0xd0;
const ARRAY3 = [0x83] as const;
/** Protected map heads: 5 entries, 6 with "hs" or "m", 7 with both. */
const MAP5 = 0xa5;
const MAP6 = 0xa6;
const MAP7 = 0xa7;
/** "m": 2 (HPKE Auth mode, docs/PROTOCOL.md §5.2): sorts right after alg (text(1) before text(2) keys). */
const AUTH_ENTRY = [0x61, 0x6d, 0x02] as const;
/** Unprotected header up to the kid bytes: map(2), 4 (kid), bstr(16). */
const UNPROTECTED_KID_HEAD = [0xa2, 0x04, 0x40 | KID_BYTES] as const;
/** Between kid and ek: -4 (ek), bstr(32) with a one-byte length. */
const UNPROTECTED_EK_HEAD = [0x23, 0x58, ENC_BYTES] as const;

/** Encoded protected labels: 1 => 42, and the text keys (text(n) head, then ASCII). */
const ALG_ENTRY = [0x01, 0x18, ALG.HPKE4] as const;
const KEY_HS = [0x62, 0x68, 0x73] as const;
const KEY_ST = [0x62, 0x73, 0x74] as const;
const KEY_TS = [0x62, 0x74, 0x73] as const;
const KEY_DEV = [0x63, 0x64, 0x65, 0x76] as const;
const KEY_SEQ = [0x63, 0x73, 0x65, 0x71] as const;

/** Largest high 32-bit word of an 8-byte argument that keeps the value <= Number.MAX_SAFE_INTEGER (2^53 - 1). */
const MAX_SAFE_HI = 0x1fffff;
const TWO_POW_32 = 0x100000000;

/**
 * Read position over the input. `end` bounds every read: the protected header's
 * byte string while its map is read, the whole input otherwise.
 */
class Cursor {
  pos = 0;
  end: number;
  constructor(readonly bytes: Uint8Array) {
    this.end = bytes.length;
  }
}

/**
 * Reads a CBOR head of major type `major` whose argument is in shortest form
 * (RFC 8949 §4.2.1) and at most Number.MAX_SAFE_INTEGER. Returns the argument,
 * or -1 (position then unspecified) for another major type, a longer-than-needed
 * argument, an indefinite length or reserved value, or a head past `end`.
 */
function readHead(c: Cursor, major: number): number {
  const { bytes, end } = c;
  let p = c.pos;
  if (p >= end) return -1;
  const initial = bytes[p++]!;
  if (initial >> 5 !== major) return -1;
  const additional = initial & 0x1f;
  let value: number;
  if (additional < 24) {
    value = additional;
  } else if (additional === 24) {
    if (end - p < 1) return -1;
    value = bytes[p]!;
    p += 1;
    if (value < 24) return -1;
  } else if (additional === 25) {
    if (end - p < 2) return -1;
    value = (bytes[p]! << 8) | bytes[p + 1]!;
    p += 2;
    if (value < 0x100) return -1;
  } else if (additional === 26) {
    if (end - p < 4) return -1;
    value = readUint32(bytes, p);
    p += 4;
    if (value < 0x10000) return -1;
  } else if (additional === 27) {
    if (end - p < 8) return -1;
    const hi = readUint32(bytes, p);
    if (hi === 0 || hi > MAX_SAFE_HI) return -1; // hi 0: fits 4 bytes; above: not a safe integer
    value = hi * TWO_POW_32 + readUint32(bytes, p + 4);
    p += 8;
  } else {
    return -1; // 28..30 reserved, 31 indefinite length
  }
  c.pos = p;
  return value;
}

/** Big-endian uint32 at `at` (the caller checked the 4 bytes exist). */
function readUint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/** Consumes exactly the bytes `expected` (a fixed head or encoded key); false if they differ or run past `end`. */
function expectBytes(c: Cursor, expected: readonly number[]): boolean {
  const { bytes } = c;
  const p = c.pos;
  if (c.end - p < expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[p + i] !== expected[i]) return false;
  c.pos = p + expected.length;
  return true;
}

/** True for ASCII [A-Za-z0-9]. */
function isAsciiAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

/**
 * Reads a text string matching DEVICE_ID_PATTERN (at most 64 bytes) or
 * SENSOR_TYPE_PATTERN (at most 32 bytes): a letter or digit, then letters,
 * digits and `.` `_` `-`. The alphabet is ASCII, so the bytes are the
 * characters (and valid UTF-8). Null otherwise.
 */
function readIdentifier(c: Cursor, maxLength: number): string | null {
  const length = readHead(c, MAJOR_TEXT);
  if (length < 1 || length > maxLength || c.end - c.pos < length) return null;
  const { bytes } = c;
  const start = c.pos;
  const end = start + length;
  if (!isAsciiAlnum(bytes[start]!)) return null;
  for (let i = start + 1; i < end; i++) {
    const b = bytes[i]!;
    if (!isAsciiAlnum(b) && b !== 0x2e && b !== 0x5f && b !== 0x2d) return null;
  }
  c.pos = end;
  // ids recur from envelope to envelope: the cached string of these bytes, not a new one each time
  return asciiString(bytes, start, end, asciiHash(bytes, start, end));
}

/**
 * Reads the protected header map (the cursor's `end` is the end of its byte
 * string) in exactly the key order encodeEnvelopeProtected emits:
 * 1: 42, ["m": 2,] ["hs": uint,] "st": text, "ts": uint, "dev": text, "seq": uint.
 * Returns the header, or null for anything else (including bytes left over).
 */
function readProtectedMap(c: Cursor): EnvelopeHeader | null {
  if (c.pos >= c.end) return null;
  const mapHead = c.bytes[c.pos++]!;
  if (mapHead !== MAP5 && mapHead !== MAP6 && mapHead !== MAP7) return null;
  if (!expectBytes(c, ALG_ENTRY)) return null;
  let entries = mapHead - 0xa0;
  // Auth mode: "m" is the next key; any other value of it leaves the envelope to the strict decoder
  const auth = entries > 5 && c.pos < c.end && c.bytes[c.pos] === AUTH_ENTRY[0] && c.bytes[c.pos + 1] === AUTH_ENTRY[1];
  if (auth) {
    if (!expectBytes(c, AUTH_ENTRY)) return null;
    entries--;
  }
  if (entries === 7) return null;
  let hs = -1;
  if (entries === 6) {
    if (!expectBytes(c, KEY_HS)) return null;
    hs = readHead(c, MAJOR_UINT);
    if (hs < 0) return null;
  }
  if (!expectBytes(c, KEY_ST)) return null;
  const st = readIdentifier(c, SENSOR_TYPE_MAX);
  if (st === null || !expectBytes(c, KEY_TS)) return null;
  const ts = readHead(c, MAJOR_UINT);
  if (ts < 0 || !expectBytes(c, KEY_DEV)) return null;
  const dev = readIdentifier(c, DEVICE_ID_MAX);
  if (dev === null || !expectBytes(c, KEY_SEQ)) return null;
  const seq = readHead(c, MAJOR_UINT);
  if (seq < 0 || c.pos !== c.end) return null;
  // same property order as parseEnvelopeProtected: alg, dev, seq, ts, st[, hs][, m]
  if (auth) return hs < 0 ? { alg: ALG.HPKE4, dev, seq, ts, st, m: 2 } : { alg: ALG.HPKE4, dev, seq, ts, st, hs, m: 2 };
  return hs < 0 ? { alg: ALG.HPKE4, dev, seq, ts, st } : { alg: ALG.HPKE4, dev, seq, ts, st, hs };
}

/** An owned plain-Uint8Array copy of bytes[start, start + length) (also when the input is a Node Buffer, whose slice() is a view). */
function copyOf(bytes: Uint8Array, start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes.subarray(start, start + length));
  return out;
}

/** Where the fields of an envelope in the canonical layout are (offsets into its bytes). */
interface CanonicalLayout {
  readonly header: EnvelopeHeader;
  readonly protectedStart: number;
  readonly protectedLength: number;
  readonly kidStart: number;
  readonly encStart: number;
  readonly ciphertextStart: number;
  readonly ciphertextLength: number;
}

/** Reads the canonical layout (see the top of this file), or null for anything else. Never throws. */
function readCanonicalLayout(bytes: Uint8Array, maxBytes: number): CanonicalLayout | null {
  if (!(bytes instanceof Uint8Array) || bytes.length > maxBytes) return null;
  const c = new Cursor(bytes);
  if (bytes[0] === TAG16) c.pos = 1;
  if (!expectBytes(c, ARRAY3)) return null;

  const protectedLength = readHead(c, MAJOR_BYTES);
  const protectedStart = c.pos;
  if (protectedLength < 0 || c.end - protectedStart < protectedLength) return null;
  c.end = protectedStart + protectedLength;
  const header = readProtectedMap(c);
  if (header === null) return null;
  c.end = bytes.length;

  if (!expectBytes(c, UNPROTECTED_KID_HEAD) || c.end - c.pos < KID_BYTES) return null;
  const kidStart = c.pos;
  c.pos += KID_BYTES;
  if (!expectBytes(c, UNPROTECTED_EK_HEAD) || c.end - c.pos < ENC_BYTES) return null;
  const encStart = c.pos;
  c.pos += ENC_BYTES;

  const ciphertextLength = readHead(c, MAJOR_BYTES);
  const ciphertextStart = c.pos;
  if (ciphertextLength < AEAD_TAG_BYTES || ciphertextLength > MAX_STRING_BYTES || ciphertextStart + ciphertextLength !== bytes.length)
    return null;
  return { header, protectedStart, protectedLength, kidStart, encStart, ciphertextStart, ciphertextLength };
}

/**
 * Returns the key-less view for an envelope in exactly the canonical layout
 * sealReading emits, or null for anything else (the caller then runs the
 * strict decodeEnvelope). Never throws. The byte fields are owned copies, as
 * decodeEnvelope returns them; recordId is not computed.
 */
export function tryDecodeCanonicalEnvelope(bytes: Uint8Array, maxBytes: number = ENVELOPE_MAX_BYTES): CanonicalEnvelopeView | null {
  const l = readCanonicalLayout(bytes, maxBytes);
  if (l === null) return null;
  return {
    header: l.header,
    kid: copyOf(bytes, l.kidStart, KID_BYTES),
    enc: copyOf(bytes, l.encStart, ENC_BYTES),
    ciphertext: copyOf(bytes, l.ciphertextStart, l.ciphertextLength),
    protectedBytes: copyOf(bytes, l.protectedStart, l.protectedLength),
  };
}

/** The header and kid of a canonical envelope: what the ingest path judges a reading by. */
export interface CanonicalHeaderView {
  readonly header: EnvelopeHeader;
  /** A view into the envelope's bytes (not a copy): valid as long as they are. */
  readonly kid: Uint8Array;
}

/**
 * tryDecodeCanonicalEnvelope without its copies: accepts and refuses exactly the same bytes,
 * returns the same header and the kid as a view of `bytes` (the ingest path stores the whole
 * envelope anyway, and copying ciphertext, ek and protected bytes per reading only fed the GC).
 */
export function tryDecodeCanonicalHeader(bytes: Uint8Array, maxBytes: number = ENVELOPE_MAX_BYTES): CanonicalHeaderView | null {
  const l = readCanonicalLayout(bytes, maxBytes);
  return l === null ? null : { header: l.header, kid: bytes.subarray(l.kidStart, l.kidStart + KID_BYTES) };
}

/**
 * tryDecodeCanonicalEnvelope with every byte field a view into `bytes` instead of a copy: for a caller
 * that uses them at once and keeps none (openReading). Accepts and refuses exactly the same bytes.
 */
export function tryReadCanonicalEnvelope(bytes: Uint8Array, maxBytes: number = ENVELOPE_MAX_BYTES): CanonicalEnvelopeView | null {
  const l = readCanonicalLayout(bytes, maxBytes);
  if (l === null) return null;
  return {
    header: l.header,
    kid: bytes.subarray(l.kidStart, l.kidStart + KID_BYTES),
    enc: bytes.subarray(l.encStart, l.encStart + ENC_BYTES),
    ciphertext: bytes.subarray(l.ciphertextStart, l.ciphertextStart + l.ciphertextLength),
    protectedBytes: bytes.subarray(l.protectedStart, l.protectedStart + l.protectedLength),
  };
}

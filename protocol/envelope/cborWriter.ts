/**
 * A byte-exact writer for the few CBOR items a reading envelope is made of (heads, text, numbers),
 * producing exactly what the generic encodeCanonical (protocol/cbor/encode.ts, over cbor-x) emits
 * for them: shortest heads, definite lengths, integral numbers in [-(2^53 - 1), 2^53 - 1] as
 * integers (8-byte heads beyond 32 bits), -0 as 0, every other number as float64, text as cbor-x
 * writes it (UTF-8; a lone surrogate as its 3-byte form). test/protocol/envelopeWriter.test.ts
 * checks the equality on random readings and headers.
 *
 * Every item has a `…Length` (bytes it takes) and a `write…` (writes it at `at`, returns the
 * position after it), so a caller sizes one buffer exactly, then fills it without copies.
 * Pure: no I/O, no Node-only APIs.
 */

export const MAJOR_UINT = 0;
export const MAJOR_NEGINT = 1;
export const MAJOR_BYTES = 2;
export const MAJOR_TEXT = 3;
export const MAJOR_ARRAY = 4;
export const MAJOR_MAP = 5;
export const MAJOR_TAG = 6;

const FLOAT64_HEAD = 0xfb;
const FLOAT64_LENGTH = 9;
const TWO_POW_32 = 0x100000000;

/** Length of a head whose argument is `n` (a safe non-negative integer), in shortest form. */
export function headLength(n: number): number {
  if (n < 24) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < TWO_POW_32) return 5;
  return 9;
}

/** Writes the shortest head of major type `major` with argument `n` (0 ≤ n ≤ 2^53 − 1). */
export function writeHead(out: Uint8Array, at: number, major: number, n: number): number {
  const type = major << 5;
  if (n < 24) {
    out[at] = type | n;
    return at + 1;
  }
  if (n < 0x100) {
    out[at] = type | 24;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = type | 25;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  if (n < TWO_POW_32) {
    out[at] = type | 26;
    writeUint32(out, at + 1, n);
    return at + 5;
  }
  out[at] = type | 27;
  writeUint32(out, at + 1, Math.floor(n / TWO_POW_32));
  writeUint32(out, at + 5, n >>> 0);
  return at + 9;
}

function writeUint32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

/** Bytes of `s` as cbor-x encodes it: UTF-8, with a lone surrogate written as its own 3-byte sequence. */
export function utf8Length(s: string): number {
  let length = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) length += 1;
    else if (c < 0x800) length += 2;
    else if (isSurrogatePairAt(s, i, c)) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

function isSurrogatePairAt(s: string, i: number, c: number): boolean {
  return (c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

function writeUtf8(out: Uint8Array, at: number, s: string): number {
  let p = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out[p++] = c;
    else if (c < 0x800) {
      out[p++] = (c >> 6) | 0xc0;
      out[p++] = (c & 0x3f) | 0x80;
    } else if (isSurrogatePairAt(s, i, c)) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      out[p++] = (c >> 18) | 0xf0;
      out[p++] = ((c >> 12) & 0x3f) | 0x80;
      out[p++] = ((c >> 6) & 0x3f) | 0x80;
      out[p++] = (c & 0x3f) | 0x80;
    } else {
      out[p++] = (c >> 12) | 0xe0;
      out[p++] = ((c >> 6) & 0x3f) | 0x80;
      out[p++] = (c & 0x3f) | 0x80;
    }
  }
  return p;
}

/** A text string item: head and UTF-8 bytes. */
export function textLength(s: string): number {
  const n = utf8Length(s);
  return headLength(n) + n;
}

export function writeText(out: Uint8Array, at: number, s: string): number {
  return writeUtf8(out, writeHead(out, at, MAJOR_TEXT, utf8Length(s)), s);
}

/** A byte string item: head and bytes. */
export function bytesLength(b: Uint8Array): number {
  return headLength(b.length) + b.length;
}

export function writeBytes(out: Uint8Array, at: number, b: Uint8Array): number {
  const p = writeHead(out, at, MAJOR_BYTES, b.length);
  out.set(b, p);
  return p + b.length;
}

/** Fixed bytes (a key or a head prepared once). */
export function writeRaw(out: Uint8Array, at: number, raw: Uint8Array): number {
  out.set(raw, at);
  return at + raw.length;
}

/** A number the canonical encoder writes as an integer: integral and within ±(2^53 − 1) (−0 included, as 0). */
function isIntegerItem(x: number): boolean {
  return Number.isSafeInteger(x) || x === 0;
}

/** A number item: an integer head for integral safe values (≥ 0 as uint, < 0 as negint −1−x), else float64. */
export function numberLength(x: number): number {
  if (!isIntegerItem(x)) return FLOAT64_LENGTH;
  return headLength(x >= 0 ? x : -1 - x);
}

export function writeNumber(out: Uint8Array, at: number, x: number): number {
  if (isIntegerItem(x)) return x >= 0 ? writeHead(out, at, MAJOR_UINT, x) : writeHead(out, at, MAJOR_NEGINT, -1 - x);
  out[at] = FLOAT64_HEAD;
  writeFloat64(out, at + 1, x);
  return at + FLOAT64_LENGTH;
}

/** Scratch for float64 bytes (filled and read back synchronously; no caller code runs in between). */
const float64Scratch = new Float64Array(1);
const float64Bytes = new Uint8Array(float64Scratch.buffer);
const LITTLE_ENDIAN_PLATFORM = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** IEEE 754 binary64, big-endian (network order, as CBOR requires). */
function writeFloat64(out: Uint8Array, at: number, x: number): void {
  float64Scratch[0] = x;
  if (LITTLE_ENDIAN_PLATFORM) for (let i = 0; i < 8; i++) out[at + i] = float64Bytes[7 - i]!;
  else out.set(float64Bytes, at);
}

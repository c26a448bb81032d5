/**
 * The reading plaintext {st, ts, v, u} (docs/PROTOCOL.md §4) in its canonical layout, written and
 * read directly:
 *
 *   A4  61 "u" text   61 "v" array(n) number…   62 "st" text   62 "ts" uint
 *
 * (keys in RFC 8949 §4.2.1 order: the bytewise order of their encodings). The writer produces
 * exactly encodeCanonical's bytes for a valid reading (the caller runs checkReading first). The
 * reader accepts only that layout with shortest heads, integers within ±(2^53 − 1) and float64
 * numbers, and returns null for anything else (the caller then runs the strict decoder); whenever
 * it returns a reading, the strict decodeReading accepts the same bytes and returns an equal one.
 * test/protocol/envelopeWriter.test.ts checks both. Pure: no I/O, no Node-only APIs; the reader never throws.
 */
import {
  headLength,
  MAJOR_ARRAY,
  MAJOR_NEGINT,
  MAJOR_TEXT,
  MAJOR_UINT,
  numberLength,
  textLength,
  writeHead,
  writeNumber,
  writeRaw,
  writeText,
} from './cborWriter.ts';
import { isSensorType, isUnit } from './fields.ts';
import { asciiHash, asciiString } from './asciiCache.ts';

/** reading.ts's Reading, stated here structurally (reading.ts imports this module: no import cycle). */
interface Reading {
  readonly st: string;
  readonly ts: number;
  readonly v: readonly number[];
  readonly u: string;
}

const READING_MAP_HEAD = 0xa4;
const KEY_U = Uint8Array.of(0x61, 0x75);
const KEY_V = Uint8Array.of(0x61, 0x76);
const KEY_ST = Uint8Array.of(0x62, 0x73, 0x74);
const KEY_TS = Uint8Array.of(0x62, 0x74, 0x73);
const FLOAT64_HEAD = 0xfb;
/** The same bound as READING_MAX_VALUES (reading.ts), kept here to avoid an import cycle. */
const MAX_VALUES = 400;

/**
 * Canonical plaintext of a reading whose other fields passed checkReading: one exactly sized buffer.
 * Each value is checked as it is sized (checkReading's last check, in the same pass): null when one
 * is not a finite number.
 */
export function writeReadingPlaintext(r: Reading): Uint8Array | null {
  const values = r.v;
  let valuesLength = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    valuesLength += numberLength(x);
  }
  const length =
    1 +
    KEY_U.length +
    textLength(r.u) +
    KEY_V.length +
    headLength(values.length) +
    valuesLength +
    KEY_ST.length +
    textLength(r.st) +
    KEY_TS.length +
    headLength(r.ts);
  const out = new Uint8Array(length);
  out[0] = READING_MAP_HEAD;
  let p = writeText(out, writeRaw(out, 1, KEY_U), r.u);
  p = writeHead(out, writeRaw(out, p, KEY_V), MAJOR_ARRAY, values.length);
  for (let i = 0; i < values.length; i++) p = writeNumber(out, p, values[i]!);
  p = writeText(out, writeRaw(out, p, KEY_ST), r.st);
  writeHead(out, writeRaw(out, p, KEY_TS), MAJOR_UINT, r.ts);
  return out;
}

// ---------------------------------------------------------------- reader

const MAX_SAFE_HI = 0x1fffff;
const TWO_POW_32 = 0x100000000;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Read position over a plaintext; every read is bounded by the end of the bytes. */
class Cursor {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
}

/** Argument of a head with additional info `additional`, in shortest form and ≤ 2^53 − 1; -1 otherwise. */
function readArgument(c: Cursor, additional: number): number {
  const { bytes } = c;
  const p = c.pos;
  if (additional < 24) return additional;
  if (additional === 24) {
    if (p + 1 > bytes.length || bytes[p]! < 24) return -1;
    c.pos = p + 1;
    return bytes[p]!;
  }
  if (additional === 25) {
    if (p + 2 > bytes.length) return -1;
    const n = (bytes[p]! << 8) | bytes[p + 1]!;
    if (n < 0x100) return -1;
    c.pos = p + 2;
    return n;
  }
  if (additional === 26) {
    if (p + 4 > bytes.length) return -1;
    const n = readUint32(bytes, p);
    if (n < 0x10000) return -1;
    c.pos = p + 4;
    return n;
  }
  if (additional === 27) {
    if (p + 8 > bytes.length) return -1;
    const hi = readUint32(bytes, p);
    if (hi === 0 || hi > MAX_SAFE_HI) return -1;
    c.pos = p + 8;
    return hi * TWO_POW_32 + readUint32(bytes, p + 4);
  }
  return -1;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

/** A head of major type `major`: its argument, or -1 for another type or a non-canonical or unsafe argument. */
function readHead(c: Cursor, major: number): number {
  if (c.pos >= c.bytes.length) return -1;
  const initial = c.bytes[c.pos]!;
  if (initial >> 5 !== major) return -1;
  c.pos++;
  return readArgument(c, initial & 0x1f);
}

function expectBytes(c: Cursor, expected: Uint8Array): boolean {
  const { bytes, pos } = c;
  if (pos + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[pos + i] !== expected[i]) return false;
  c.pos = pos + expected.length;
  return true;
}

/**
 * Reads `count` values of `v` at the cursor into `into`: integers within ±(2^53 − 1) in shortest
 * form and finite float64s. False for anything else. One-byte integers and float64s, what readings
 * are made of, are read inline.
 */
function readValues(c: Cursor, count: number, into: number[]): boolean {
  const { bytes } = c;
  const end = bytes.length;
  let p = c.pos;
  let view: DataView | undefined; // made on the first float64 (DataView reads big-endian directly)
  for (let i = 0; i < count; i++) {
    if (p >= end) return false;
    const initial = bytes[p]!;
    if (initial < 24) {
      into.push(initial); // uint 0..23
      p += 1;
    } else if (initial >= 0x20 && initial < 0x38) {
      into.push(0x1f - initial); // negint −1..−24
      p += 1;
    } else if (initial === FLOAT64_HEAD) {
      if (p + 9 > end) return false;
      view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const x = view.getFloat64(p + 1);
      if (!Number.isFinite(x)) return false;
      into.push(x);
      p += 9;
    } else {
      const major = initial >> 5;
      if (major !== MAJOR_UINT && major !== MAJOR_NEGINT) return false;
      c.pos = p + 1;
      const n = readArgument(c, initial & 0x1f);
      if (n < 0) return false;
      if (major === MAJOR_UINT) into.push(n);
      else if (n < Number.MAX_SAFE_INTEGER) into.push(-1 - n);
      else return false;
      p = c.pos;
    }
  }
  c.pos = p;
  return true;
}

/** A text string as the strict decoder returns it (valid UTF-8 only); null if malformed or truncated. */
function readText(c: Cursor): string | null {
  const length = readHead(c, MAJOR_TEXT);
  const { bytes } = c;
  const start = c.pos;
  if (length < 0 || start + length > bytes.length) return null;
  c.pos = start + length;
  const end = start + length;
  let ascii = true;
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) ascii = false;
  // units and sensor types recur in every reading: the cached string of these bytes
  if (ascii) return asciiString(bytes, start, end, asciiHash(bytes, start, end));
  try {
    return strictUtf8.decode(bytes.subarray(start, start + length));
  } catch {
    return null;
  }
}

/**
 * The reading in a canonical plaintext, validated as checkReading does, or null for anything
 * else (another layout, a non-canonical head, a value the strict path would refuse). Never throws.
 */
export function tryDecodeCanonicalReading(plaintext: Uint8Array): Reading | null {
  if (!(plaintext instanceof Uint8Array) || plaintext.length === 0 || plaintext[0] !== READING_MAP_HEAD) return null;
  const c = new Cursor(plaintext);
  c.pos = 1;
  if (!expectBytes(c, KEY_U)) return null;
  const u = readText(c);
  if (u === null || !isUnit(u) || !expectBytes(c, KEY_V)) return null;
  const count = readHead(c, MAJOR_ARRAY);
  if (count < 1 || count > MAX_VALUES) return null;
  const v: number[] = [];
  if (!readValues(c, count, v) || !expectBytes(c, KEY_ST)) return null;
  const st = readText(c);
  if (st === null || !isSensorType(st) || !expectBytes(c, KEY_TS)) return null;
  const ts = readHead(c, MAJOR_UINT);
  if (ts < 0 || c.pos !== plaintext.length) return null;
  // same property order as decodeReading's result
  return { st, ts, v, u };
}

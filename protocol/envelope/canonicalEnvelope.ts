/**
 * The fixed-shape parts of a reading envelope written straight into their buffers (docs/PROTOCOL.md §5):
 * the protected header, the Enc_structure around it (the AEAD's aad) and the tagged COSE_Encrypt0.
 * Byte for byte what the generic path (encodeCanonical of the maps and arrays) produces, in one
 * exactly sized allocation each, with no encoder set-up per call. The caller validates the fields
 * first (checkReadingHeader, a uint `hs`); test/protocol/envelopeWriter.test.ts checks the equality.
 *
 *   protected     A5+   01 18 2A  [61 "m" 02]  [62 "hs" uint]  62 "st" text  62 "ts" uint  63 "dev" text  63 "seq" uint
 *                       (keys in RFC 8949 §4.2.1 order: the bytewise order of their encodings)
 *   aad           83 68 "Encrypt0"  bstr(protected)  40
 *   envelope      D0 83  bstr(protected)  A2 04 bstr(kid) 23 bstr(ek)  bstr(ciphertext)
 */
import { ALG, CONTEXT, COSE_TAG, HEADER } from '../cose/constants.ts';
import {
  bytesLength,
  headLength,
  MAJOR_ARRAY,
  MAJOR_BYTES,
  MAJOR_MAP,
  MAJOR_NEGINT,
  MAJOR_TAG,
  MAJOR_TEXT,
  MAJOR_UINT,
  textLength,
  writeBytes,
  writeHead,
  writeRaw,
  writeText,
} from './cborWriter.ts';
import type { ReadingHeader } from './header.ts';

/** What the protected header states besides the reading header: session sequence number, HPKE Auth mode. */
export interface ProtectedExtras {
  /** Session mode: the RFC 9180 sequence number the message is sealed at. */
  readonly hs?: number | undefined;
  /** HPKE Auth mode: the header carries "m": 2. */
  readonly auth?: boolean | undefined;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const head = (major: number, n: number): number[] => {
  const out = new Uint8Array(9);
  return Array.from(out.subarray(0, writeHead(out, 0, major, n)));
};
const textKey = (key: string): Uint8Array => Uint8Array.from([...head(MAJOR_TEXT, key.length), ...ascii(key)]);
const intKey = (label: number): number[] => (label >= 0 ? head(MAJOR_UINT, label) : head(MAJOR_NEGINT, -1 - label));

/** 1 (alg): 42 (HPKE-4). */
const ALG_ENTRY = Uint8Array.from([...intKey(HEADER.alg), ...head(MAJOR_UINT, ALG.HPKE4)]);
/** "m": 2 (RFC 9180 mode_auth). */
const AUTH_MODE_ENTRY = Uint8Array.from([...textKey('m'), ...head(MAJOR_UINT, 2)]);
const KEY_HS = textKey('hs');
const KEY_ST = textKey('st');
const KEY_TS = textKey('ts');
const KEY_DEV = textKey('dev');
const KEY_SEQ = textKey('seq');
/** Entries of a base-mode, single-shot protected header: alg, st, ts, dev, seq. */
const BASE_ENTRIES = 5;

/** Enc_structure up to its protected member: array(3), "Encrypt0". */
const ENC_STRUCTURE_HEAD = Uint8Array.from([
  ...head(MAJOR_ARRAY, 3),
  ...head(MAJOR_TEXT, CONTEXT.Encrypt0.length),
  ...ascii(CONTEXT.Encrypt0),
]);
/** Enc_structure's external_aad: the empty byte string. */
const EMPTY_BSTR = head(MAJOR_BYTES, 0)[0]!;
/** Tag 16 (COSE_Encrypt0), array(3). */
const ENCRYPT0_HEAD = Uint8Array.from([...head(MAJOR_TAG, COSE_TAG.Encrypt0), ...head(MAJOR_ARRAY, 3)]);
const UNPROTECTED_MAP_HEAD = head(MAJOR_MAP, 2)[0]!;
const KID_LABEL = Uint8Array.from(intKey(HEADER.kid));
const EK_LABEL = Uint8Array.from(intKey(HEADER.ek));

/** Bytes of the protected header map (without the byte-string head around it). */
export function protectedHeaderLength(h: ReadingHeader, extras: ProtectedExtras = {}): number {
  let n = 1 + ALG_ENTRY.length;
  if (extras.auth === true) n += AUTH_MODE_ENTRY.length;
  if (extras.hs !== undefined) n += KEY_HS.length + headLength(extras.hs);
  n += KEY_ST.length + textLength(h.st) + KEY_TS.length + headLength(h.ts);
  n += KEY_DEV.length + textLength(h.dev) + KEY_SEQ.length + headLength(h.seq);
  return n;
}

/** Writes the protected header map at `at` (exactly protectedHeaderLength bytes); returns the position after it. */
export function writeProtectedHeader(out: Uint8Array, at: number, h: ReadingHeader, extras: ProtectedExtras = {}): number {
  const auth = extras.auth === true;
  const entries = BASE_ENTRIES + (auth ? 1 : 0) + (extras.hs === undefined ? 0 : 1);
  let p = writeHead(out, at, MAJOR_MAP, entries);
  p = writeRaw(out, p, ALG_ENTRY);
  if (auth) p = writeRaw(out, p, AUTH_MODE_ENTRY);
  if (extras.hs !== undefined) p = writeHead(out, writeRaw(out, p, KEY_HS), MAJOR_UINT, extras.hs);
  p = writeText(out, writeRaw(out, p, KEY_ST), h.st);
  p = writeHead(out, writeRaw(out, p, KEY_TS), MAJOR_UINT, h.ts);
  p = writeText(out, writeRaw(out, p, KEY_DEV), h.dev);
  return writeHead(out, writeRaw(out, p, KEY_SEQ), MAJOR_UINT, h.seq);
}

/** The protected header bytes alone (what encodeEnvelopeProtected returns, for validated fields). */
export function encodeProtectedHeader(h: ReadingHeader, extras: ProtectedExtras = {}): Uint8Array {
  const out = new Uint8Array(protectedHeaderLength(h, extras));
  writeProtectedHeader(out, 0, h, extras);
  return out;
}

/**
 * The AEAD's aad, Enc_structure ["Encrypt0", protected, h''], with the protected header written
 * inside it: one allocation; `protectedBytes` is a view into `aad`.
 */
export function encodeAadWithProtectedHeader(
  h: ReadingHeader,
  extras: ProtectedExtras = {},
): { aad: Uint8Array; protectedBytes: Uint8Array } {
  const protectedLength = protectedHeaderLength(h, extras);
  const aad = new Uint8Array(ENC_STRUCTURE_HEAD.length + headLength(protectedLength) + protectedLength + 1);
  const start = writeHead(aad, writeRaw(aad, 0, ENC_STRUCTURE_HEAD), MAJOR_BYTES, protectedLength);
  const end = writeProtectedHeader(aad, start, h, extras);
  aad[end] = EMPTY_BSTR;
  return { aad, protectedBytes: aad.subarray(start, end) };
}

/** Enc_structure ["Encrypt0", protectedBytes, h''] for protected bytes as received (the open path). */
export function encStructureOf(protectedBytes: Uint8Array): Uint8Array {
  const aad = new Uint8Array(ENC_STRUCTURE_HEAD.length + bytesLength(protectedBytes) + 1);
  const end = writeBytes(aad, writeRaw(aad, 0, ENC_STRUCTURE_HEAD), protectedBytes);
  aad[end] = EMPTY_BSTR;
  return aad;
}

/** The tagged COSE_Encrypt0 [protected, {4: kid, -4: ek}, ciphertext] in one allocation. */
export function writeEnvelope(protectedBytes: Uint8Array, kid: Uint8Array, enc: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const length =
    ENCRYPT0_HEAD.length +
    bytesLength(protectedBytes) +
    1 +
    KID_LABEL.length +
    bytesLength(kid) +
    EK_LABEL.length +
    bytesLength(enc) +
    bytesLength(ciphertext);
  const out = new Uint8Array(length);
  let p = writeBytes(out, writeRaw(out, 0, ENCRYPT0_HEAD), protectedBytes);
  out[p++] = UNPROTECTED_MAP_HEAD;
  p = writeBytes(out, writeRaw(out, p, KID_LABEL), kid);
  p = writeBytes(out, writeRaw(out, p, EK_LABEL), enc);
  writeBytes(out, p, ciphertext);
  return out;
}

/**
 * RFC 9180 §4 LabeledExtract / LabeledExpand and the suite identifiers of the one
 * suite vitalseal uses: KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001
 * HKDF-SHA256, AEAD 0x0003 ChaCha20Poly1305.
 *
 * The functions are written against a bare HMAC-SHA256 so both backends share them;
 * the `…Message` helpers return the exact HMAC input so hot paths can precompute it.
 */
import { concatBytes } from '../bytes.ts';
import { fail } from '../errors.ts';

/** HMAC-SHA256(key, data): the only hash primitive HKDF-SHA256 needs. */
export type HmacSha256 = (key: Uint8Array, data: Uint8Array) => Uint8Array;

export const KEM_ID = 0x0020;
export const KDF_ID = 0x0001;
export const AEAD_ID = 0x0003;

/** Nh (HKDF-SHA256 output), Nk / Nn (ChaCha20Poly1305 key / nonce), Nt (tag), Npk = Nsk = Ndh (X25519). */
export const HASH_LENGTH = 32;
export const AEAD_KEY_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 12;
export const AEAD_TAG_LENGTH = 16;
export const X25519_KEY_LENGTH = 32;

/** Largest L an HKDF-SHA256 Expand can produce: 255 · Nh. */
export const MAX_EXPAND_LENGTH = 255 * HASH_LENGTH;

const ascii = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
};

const HPKE_VERSION = ascii('HPKE-v1');

/** suite_id = "KEM" ‖ I2OSP(kem_id, 2), used inside the KEM. */
export const KEM_SUITE_ID = Uint8Array.of(...ascii('KEM'), KEM_ID >> 8, KEM_ID & 0xff);

/** suite_id = "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2), used by the key schedule. */
export const HPKE_SUITE_ID = Uint8Array.of(
  ...ascii('HPKE'),
  KEM_ID >> 8,
  KEM_ID & 0xff,
  KDF_ID >> 8,
  KDF_ID & 0xff,
  AEAD_ID >> 8,
  AEAD_ID & 0xff,
);

const EMPTY = new Uint8Array(0);

/** labeled_ikm = "HPKE-v1" ‖ suite_id ‖ label ‖ ikm (the HMAC message of LabeledExtract). */
export function labeledIkmMessage(suiteId: Uint8Array, label: string, ikm: Uint8Array = EMPTY): Uint8Array {
  return concatBytes(HPKE_VERSION, suiteId, ascii(label), ikm);
}

/** labeled_info = I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info. */
export function labeledInfo(suiteId: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return concatBytes(Uint8Array.of(length >> 8, length & 0xff), HPKE_VERSION, suiteId, ascii(label), info);
}

/** The single HMAC message of an Expand whose output fits in one block: labeled_info ‖ 0x01. */
export function singleBlockExpandMessage(suiteId: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  if (length > HASH_LENGTH) throw new RangeError('single-block expand only');
  return concatBytes(labeledInfo(suiteId, label, info, length), Uint8Array.of(1));
}

/** RFC 9180 LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, labeled_ikm). */
export function labeledExtract(hmac: HmacSha256, suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hmac(salt, labeledIkmMessage(suiteId, label, ikm));
}

/** RFC 5869 HKDF-Expand for HMAC-SHA256. */
export function hkdfExpand(hmac: HmacSha256, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_EXPAND_LENGTH) fail('HPKE_EXPORT_TOO_LONG');
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const block = new Uint8Array(HASH_LENGTH + info.length + 1);
  block.set(info, HASH_LENGTH);
  let previous: Uint8Array = EMPTY;
  for (let counter = 1, off = 0; off < length; counter++) {
    // T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i); T(0) is empty, so the first message skips the first Nh bytes.
    block.set(previous, 0);
    block[block.length - 1] = counter;
    previous = hmac(prk, counter === 1 ? block.subarray(HASH_LENGTH) : block);
    const take = Math.min(HASH_LENGTH, length - off);
    out.set(take === HASH_LENGTH ? previous : previous.subarray(0, take), off);
    off += take;
  }
  return out;
}

/** RFC 9180 LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, labeled_info, L). */
export function labeledExpand(
  hmac: HmacSha256,
  suiteId: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_EXPAND_LENGTH) fail('HPKE_EXPORT_TOO_LONG');
  return hkdfExpand(hmac, prk, labeledInfo(suiteId, label, info, length), length);
}

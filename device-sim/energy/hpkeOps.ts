/**
 * What sealing one reading asks of a microcontroller, counted from the exact byte
 * lengths of RFC 9180 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305,
 * base mode, info = "") as protocol/hpke implements it, i.e. as a firmware port would:
 * psk_id_hash, info_hash and the labeled-info messages are constants (precomputed),
 * exporter_secret is never derived for a reading.
 *
 * Per reading (single-shot): 2 X25519 (ephemeral key generation + DH), 5 HMAC-SHA256
 * (eae_prk, shared_secret, secret, key, base_nonce), one ChaCha20-Poly1305 seal.
 * Session mode: the AEAD seal only, plus the setup once per session.
 */
export interface PrimitiveOps {
  readonly x25519: number;
  readonly sha256Blocks: number;
  /** ChaCha20 keystream bytes (whole 64-byte blocks, including the Poly1305 key block). */
  readonly chacha20Bytes: number;
  /** Bytes Poly1305 absorbs (padded AAD, padded ciphertext, length block). */
  readonly poly1305Bytes: number;
}

const HASH = 32;
const BLOCK = 64;

/** SHA-256 compressions for a message of n bytes (padding: 0x80 and an 8-byte length). */
export const sha256Blocks = (n: number): number => Math.ceil((n + 9) / BLOCK);

/** HMAC-SHA256 with a key of ≤ 64 bytes over n bytes: inner hash over ipad‖msg, outer over opad‖inner. */
export const hmacBlocks = (n: number): number => sha256Blocks(BLOCK + n) + sha256Blocks(BLOCK + HASH);

const VERSION = 7; // "HPKE-v1"
const KEM_SUITE = 5; // "KEM" ‖ kem_id
const HPKE_SUITE = 10; // "HPKE" ‖ kem_id ‖ kdf_id ‖ aead_id
const extractMsg = (suite: number, label: string, ikm: number): number => VERSION + suite + label.length + ikm;
/** LabeledExpand for L ≤ 32: one HMAC over labeled_info ‖ 0x01. */
const expandMsg = (suite: number, label: string, info: number): number => 2 + VERSION + suite + label.length + info + 1;

/** The key schedule of one HPKE context (encap + key schedule), in SHA-256 blocks. */
export function setupSha256Blocks(): number {
  const kemContext = 2 * 32; // enc ‖ pkR
  const ctx = 1 + 2 * HASH; // mode ‖ psk_id_hash ‖ info_hash
  return (
    hmacBlocks(extractMsg(KEM_SUITE, 'eae_prk', 32)) +
    hmacBlocks(expandMsg(KEM_SUITE, 'shared_secret', kemContext)) +
    hmacBlocks(extractMsg(HPKE_SUITE, 'secret', 0)) +
    hmacBlocks(expandMsg(HPKE_SUITE, 'key', ctx)) +
    hmacBlocks(expandMsg(HPKE_SUITE, 'base_nonce', ctx))
  );
}

const pad16 = (n: number): number => Math.ceil(n / 16) * 16;

/** RFC 8439 AEAD seal of `plaintext` bytes with `aad` bytes. */
export function aeadOps(plaintext: number, aad: number): Pick<PrimitiveOps, 'chacha20Bytes' | 'poly1305Bytes'> {
  return { chacha20Bytes: BLOCK + Math.ceil(plaintext / BLOCK) * BLOCK, poly1305Bytes: pad16(aad) + pad16(plaintext + 0) + 16 };
}

/** One reading sealed single-shot (fresh ephemeral key). */
export function perReadingOps(plaintext: number, aad: number): PrimitiveOps {
  return { x25519: 2, sha256Blocks: setupSha256Blocks(), ...aeadOps(plaintext, aad) };
}

/** One reading in session mode, with the session's setup spread over `readingsPerSession`. */
export function sessionOps(plaintext: number, aad: number, readingsPerSession: number): PrimitiveOps {
  const n = Math.max(1, readingsPerSession);
  return { x25519: 2 / n, sha256Blocks: setupSha256Blocks() / n, ...aeadOps(plaintext, aad) };
}

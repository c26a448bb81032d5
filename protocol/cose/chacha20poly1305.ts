import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expectLength } from '../bytes.ts';
import { fail } from '../errors.ts';

export const CHACHA_KEY_BYTES = 32;
export const CHACHA_NONCE_BYTES = 12;
export const CHACHA_TAG_BYTES = 16;

/** COSE alg 24 (RFC 9053 §4.3): ChaCha20/Poly1305 with a 256-bit key, 96-bit nonce and 128-bit tag. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  expectLength(key, CHACHA_KEY_BYTES);
  expectLength(nonce, CHACHA_NONCE_BYTES);
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

export function chachaOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  expectLength(key, CHACHA_KEY_BYTES);
  expectLength(nonce, CHACHA_NONCE_BYTES);
  if (ciphertext.length < CHACHA_TAG_BYTES) fail('COSE_DECRYPT_FAILED', 'ciphertext is shorter than the tag');
  try {
    return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch (e) {
    return fail('COSE_DECRYPT_FAILED', undefined, e);
  }
}

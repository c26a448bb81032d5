/** HPKE primitives on @noble (pure JS): what a firmware port looks like. */
import { x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fail } from '../errors.ts';
import type { HpkePrimitives } from './primitives.ts';
import { AEAD_TAG_LENGTH } from './labeled.ts';

export const noblePrimitives: HpkePrimitives<Uint8Array, Uint8Array> = {
  name: 'noble',
  // Private copies (also of a Buffer, whose slice() is a view), so a caller mutating its array later cannot change a cached key.
  importSecretKey: (secretKey) => new Uint8Array(secretKey),
  importPublicKey: (publicKey) => new Uint8Array(publicKey),
  publicKey: (secretKey) => x25519.getPublicKey(secretKey),
  dh(secretKey, publicKey) {
    try {
      // noble rejects the low-order u coordinates (exactly those giving the all-zero output) before the ladder.
      return x25519.getSharedSecret(secretKey, publicKey);
    } catch (cause) {
      return fail('HPKE_DH_ALL_ZERO', undefined, cause);
    }
  },
  hmacSha256: (key, data) => hmac(sha256, key, data),
  sha256: (data) => sha256(data),
  aeadSeal: (key, nonce, aad, plaintext) => chacha20poly1305(key, nonce, aad).encrypt(plaintext),
  aeadOpen(key, nonce, aad, ciphertext) {
    if (ciphertext.length < AEAD_TAG_LENGTH) fail('HPKE_OPEN_FAILED');
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(ciphertext);
    } catch {
      return fail('HPKE_OPEN_FAILED');
    }
  },
};

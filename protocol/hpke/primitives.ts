/**
 * The few primitives a backend supplies; the RFC 9180 logic (KEM, key schedule,
 * contexts) is written once on top of them in `hpke.ts`.
 *
 * `SecretKeyHandle` is the backend's own form of an imported X25519 secret key
 * (the bytes for noble, a KeyObject for node), so a secret is imported once and
 * used for both its public key and a DH.
 */
import type { HpkeBackendName } from './types.ts';
import type { HmacSha256 } from './labeled.ts';

export interface HpkePrimitives<SecretKeyHandle> {
  readonly name: HpkeBackendName;
  /** Imports a 32-byte X25519 secret key (length already checked by the caller). */
  importSecretKey(secretKey: Uint8Array): SecretKeyHandle;
  /** SerializePublicKey(pk(sk)). */
  publicKey(secretKey: SecretKeyHandle): Uint8Array;
  /**
   * Raw X25519(sk, pk) (32-byte pk, length already checked). Throws
   * `HPKE_DH_ALL_ZERO` when the result would be the all-zero value (low-order pk).
   */
  dh(secretKey: SecretKeyHandle, publicKey: Uint8Array): Uint8Array;
  hmacSha256: HmacSha256;
  /** ChaCha20-Poly1305 seal: ciphertext ‖ 16-byte tag (key and nonce lengths already checked). */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 open; throws `HPKE_OPEN_FAILED` on any failure. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

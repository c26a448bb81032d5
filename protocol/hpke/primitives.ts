/**
 * The few primitives a backend supplies; the RFC 9180 logic (KEM, key schedule,
 * contexts) is written once on top of them in `hpke.ts`.
 *
 * Keys are imported into the backend's own form once (`SecretKeyHandle`: the bytes
 * for noble, a KeyObject for node; likewise `PublicKeyHandle`), so a secret is
 * imported once for both its public key and a DH, and a long-term public key (the
 * recipient's pkR, an auth sender's pkS) once for all the messages that use it.
 */
import type { HpkeBackendName } from './types.ts';
import type { HmacSha256 } from './labeled.ts';

/** What contexts need: the AEAD and HMAC. */
export interface SymmetricPrimitives {
  /**
   * HMAC-SHA256. The result may be a Uint8Array subclass (node: Buffer); the shared
   * code copies it into a plain Uint8Array before handing it out.
   */
  readonly hmacSha256: HmacSha256;
  /** ChaCha20-Poly1305 seal: ciphertext ‖ 16-byte tag, as a plain Uint8Array (key and nonce lengths already checked). */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 open to a plain Uint8Array; throws `HPKE_OPEN_FAILED` on any failure. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export interface HpkePrimitives<SecretKeyHandle, PublicKeyHandle> extends SymmetricPrimitives {
  readonly name: HpkeBackendName;
  /** Imports a 32-byte X25519 secret key (length already checked by the caller). */
  importSecretKey(secretKey: Uint8Array): SecretKeyHandle;
  /** SerializePublicKey(pk(sk)) as a plain Uint8Array. */
  publicKey(secretKey: SecretKeyHandle): Uint8Array;
  /** DeserializePublicKey: any 32 bytes (length already checked); throws `HPKE_BAD_PUBLIC_KEY` if the backend refuses them. */
  importPublicKey(publicKey: Uint8Array): PublicKeyHandle;
  /**
   * Raw X25519(sk, pk); the result may be a Uint8Array subclass. Throws
   * `HPKE_DH_ALL_ZERO` when the result would be the all-zero value (low-order pk).
   */
  dh(secretKey: SecretKeyHandle, publicKey: PublicKeyHandle): Uint8Array;
  /** SHA-256 as a plain 32-byte Uint8Array: not part of HPKE, the backend's hash for record ids (openReading). */
  sha256(data: Uint8Array): Uint8Array;
}

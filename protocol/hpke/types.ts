import type { Rng } from '../rng.ts';

/**
 * RFC 9180 HPKE for exactly one suite:
 * KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0003 ChaCha20Poly1305.
 * Two interchangeable backends implement it; for the same injected randomness they
 * produce byte-identical output.
 */
export type HpkeBackendName = 'noble' | 'node';

/** RFC 9180 mode identifiers vitalseal supports (no PSK modes). */
export const HPKE_MODE_BASE = 0x00;
export const HPKE_MODE_AUTH = 0x02;
export type HpkeMode = typeof HPKE_MODE_BASE | typeof HPKE_MODE_AUTH;

export interface X25519KeyPair {
  /** 32-byte X25519 secret scalar (as serialized by SerializePrivateKey). */
  readonly secretKey: Uint8Array;
  /** 32-byte X25519 public key (SerializePublicKey). */
  readonly publicKey: Uint8Array;
}

/** Sender side of an HPKE context (RFC 9180 §5.2); `seq` is the next sequence number. */
export interface SenderContext {
  /** Encapsulated key (32 bytes) to send to the recipient. */
  readonly enc: Uint8Array;
  readonly seq: bigint;
  seal(plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  export(exporterContext: Uint8Array, length: number): Uint8Array;
}

/** Recipient side of an HPKE context (RFC 9180 §5.2). */
export interface RecipientContext {
  readonly seq: bigint;
  open(ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Open the message sealed at sequence number `seq`, without moving this context's own `seq` (session mode, out-of-order delivery). */
  openAt(seq: bigint, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array;
  export(exporterContext: Uint8Array, length: number): Uint8Array;
}

/** The key schedule's outputs, exposed for vectors and for research disclosure (key + base_nonce of one reading). */
export interface KeySchedule {
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

/**
 * How the sender's ephemeral key is chosen:
 * - `{ rng }`: GenerateKeyPair, skE = rng(32) (the normal path),
 * - `{ ikmE }`: DeriveKeyPair(ikmE) (RFC 9180 test vectors),
 * - `{ ephemeral }`: an already known pair (tests).
 */
export type EphemeralSource = { readonly rng: Rng } | { readonly ikmE: Uint8Array } | { readonly ephemeral: X25519KeyPair };

export interface Hpke {
  readonly backend: HpkeBackendName;
  /** RFC 9180 §7.1.3 DeriveKeyPair for DHKEM(X25519, HKDF-SHA256). */
  deriveKeyPair(ikm: Uint8Array): X25519KeyPair;
  /** GenerateKeyPair: secret = rng(32) (any 32 bytes are a valid X25519 secret; clamping happens in X25519). */
  generateKeyPair(rng: Rng): X25519KeyPair;
  /** Public key of a secret key. */
  publicKeyOf(secretKey: Uint8Array): Uint8Array;

  setupBaseS(pkR: Uint8Array, info: Uint8Array, eph: EphemeralSource): SenderContext;
  setupBaseR(enc: Uint8Array, skR: Uint8Array, info: Uint8Array): RecipientContext;
  setupAuthS(pkR: Uint8Array, info: Uint8Array, skS: Uint8Array, eph: EphemeralSource): SenderContext;
  setupAuthR(enc: Uint8Array, skR: Uint8Array, info: Uint8Array, pkS: Uint8Array): RecipientContext;

  /** Single-shot base-mode Seal (RFC 9180 §6.1). */
  seal(
    pkR: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    eph: EphemeralSource,
  ): { enc: Uint8Array; ciphertext: Uint8Array };
  /** Single-shot base-mode Open (RFC 9180 §6.1). */
  open(enc: Uint8Array, skR: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** Single-shot auth-mode Seal (RFC 9180 §6.1, mode 2): the sender authenticates with `skS`. */
  sealAuth(
    pkR: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    skS: Uint8Array,
    eph: EphemeralSource,
  ): { enc: Uint8Array; ciphertext: Uint8Array };
  /** Single-shot auth-mode Open (RFC 9180 §6.1, mode 2): succeeds only if sealed with the secret key of `pkS`. */
  openAuth(enc: Uint8Array, skR: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, pkS: Uint8Array): Uint8Array;

  /**
   * Recipient-side key schedule, for disclosing one message's AEAD key and nonce
   * (base mode; auth mode when the sender's `pkS` is given).
   */
  keyScheduleR(enc: Uint8Array, skR: Uint8Array, info: Uint8Array, pkS?: Uint8Array): KeySchedule;
  /** SHA-256 on this backend (not HPKE: the record id openReading returns is SHA-256 of the envelope). */
  sha256(data: Uint8Array): Uint8Array;
  /** Decrypt one message given only the disclosed AEAD key and nonce (research disclosure). */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

/**
 * The ONE place for COSE code points used by vitalseal.
 *
 * FINAL (IANA COSE registries, RFC 9052 / RFC 9053):
 *   CBOR tags 16 COSE_Encrypt0, 18 COSE_Sign1, 96 COSE_Encrypt;
 *   header labels 1 alg, 4 kid, 5 IV; algorithms 24 ChaCha20/Poly1305,
 *   -8 EdDSA, -6 direct; COSE_Key labels 1 kty, 2 kid, 3 alg, -1 crv, -2 x;
 *   kty 1 OKP; crv 4 X25519, 6 Ed25519.
 *
 * TENTATIVE (draft-ietf-cose-hpke, not yet registered; may change before the RFC):
 *   alg 42 HPKE-4 = DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305
 *   (integrated encryption, COSE_Encrypt0);
 *   header label -4 ek (encapsulated key), -5 psk_id.
 * If the registry assigns other values, change them here and regenerate the
 * vitalseal vectors: every other file refers to these names.
 */

export const COSE_TAG = {
  Encrypt0: 16,
  Sign1: 18,
  Encrypt: 96,
} as const;

export const HEADER = {
  alg: 1,
  kid: 4,
  iv: 5,
  /** tentative (draft-ietf-cose-hpke) */
  ek: -4,
  /** tentative (draft-ietf-cose-hpke) */
  pskId: -5,
} as const;

export const ALG = {
  /** ChaCha20/Poly1305, 256-bit key, 128-bit tag (RFC 9053 §4.3). */
  ChaCha20Poly1305: 24,
  /** EdDSA (here always Ed25519), RFC 9053 §2.2. */
  EdDSA: -8,
  /** Direct use of a shared CEK (recipient algorithm), RFC 9053 §6.1. */
  Direct: -6,
  /** tentative: HPKE-4 (X25519 / HKDF-SHA256 / ChaCha20Poly1305), draft-ietf-cose-hpke. */
  HPKE4: 42,
} as const;

export const COSE_KEY = {
  kty: 1,
  kid: 2,
  alg: 3,
  crv: -1,
  x: -2,
} as const;

export const KTY = { OKP: 1 } as const;

export const CRV = { X25519: 4, Ed25519: 6 } as const;

/** Context strings of the Enc_structure (RFC 9052 §5.3) and Sig_structure (§4.4). */
export const CONTEXT = {
  Encrypt0: 'Encrypt0',
  Encrypt: 'Encrypt',
  Signature1: 'Signature1',
} as const;

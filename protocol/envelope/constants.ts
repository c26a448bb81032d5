/** Reading envelope v1 (docs/PROTOCOL.md §5): sizes and field names. */

/** Largest envelope a device may send and the agent accepts (an ECG block of 250 float64 samples is ~2.4 KiB). */
export const ENVELOPE_MAX_BYTES = 4096;

export const KID_BYTES = 16;
/** HPKE encapsulated key of DHKEM(X25519): the ephemeral public key. */
export const ENC_BYTES = 32;
/** ChaCha20Poly1305 tag: the shortest possible ciphertext. */
export const AEAD_TAG_BYTES = 16;

/** HPKE `info` of every reading envelope: empty, as draft-ietf-cose-hpke integrated encryption. */
export const ENVELOPE_HPKE_INFO = new Uint8Array(0);

/** Text labels of the protected header next to alg (1). `hs` exists only in session mode. */
export const ENVELOPE_FIELD = {
  dev: 'dev',
  seq: 'seq',
  ts: 'ts',
  st: 'st',
  /** session mode: RFC 9180 sequence number of the message in the session's HPKE context */
  hs: 'hs',
  /** HPKE mode: present (= 2, mode_auth) only in Auth mode; absent means base mode (docs/PROTOCOL.md §5.2) */
  m: 'm',
} as const;

/** The value of the protected "m" label: RFC 9180 mode_auth. */
export const ENVELOPE_MODE_AUTH = 0x02;

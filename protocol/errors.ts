/**
 * Every failure vitalseal reports carries a stable `code` from this one table.
 * Messages are short and never contain key material, secrets or plaintext readings.
 * Add a code here (in its section) rather than throwing a bare Error.
 */
export const ERROR_CODES = {
  // --- bytes / generic input
  INPUT_BAD_HEX: 'a hex string is malformed',
  INPUT_BAD_LENGTH: 'a byte string has the wrong length',

  // --- CBOR (strict decoding)
  CBOR_TOO_LARGE: 'CBOR input exceeds the size limit',
  CBOR_TOO_DEEP: 'CBOR nesting exceeds the depth limit',
  CBOR_TOO_MANY_ITEMS: 'a CBOR array/map/string exceeds the length limit',
  CBOR_MALFORMED: 'input is not well-formed CBOR',
  CBOR_TRAILING_BYTES: 'bytes follow the CBOR item',
  CBOR_UNSUPPORTED: 'CBOR uses a feature vitalseal refuses (indefinite length, unknown tag, ...)',

  // --- HPKE (RFC 9180)
  HPKE_BAD_PUBLIC_KEY: 'an X25519 public key is malformed',
  HPKE_BAD_SECRET_KEY: 'an X25519 secret key is malformed',
  HPKE_DH_ALL_ZERO: 'X25519 produced the all-zero shared secret (low-order point)',
  HPKE_OPEN_FAILED: 'HPKE decryption failed (wrong key, tampered ciphertext or AAD)',
  HPKE_SEQ_OVERFLOW: 'HPKE context sequence number exhausted',
  HPKE_EXPORT_TOO_LONG: 'HPKE export length too large',
  HPKE_DERIVE_FAILED: 'DeriveKeyPair failed',
  HPKE_BAD_MODE: 'unsupported HPKE mode or suite',

  // --- keys and key files
  KEY_BAD_PATIENT_ID: 'patient id is empty or too long',
  KEY_FILE_MALFORMED: 'key file is not valid JSON of the expected shape',
  KEY_FILE_BAD_VERSION: 'key file version is not supported',
  KEY_FILE_KID_MISMATCH: 'key file kid does not match its public key',

  // --- COSE
  COSE_BAD_STRUCTURE: 'COSE message does not have the expected structure',
  COSE_BAD_TAG: 'COSE message carries an unexpected CBOR tag',
  COSE_UNKNOWN_ALG: 'COSE algorithm is not supported',
  COSE_BAD_HEADER: 'COSE header is missing a field or has a wrong type',
  COSE_DECRYPT_FAILED: 'COSE decryption failed',
  COSE_BAD_SIGNATURE: 'COSE signature does not verify',
  COSE_BAD_KEY: 'COSE_Key is not the expected key type (X25519 OKP for HPKE-4)',

  // --- reading envelope (HPKE COSE_Encrypt0)
  ENVELOPE_TOO_LARGE: 'envelope exceeds the size limit',
  ENVELOPE_NOT_CBOR: 'envelope is not CBOR',
  ENVELOPE_BAD_TAG: 'envelope is not a COSE_Encrypt0 (tag 16 or untagged)',
  ENVELOPE_BAD_STRUCTURE: 'envelope is not a 3-element COSE_Encrypt0 array',
  ENVELOPE_UNKNOWN_ALG: 'envelope algorithm is not HPKE-4',
  ENVELOPE_BAD_HEADER: 'envelope header is missing a field or has a wrong type',
  ENVELOPE_DECRYPT_FAILED: 'envelope does not decrypt with this key',
  READING_INVALID: 'decrypted reading is not a valid reading map',

  // --- session tickets
  TICKET_MALFORMED: 'ticket is not a valid COSE_Sign1 ticket',
  TICKET_BAD_SIGNATURE: 'ticket signature does not verify against the pinned authority key',
  TICKET_WRONG_DEVICE: 'ticket is for another device',
  TICKET_EXPIRED: 'ticket has expired',
  TICKET_NOT_YET_VALID: 'ticket is not valid yet',

  // --- Merkle log and proofs (RFC 6962)
  PROOF_MISMATCH: 'proof does not lead to the expected root',
  PROOF_BAD_INDEX: 'leaf index is not inside the tree',
  PROOF_BAD_SIZE: 'tree sizes are invalid for this proof',
  PROOF_WRONG_LENGTH: 'proof has the wrong number of hashes',
  PROOF_BAD_HASH: 'a hash in the proof or root has the wrong length',
  TREE_HEAD_MALFORMED: 'signed tree head is not a valid COSE_Sign1 tree head',
  LOG_INDEX_OUT_OF_RANGE: 'log index or size outside the log',
  LOG_STORE_MISSING_NODE: 'the log node store lacks a hash it must hold (store corrupt or truncated)',

  // --- serial framing (COBS + CRC-32)
  FRAME_BAD_COBS: 'frame is not valid COBS',
  FRAME_BAD_CRC: 'frame CRC-32 does not match',
  FRAME_OVERSIZE: 'frame exceeds the size limit',
  FRAME_TOO_SHORT: 'frame is shorter than type + CRC',
  FRAME_UNKNOWN_TYPE: 'frame type byte is unknown',
  FRAME_BAD_BODY: 'frame body is not valid for its type',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Base of every typed error in vitalseal (protocol, agent, chain, simulator): a stable `code`
 * from the layer's code table, and a short, secret-free message (the table's text by default).
 */
export class CodedError<C extends string> extends Error {
  readonly code: C;
  constructor(code: C, table: Readonly<Record<C, string>>, message?: string, options?: { cause?: unknown }) {
    super(message ?? table[code], options);
    this.code = code;
  }
}

/** The protocol library's error: `code` is one of ERROR_CODES. */
export class VitalsealError extends CodedError<ErrorCode> {
  override readonly name = 'VitalsealError';
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, ERROR_CODES, message, options);
  }
}

export function isVitalsealError(e: unknown, code?: ErrorCode): e is VitalsealError {
  return e instanceof VitalsealError && (code === undefined || e.code === code);
}

/** Throws a typed error; reads well at call sites: `fail('TICKET_EXPIRED')`. */
export function fail(code: ErrorCode, message?: string, cause?: unknown): never {
  throw new VitalsealError(code, message, cause === undefined ? undefined : { cause });
}

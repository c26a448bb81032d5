import { sha256 } from '@noble/hashes/sha2.js';
import type { CborLimits } from '../cbor/index.ts';
import { decodeEncrypt0 } from '../cose/index.ts';
import { fail, isVitalsealError, type ErrorCode } from '../errors.ts';
import { AEAD_TAG_BYTES, ENVELOPE_MAX_BYTES } from './constants.ts';
import { tryDecodeCanonicalEnvelope, tryDecodeCanonicalHeader } from './fastHeader.ts';
import { parseEnvelopeProtected, parseEnvelopeUnprotected, type EnvelopeHeader } from './header.ts';

/** Everything about an envelope that needs no key: what the edge agent validates, stores and indexes. */
export interface DecodedEnvelope {
  /** Protected header bytes as received (they are the AEAD's authenticated data). */
  readonly protectedBytes: Uint8Array;
  readonly header: EnvelopeHeader;
  /** Recipient key id (first 16 bytes of SHA-256 of the patient's temporary public key). */
  readonly kid: Uint8Array;
  /** HPKE encapsulated key (`ek`). */
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** SHA-256 of the envelope bytes exactly as received: the dedup key and the record's name. */
  readonly recordId: Uint8Array;
}

/** How lower-layer codes map to envelope codes (the agent's stable quarantine reasons). */
const ENVELOPE_CODE_OF: Partial<Record<ErrorCode, ErrorCode>> = {
  CBOR_TOO_LARGE: 'ENVELOPE_TOO_LARGE',
  CBOR_MALFORMED: 'ENVELOPE_NOT_CBOR',
  CBOR_TRAILING_BYTES: 'ENVELOPE_NOT_CBOR',
  CBOR_TOO_DEEP: 'ENVELOPE_BAD_STRUCTURE',
  CBOR_TOO_MANY_ITEMS: 'ENVELOPE_BAD_STRUCTURE',
  CBOR_UNSUPPORTED: 'ENVELOPE_BAD_STRUCTURE',
  COSE_BAD_TAG: 'ENVELOPE_BAD_TAG',
  COSE_BAD_STRUCTURE: 'ENVELOPE_BAD_STRUCTURE',
  COSE_BAD_HEADER: 'ENVELOPE_BAD_HEADER',
};

/**
 * Strict, key-less decode of a reading envelope (COSE_Encrypt0, tag 16 or
 * untagged). Errors: ENVELOPE_TOO_LARGE, ENVELOPE_NOT_CBOR, ENVELOPE_BAD_TAG,
 * ENVELOPE_BAD_STRUCTURE, ENVELOPE_UNKNOWN_ALG, ENVELOPE_BAD_HEADER.
 */
export function decodeEnvelope(bytes: Uint8Array, limits: Partial<CborLimits> = {}): DecodedEnvelope {
  if (!(bytes instanceof Uint8Array)) fail('ENVELOPE_NOT_CBOR', 'envelope is not a byte array');
  const maxBytes = limits.maxBytes ?? ENVELOPE_MAX_BYTES;
  if (bytes.length > maxBytes) fail('ENVELOPE_TOO_LARGE');
  let message: ReturnType<typeof decodeEncrypt0>;
  try {
    message = decodeEncrypt0(bytes, { limits: { ...limits, maxBytes } });
  } catch (e) {
    const code = isVitalsealError(e) ? ENVELOPE_CODE_OF[e.code] : undefined;
    if (code !== undefined) fail(code, undefined, e);
    throw e;
  }
  const header = parseEnvelopeProtected(message.protected);
  const { kid, enc } = parseEnvelopeUnprotected(message.unprotected);
  if (message.ciphertext.length < AEAD_TAG_BYTES) fail('ENVELOPE_BAD_STRUCTURE', 'ciphertext is shorter than the AEAD tag');
  return { protectedBytes: message.protectedBytes, header, kid, enc, ciphertext: message.ciphertext, recordId: sha256(bytes) };
}

/**
 * Key-less view for the ingest hot path: the canonical fast path, else the strict decoder; recordId = hash(bytes).
 * Same result as decodeEnvelope(bytes, { maxBytes }) for every input, and the same error code when it fails
 * (the fast path only accepts bytes the strict decoder accepts with deep-equal fields). `sha256` (default: noble's)
 * names the record on the fast path; a fallback result carries decodeEnvelope's own recordId.
 */
export function decodeEnvelopeView(
  bytes: Uint8Array,
  options: { maxBytes?: number; sha256?: (b: Uint8Array) => Uint8Array } = {},
): DecodedEnvelope {
  const { maxBytes } = options;
  const view = tryDecodeCanonicalEnvelope(bytes, maxBytes);
  if (view === null) return decodeEnvelope(bytes, maxBytes === undefined ? {} : { maxBytes });
  const hash = options.sha256 ?? sha256;
  return {
    protectedBytes: view.protectedBytes,
    header: view.header,
    kid: view.kid,
    enc: view.enc,
    ciphertext: view.ciphertext,
    recordId: hash(bytes),
  };
}

/** What the edge agent judges a reading by: header, kid and record id (no ciphertext, no key). */
export interface EnvelopeHeaderView {
  readonly header: EnvelopeHeader;
  /** On the canonical fast path a view into the input bytes, else decodeEnvelope's own copy. */
  readonly kid: Uint8Array;
  readonly recordId: Uint8Array;
}

/**
 * decodeEnvelopeView reduced to header, kid and recordId: the same bytes accepted, the same error
 * codes, equal fields — without copying ciphertext, ek and protected bytes on the fast path.
 */
export function decodeEnvelopeHeaderView(
  bytes: Uint8Array,
  options: { maxBytes?: number; sha256?: (b: Uint8Array) => Uint8Array } = {},
): EnvelopeHeaderView {
  const { maxBytes } = options;
  const view = tryDecodeCanonicalHeader(bytes, maxBytes);
  if (view === null) {
    const full = decodeEnvelope(bytes, maxBytes === undefined ? {} : { maxBytes });
    return { header: full.header, kid: full.kid, recordId: full.recordId };
  }
  return { header: view.header, kid: view.kid, recordId: (options.sha256 ?? sha256)(bytes) };
}

import { sha256 } from '@noble/hashes/sha2.js';
import type { CborLimits } from '../cbor/index.ts';
import type { Hpke } from '../hpke/types.ts';
import { envelopeAad } from './aad.ts';
import { readingOfPlaintext } from './assemble.ts';
import { ENVELOPE_HPKE_INFO, ENVELOPE_MAX_BYTES } from './constants.ts';
import { decodeEnvelope, type DecodedEnvelope } from './decode.ts';
import { orDecryptFailed } from './decryptFailed.ts';
import { tryReadCanonicalEnvelope } from './fastHeader.ts';
import type { EnvelopeHeader } from './header.ts';
import type { Reading } from './reading.ts';

export interface OpenedReading {
  readonly header: EnvelopeHeader;
  readonly reading: Reading;
  readonly recordId: Uint8Array;
}

export interface OpenReadingOptions {
  /** The patient's temporary X25519 secret key. */
  readonly secretKey: Uint8Array;
  readonly hpke: Hpke;
  readonly limits?: Partial<CborLimits>;
}

/**
 * Decrypts a reading envelope (single-shot or session mode) and checks the
 * plaintext: ENVELOPE_* from decodeEnvelope, ENVELOPE_DECRYPT_FAILED if it does
 * not open with this key, READING_INVALID if the plaintext is not a valid reading
 * or its st/ts differ from the protected header.
 */
export function openReading(bytes: Uint8Array, options: OpenReadingOptions): OpenedReading {
  const envelope = envelopeToOpen(bytes, options.limits);
  const plaintext = orDecryptFailed(() => hpkeOpen(envelope, options.secretKey, options.hpke));
  return { header: envelope.header, reading: readingOfPlaintext(plaintext, envelope.header), recordId: envelope.recordId };
}

/** What opening needs from the envelope: its header, ek, ciphertext, protected bytes, and the record id. */
type EnvelopeToOpen = Pick<DecodedEnvelope, 'header' | 'enc' | 'ciphertext' | 'protectedBytes' | 'recordId'>;

/**
 * decodeEnvelope's result for these bytes and limits: on the canonical layout read in place (views into
 * `bytes`, nothing copied), else the strict decoder — the same bytes accepted, the same error codes.
 */
function envelopeToOpen(bytes: Uint8Array, limits: Partial<CborLimits> | undefined): EnvelopeToOpen {
  const maxBytes = fastPathMaxBytes(limits);
  const view = maxBytes === null ? null : tryReadCanonicalEnvelope(bytes, maxBytes);
  if (view === null) return decodeEnvelope(bytes, limits);
  return { header: view.header, enc: view.enc, ciphertext: view.ciphertext, protectedBytes: view.protectedBytes, recordId: sha256(bytes) };
}

/** The fast path stands in for decodeEnvelope only under its default limits, with at most maxBytes set. */
function fastPathMaxBytes(limits: Partial<CborLimits> | undefined): number | null {
  if (limits === undefined) return ENVELOPE_MAX_BYTES;
  const { maxBytes, ...others } = limits;
  for (const value of Object.values(others)) if (value !== undefined) return null;
  return maxBytes ?? ENVELOPE_MAX_BYTES;
}

function hpkeOpen(envelope: EnvelopeToOpen, secretKey: Uint8Array, hpke: Hpke): Uint8Array {
  const aad = envelopeAad(envelope.protectedBytes);
  const { hs } = envelope.header;
  if (hs === undefined) return hpke.open(envelope.enc, secretKey, ENVELOPE_HPKE_INFO, aad, envelope.ciphertext);
  return hpke.setupBaseR(envelope.enc, secretKey, ENVELOPE_HPKE_INFO).openAt(BigInt(hs), envelope.ciphertext, aad);
}

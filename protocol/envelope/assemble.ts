import { expectLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { ENVELOPE_MAX_BYTES, KID_BYTES } from './constants.ts';
import { writeEnvelope } from './canonicalEnvelope.ts';
import { decodeReading, type Reading } from './reading.ts';
import type { EnvelopeHeader, ReadingHeader } from './header.ts';

/**
 * The tagged COSE_Encrypt0 bytes (written directly: canonicalEnvelope.ts); refuses to produce an
 * envelope the agent would refuse as too large.
 */
export function assembleEnvelope(protectedBytes: Uint8Array, kid: Uint8Array, enc: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const bytes = writeEnvelope(protectedBytes, kid, enc, ciphertext);
  if (bytes.length > ENVELOPE_MAX_BYTES) fail('ENVELOPE_TOO_LARGE');
  return bytes;
}

export function checkRecipientKid(kid: Uint8Array): void {
  expectLength(kid, KID_BYTES);
}

/** The reading must restate the protected header's sensor type and time (READING_INVALID otherwise). */
export function checkReadingMatchesHeader(reading: Reading, header: ReadingHeader): void {
  if (reading.st !== header.st || reading.ts !== header.ts) fail('READING_INVALID', 'reading st/ts differ from the protected header');
}

/** Decodes a decrypted plaintext and checks it against the header it was sealed under. */
export function readingOfPlaintext(plaintext: Uint8Array, header: EnvelopeHeader): Reading {
  const reading = decodeReading(plaintext);
  checkReadingMatchesHeader(reading, header);
  return reading;
}

import type { CborLimits } from '../cbor/index.ts';
import type { Hpke } from '../hpke/types.ts';
import { envelopeAad } from './aad.ts';
import { readingOfPlaintext } from './assemble.ts';
import { ENVELOPE_HPKE_INFO } from './constants.ts';
import { decodeEnvelope, type DecodedEnvelope } from './decode.ts';
import { orDecryptFailed } from './decryptFailed.ts';
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
  const envelope = decodeEnvelope(bytes, options.limits);
  const plaintext = orDecryptFailed(() => hpkeOpen(envelope, options.secretKey, options.hpke));
  return { header: envelope.header, reading: readingOfPlaintext(plaintext, envelope.header), recordId: envelope.recordId };
}

function hpkeOpen(envelope: DecodedEnvelope, secretKey: Uint8Array, hpke: Hpke): Uint8Array {
  const aad = envelopeAad(envelope.protectedBytes);
  const { hs } = envelope.header;
  if (hs === undefined) return hpke.open(envelope.enc, secretKey, ENVELOPE_HPKE_INFO, aad, envelope.ciphertext);
  return hpke.setupBaseR(envelope.enc, secretKey, ENVELOPE_HPKE_INFO).openAt(BigInt(hs), envelope.ciphertext, aad);
}

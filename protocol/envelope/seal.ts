import type { Hpke } from '../hpke/types.ts';
import type { Rng } from '../rng.ts';
import { assembleEnvelope, checkReadingMatchesHeader, checkRecipientKid } from './assemble.ts';
import { ENVELOPE_HPKE_INFO } from './constants.ts';
import { encodeAadWithProtectedHeader } from './canonicalEnvelope.ts';
import { checkReadingHeader, type ReadingHeader } from './header.ts';
import { encodeReading, type Reading } from './reading.ts';

/** The recipient of a reading: the patient's temporary public key from the session ticket. */
export interface ReadingRecipient {
  readonly publicKey: Uint8Array;
  readonly kid: Uint8Array;
}

export interface SealReadingInput {
  readonly reading: Reading;
  readonly header: ReadingHeader;
  readonly recipient: ReadingRecipient;
  readonly hpke: Hpke;
  /** Source of the fresh ephemeral key (32 bytes per reading). */
  readonly rng: Rng;
}

/**
 * Seals one reading as a tagged COSE_Encrypt0 with HPKE-4 integrated encryption:
 * protected {1: 42, dev, seq, ts, st}, unprotected {4: kid, -4: ek},
 * aad = Enc_structure["Encrypt0", protected, h''], HPKE base mode, info = "",
 * single-shot with a fresh ephemeral key, so each reading has its own key
 * (forward secrecy per reading on the device side).
 */
export function sealReading(input: SealReadingInput): Uint8Array {
  const { reading, header, recipient, hpke, rng } = input;
  checkRecipientKid(recipient.kid);
  checkReadingMatchesHeader(reading, header);
  const plaintext = encodeReading(reading);
  checkReadingHeader(header);
  // the protected header is written inside the Enc_structure (one buffer); protectedBytes is a view of it
  const { aad, protectedBytes } = encodeAadWithProtectedHeader(header);
  const { enc, ciphertext } = hpke.seal(recipient.publicKey, ENVELOPE_HPKE_INFO, aad, plaintext, { rng });
  return assembleEnvelope(protectedBytes, recipient.kid, enc, ciphertext);
}

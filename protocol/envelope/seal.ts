import type { Hpke } from '../hpke/types.ts';
import type { Rng } from '../rng.ts';
import { assembleEnvelope, checkReadingMatchesHeader, checkRecipientKid } from './assemble.ts';
import { ENVELOPE_HPKE_INFO } from './constants.ts';
import { encodeAadWithProtectedHeader } from './canonicalEnvelope.ts';
import { checkReadingHeader, type ReadingHeader } from './header.ts';
import { encodeReading, type Reading } from './reading.ts';

const AUTH = { auth: true } as const;

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
  /**
   * The device's X25519 identity secret key (docs/PROTOCOL.md §3.6): seals in HPKE Auth mode
   * (SealAuth, RFC 9180 mode_auth) and the protected header says "m": 2. Absent: base mode.
   */
  readonly senderSecretKey?: Uint8Array;
}

/**
 * Seals one reading as a tagged COSE_Encrypt0 with HPKE-4 integrated encryption:
 * protected {1: 42, dev, seq, ts, st}, unprotected {4: kid, -4: ek},
 * aad = Enc_structure["Encrypt0", protected, h''], HPKE base mode (Auth mode with
 * `senderSecretKey`, and "m": 2 in the protected header), info = "",
 * single-shot with a fresh ephemeral key, so each reading has its own key
 * (forward secrecy per reading on the device side).
 */
export function sealReading(input: SealReadingInput): Uint8Array {
  const { reading, header, recipient, hpke, rng, senderSecretKey } = input;
  checkRecipientKid(recipient.kid);
  checkReadingMatchesHeader(reading, header);
  const plaintext = encodeReading(reading);
  checkReadingHeader(header);
  // the protected header is written inside the Enc_structure (one buffer); protectedBytes is a view of it
  if (senderSecretKey === undefined) {
    const { aad, protectedBytes } = encodeAadWithProtectedHeader(header);
    const { enc, ciphertext } = hpke.seal(recipient.publicKey, ENVELOPE_HPKE_INFO, aad, plaintext, { rng });
    return assembleEnvelope(protectedBytes, recipient.kid, enc, ciphertext);
  }
  const { aad, protectedBytes } = encodeAadWithProtectedHeader(header, AUTH);
  const { enc, ciphertext } = hpke.sealAuth(recipient.publicKey, ENVELOPE_HPKE_INFO, aad, plaintext, senderSecretKey, { rng });
  return assembleEnvelope(protectedBytes, recipient.kid, enc, ciphertext);
}

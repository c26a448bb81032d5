import type { Hpke, SenderContext } from '../hpke/types.ts';
import type { Rng } from '../rng.ts';
import { assembleEnvelope, checkReadingMatchesHeader, checkRecipientKid } from './assemble.ts';
import { ENVELOPE_HPKE_INFO } from './constants.ts';
import { checkReadingHeader, type ReadingHeader } from './header.ts';
import { encodeAadWithProtectedHeader } from './canonicalEnvelope.ts';
import { isUint } from './fields.ts';
import { fail } from '../errors.ts';
import { encodeReading, type Reading } from './reading.ts';
import type { ReadingRecipient } from './seal.ts';

/**
 * Session mode (optional, off by default): ONE HPKE sender context per ticket.
 * Every envelope carries the same `ek` and a protected "hs" = the RFC 9180
 * sequence number it was sealed at; the recipient opens it with
 * `setupBaseR(ek).openAt(hs)` (Auth mode: `setupAuthR(ek, skR, pkS)`), so loss and reordering are harmless.
 *
 * Trade-off: the device does one X25519 key generation and DH per session
 * instead of per reading (two orders of magnitude less CPU on a
 * microcontroller), but there is NO per-reading forward secrecy: all readings of
 * a session share one AEAD key, so whoever obtains that key (or the context
 * state in the device's RAM) reads the whole session, and a research disclosure
 * of one reading's key discloses the session (see disclosure.ts).
 */
export interface SessionSealer {
  readonly kid: Uint8Array;
  /** The session's encapsulated key, the same in every envelope. */
  readonly enc: Uint8Array;
  /** The HPKE sequence number (`hs`) the next envelope will carry. */
  readonly nextHs: number;
  seal(input: { readonly reading: Reading; readonly header: ReadingHeader }): Uint8Array;
}

export function createSessionSealer(input: {
  readonly recipient: ReadingRecipient;
  readonly hpke: Hpke;
  readonly rng: Rng;
  /**
   * The device's X25519 identity secret key: the context is set up in HPKE Auth mode
   * (SetupAuthS, RFC 9180 §5.1.3) and every envelope says "m": 2 (docs/PROTOCOL.md §6.1).
   */
  readonly senderSecretKey?: Uint8Array;
}): SessionSealer {
  checkRecipientKid(input.recipient.kid);
  const { senderSecretKey } = input;
  const auth = senderSecretKey !== undefined;
  const context: SenderContext = auth
    ? input.hpke.setupAuthS(input.recipient.publicKey, ENVELOPE_HPKE_INFO, senderSecretKey, { rng: input.rng })
    : input.hpke.setupBaseS(input.recipient.publicKey, ENVELOPE_HPKE_INFO, { rng: input.rng });
  const kid = input.recipient.kid;
  return {
    kid,
    enc: context.enc,
    get nextHs() {
      return Number(context.seq);
    },
    seal({ reading, header }) {
      checkReadingMatchesHeader(reading, header);
      const plaintext = encodeReading(reading);
      checkReadingHeader(header);
      const hs = Number(context.seq);
      if (!isUint(hs)) fail('ENVELOPE_BAD_HEADER', 'hs is not a uint');
      // written directly, the protected header inside its Enc_structure (as sealReading; issue #21)
      const { aad, protectedBytes } = encodeAadWithProtectedHeader(header, { hs, auth });
      const ciphertext = context.seal(plaintext, aad);
      return assembleEnvelope(protectedBytes, kid, context.enc, ciphertext);
    },
  };
}

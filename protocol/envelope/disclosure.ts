import { bytesEqual, i2osp } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Hpke } from '../hpke/types.ts';
import { envelopeAad } from './aad.ts';
import { readingOfPlaintext } from './assemble.ts';
import { ENVELOPE_HPKE_INFO } from './constants.ts';
import { decodeEnvelope } from './decode.ts';
import { orDecryptFailed } from './decryptFailed.ts';
import type { OpenedReading } from './open.ts';
import { openWithOrigin, originOf, type ReadingOrigin, senderKeyFor } from './origin.ts';

const NONCE_BYTES = 12;

/**
 * What a patient hands a researcher for one reading (docs/PROTOCOL.md
 * §13.1): the HPKE context's AEAD `key` and the nonce of that reading —
 * never the secret key.
 */
export interface ReadingDisclosure {
  readonly recordId: Uint8Array;
  readonly key: Uint8Array;
  /** Single-shot: the context's base_nonce. Session mode: the nonce of this one message (base_nonce XOR hs). */
  readonly baseNonce: Uint8Array;
  /**
   * 'reading': the key opens this reading only. 'session': the envelope was sealed
   * in session mode, so the key is shared by every reading of the session and
   * (base_nonce being derivable from this nonce and hs) discloses all of them.
   */
  readonly scope: 'reading' | 'session';
  /** What the patient verified before disclosing (an AEAD key and nonce cannot prove origin to the researcher). */
  readonly origin: ReadingOrigin;
}

/** RFC 9180 ComputeNonce: base_nonce XOR I2OSP(seq, Nn). */
function nonceAt(baseNonce: Uint8Array, seq: number): Uint8Array {
  const seqBytes = i2osp(seq, NONCE_BYTES);
  return baseNonce.map((b, i) => b ^ seqBytes[i]!);
}

/**
 * Derives the disclosure for one envelope, after checking it really opens that envelope. An Auth-mode
 * envelope needs `senderPublicKey`, the identity key its ticket certifies (the key schedule is mode 2),
 * and is refused (ENVELOPE_ORIGIN_UNVERIFIED) unless it was sealed with it, as in openReading.
 */
export function discloseReadingKey(
  bytes: Uint8Array,
  options: { readonly secretKey: Uint8Array; readonly hpke: Hpke; readonly senderPublicKey?: Uint8Array },
): ReadingDisclosure {
  const envelope = decodeEnvelope(bytes);
  const { hs } = envelope.header;
  const pkS = senderKeyFor(envelope.header, options.senderPublicKey);
  const guard = { senderPublicKey: pkS, kid: envelope.kid, secretKey: options.secretKey, hpke: options.hpke };
  const schedule = openWithOrigin(() => options.hpke.keyScheduleR(envelope.enc, options.secretKey, ENVELOPE_HPKE_INFO, pkS), guard);
  const nonce = hs === undefined ? schedule.baseNonce : nonceAt(schedule.baseNonce, hs);
  openWithOrigin(() => options.hpke.aeadOpen(schedule.key, nonce, envelopeAad(envelope.protectedBytes), envelope.ciphertext), guard);
  return {
    recordId: envelope.recordId,
    key: schedule.key,
    baseNonce: nonce,
    scope: hs === undefined ? 'reading' : 'session',
    origin: originOf(pkS),
  };
}

export type DisclosedKey =
  | { readonly key: Uint8Array; readonly nonce: Uint8Array; readonly recordId?: Uint8Array }
  | { readonly key: Uint8Array; readonly baseNonce: Uint8Array; readonly recordId?: Uint8Array };

/**
 * A researcher's side: opens one envelope with a disclosed key and nonce (ENVELOPE_DECRYPT_FAILED / READING_INVALID).
 * `header.m` says what the envelope's authenticated header states (Auth mode); the researcher cannot
 * re-verify origin from a symmetric key (whoever holds it could have sealed), only the patient could (§13.1).
 */
export function openDisclosedReading(bytes: Uint8Array, disclosed: DisclosedKey, hpke: Hpke): OpenedReading {
  const envelope = decodeEnvelope(bytes);
  if (disclosed.recordId !== undefined && !bytesEqual(disclosed.recordId, envelope.recordId)) {
    fail('ENVELOPE_DECRYPT_FAILED', 'the disclosure is for another record');
  }
  const nonce = 'nonce' in disclosed ? disclosed.nonce : disclosed.baseNonce;
  const plaintext = orDecryptFailed(() => hpke.aeadOpen(disclosed.key, nonce, envelopeAad(envelope.protectedBytes), envelope.ciphertext));
  return { header: envelope.header, reading: readingOfPlaintext(plaintext, envelope.header), recordId: envelope.recordId };
}

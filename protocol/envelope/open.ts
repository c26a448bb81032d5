import type { CborLimits } from '../cbor/index.ts';
import type { Hpke } from '../hpke/types.ts';
import { envelopeAad } from './aad.ts';
import { readingOfPlaintext } from './assemble.ts';
import { ENVELOPE_HPKE_INFO, ENVELOPE_MAX_BYTES } from './constants.ts';
import { decodeEnvelope, type DecodedEnvelope } from './decode.ts';
import { orDecryptFailed } from './decryptFailed.ts';
import { tryReadCanonicalEnvelope } from './fastHeader.ts';
import { type EnvelopeHeader, isAuthMode } from './header.ts';
import { openWithOrigin, originOf, type ReadingOrigin, senderKeyFor } from './origin.ts';
import type { Reading } from './reading.ts';

export interface OpenedReading {
  readonly header: EnvelopeHeader;
  readonly reading: Reading;
  readonly recordId: Uint8Array;
}

export interface OpenReadingOptions {
  /** The patient's temporary X25519 secret key. */
  readonly secretKey: Uint8Array;
  /**
   * The device identity key the envelope's ticket certifies (its `idk`, docs/PROTOCOL.md §3.6, §5.7),
   * or undefined when the ticket has none. An Auth-mode envelope ("m": 2) opens only with it, and a
   * base-mode envelope under a ticket that has one is refused (ENVELOPE_ORIGIN_UNVERIFIED).
   */
  readonly senderPublicKey?: Uint8Array;
  readonly hpke: Hpke;
  readonly limits?: Partial<CborLimits>;
}

/**
 * Decrypts a reading envelope (single-shot or session mode, base or Auth mode) and checks the
 * plaintext: ENVELOPE_* from decodeEnvelope, ENVELOPE_NO_SENDER_KEY / ENVELOPE_ORIGIN_UNVERIFIED
 * (origin.ts), ENVELOPE_DECRYPT_FAILED if it does not open with this key, READING_INVALID if the
 * plaintext is not a valid reading or its st/ts differ from the protected header. What a successful
 * open proved about the sender: `originOfOpened(opened, senderPublicKey)` ("m": 2 means it opened
 * with `senderPublicKey`, i.e. was sealed with the device's identity key).
 */
export function openReading(bytes: Uint8Array, options: OpenReadingOptions): OpenedReading {
  const envelope = envelopeToOpen(bytes, options.limits, options.hpke);
  const pkS = senderKeyFor(envelope.header, options.senderPublicKey);
  const plaintext =
    pkS === undefined
      ? orDecryptFailed(() => hpkeOpen(envelope, options.secretKey, options.hpke))
      : openWithOrigin(() => hpkeOpen(envelope, options.secretKey, options.hpke, pkS), {
          senderPublicKey: pkS,
          kid: envelope.kid,
          secretKey: options.secretKey,
          hpke: options.hpke,
        });
  return { header: envelope.header, reading: readingOfPlaintext(plaintext, envelope.header), recordId: envelope.recordId };
}

/** The origin an openReading result proved, given the identity key it was opened with (the ticket's idk). */
export function originOfOpened(opened: OpenedReading, senderPublicKey: Uint8Array | undefined): ReadingOrigin {
  return originOf(isAuthMode(opened.header) ? senderPublicKey : undefined);
}

/** What opening needs from the envelope: its header, kid, ek, ciphertext, protected bytes, and the record id. */
type EnvelopeToOpen = Pick<DecodedEnvelope, 'header' | 'kid' | 'enc' | 'ciphertext' | 'protectedBytes' | 'recordId'>;

/**
 * decodeEnvelope's result for these bytes and limits: on the canonical layout read in place (views into
 * `bytes`, nothing copied), else the strict decoder — the same bytes accepted, the same error codes.
 */
function envelopeToOpen(bytes: Uint8Array, limits: Partial<CborLimits> | undefined, hpke: Hpke): EnvelopeToOpen {
  const maxBytes = fastPathMaxBytes(limits);
  const view = maxBytes === null ? null : tryReadCanonicalEnvelope(bytes, maxBytes);
  if (view === null) return decodeEnvelope(bytes, limits);
  return {
    header: view.header,
    kid: view.kid,
    enc: view.enc,
    ciphertext: view.ciphertext,
    protectedBytes: view.protectedBytes,
    recordId: hpke.sha256(bytes), // the backend's SHA-256 (node: node:crypto), the same bytes as decodeEnvelope's
  };
}

/** The fast path stands in for decodeEnvelope only under its default limits, with at most maxBytes set. */
function fastPathMaxBytes(limits: Partial<CborLimits> | undefined): number | null {
  if (limits === undefined) return ENVELOPE_MAX_BYTES;
  const { maxBytes, ...others } = limits;
  for (const value of Object.values(others)) if (value !== undefined) return null;
  return maxBytes ?? ENVELOPE_MAX_BYTES;
}

/** HPKE open in the envelope's mode: base without `pkS`, Auth (mode_auth) with the sender's public key. */
function hpkeOpen(envelope: EnvelopeToOpen, secretKey: Uint8Array, hpke: Hpke, pkS?: Uint8Array): Uint8Array {
  const aad = envelopeAad(envelope.protectedBytes);
  const { hs } = envelope.header;
  const { enc, ciphertext } = envelope;
  if (pkS === undefined) {
    if (hs === undefined) return hpke.open(enc, secretKey, ENVELOPE_HPKE_INFO, aad, ciphertext);
    return hpke.setupBaseR(enc, secretKey, ENVELOPE_HPKE_INFO).openAt(BigInt(hs), ciphertext, aad);
  }
  if (hs === undefined) return hpke.openAuth(enc, secretKey, ENVELOPE_HPKE_INFO, aad, ciphertext, pkS);
  return hpke.setupAuthR(enc, secretKey, ENVELOPE_HPKE_INFO, pkS).openAt(BigInt(hs), ciphertext, aad);
}

/**
 * Proof of origin of a reading (docs/PROTOCOL.md §3.6, §5.7): a device whose ticket certifies its
 * identity key (`idk`) seals in HPKE Auth mode with that key, so only the holder of the identity
 * secret could have produced an envelope that opens with AuthDecap(ek, skR, idk). A reader opens
 * with the ticket's `idk` and learns either "verified: sealed by the device's identity key" or
 * "base mode: origin not proven" (old data, devices without an identity key).
 */
import { bytesEqual } from '../bytes.ts';
import { fail, isVitalsealError } from '../errors.ts';
import type { Hpke } from '../hpke/types.ts';
import { keyIdOf } from '../keys/keyId.ts';
import { orDecryptFailed } from './decryptFailed.ts';
import { type EnvelopeHeader, isAuthMode } from './header.ts';

/** What opening an envelope proved about who sealed it. */
export type ReadingOrigin =
  /** HPKE Auth mode: sealed with the secret of `senderPublicKey` (the identity key the ticket certifies). */
  | { readonly mode: 'auth'; readonly senderPublicKey: Uint8Array }
  /** HPKE base mode: anyone holding the patient's public key could have sealed it. */
  | { readonly mode: 'base' };

/**
 * The sender key to open an envelope with, from its mode and the identity key its ticket certifies
 * (`expected`, undefined when the ticket has none):
 * - Auth mode without an expected key: ENVELOPE_NO_SENDER_KEY (the reader must look the ticket up);
 * - base mode under a ticket that certifies an identity key: ENVELOPE_ORIGIN_UNVERIFIED, since that
 *   device seals in Auth mode; a base-mode envelope for its session is not from it.
 */
export function senderKeyFor(header: EnvelopeHeader, expected: Uint8Array | undefined): Uint8Array | undefined {
  if (isAuthMode(header)) {
    if (expected === undefined) fail('ENVELOPE_NO_SENDER_KEY');
    return expected;
  }
  if (expected !== undefined) fail('ENVELOPE_ORIGIN_UNVERIFIED', 'base-mode reading under a ticket that certifies a device identity key');
  return undefined;
}

/**
 * Runs an HPKE open step. A failure in Auth mode while the reader's key IS the envelope's recipient
 * (its kid) means the envelope was not sealed with the expected identity key, or was altered after:
 * ENVELOPE_ORIGIN_UNVERIFIED. Any other failure (base mode, or another recipient key) is
 * ENVELOPE_DECRYPT_FAILED, as before.
 */
export function openWithOrigin<T>(
  step: () => T,
  o: { readonly senderPublicKey: Uint8Array | undefined; readonly kid: Uint8Array; readonly secretKey: Uint8Array; readonly hpke: Hpke },
): T {
  try {
    return orDecryptFailed(step);
  } catch (e) {
    if (o.senderPublicKey !== undefined && isVitalsealError(e, 'ENVELOPE_DECRYPT_FAILED') && isRecipient(o)) {
      fail('ENVELOPE_ORIGIN_UNVERIFIED', undefined, e);
    }
    throw e;
  }
}

const isRecipient = (o: { readonly kid: Uint8Array; readonly secretKey: Uint8Array; readonly hpke: Hpke }): boolean =>
  bytesEqual(keyIdOf(o.hpke.publicKeyOf(o.secretKey)), o.kid);

export function originOf(senderPublicKey: Uint8Array | undefined): ReadingOrigin {
  return senderPublicKey === undefined ? { mode: 'base' } : { mode: 'auth', senderPublicKey };
}

/** The identity key's fingerprint as readers print it: its kid (§3.3), SHA-256(idk)[0:16] in hex. */
export function identityFingerprint(publicKey: Uint8Array): string {
  let s = '';
  for (const b of keyIdOf(publicKey)) s += b.toString(16).padStart(2, '0');
  return s;
}

/** One line for a reader: "verified: sealed by device <dev> identity <fingerprint>" or "base mode: origin not proven". */
export function describeOrigin(origin: ReadingOrigin, device: string): string {
  return origin.mode === 'auth'
    ? `verified: sealed by device ${device} identity ${identityFingerprint(origin.senderPublicKey)}`
    : 'base mode: origin not proven';
}

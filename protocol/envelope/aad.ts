import { encStructureOf } from './canonicalEnvelope.ts';

/**
 * aad = Enc_structure["Encrypt0", protected, h''] (draft-ietf-cose-hpke integrated encryption),
 * written directly (the same bytes as encStructure of protocol/cose).
 */
export function envelopeAad(protectedBytes: Uint8Array): Uint8Array {
  return encStructureOf(protectedBytes);
}

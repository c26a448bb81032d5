import { CONTEXT, encStructure } from '../cose/index.ts';

/** aad = Enc_structure["Encrypt0", protected, h''] (draft-ietf-cose-hpke integrated encryption). */
export function envelopeAad(protectedBytes: Uint8Array): Uint8Array {
  return encStructure(CONTEXT.Encrypt0, protectedBytes);
}

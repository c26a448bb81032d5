import { encodeCanonical } from '../cbor/index.ts';
import type { CONTEXT } from './constants.ts';

const EMPTY = new Uint8Array(0);

/**
 * Enc_structure (RFC 9052 §5.3): the AEAD additional data of COSE_Encrypt0 /
 * COSE_Encrypt, `[context, body_protected, external_aad]`.
 */
export function encStructure(
  context: typeof CONTEXT.Encrypt0 | typeof CONTEXT.Encrypt,
  protectedBytes: Uint8Array,
  externalAad: Uint8Array = EMPTY,
): Uint8Array {
  return encodeCanonical([context, protectedBytes, externalAad]);
}

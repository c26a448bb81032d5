/** Patient ids enter key derivation as their UTF-8 bytes, so they must encode unambiguously. */
import { fail } from '../errors.ts';
import { utf8 } from '../bytes.ts';

export const PATIENT_ID_MAX_BYTES = 256;

/** A lone UTF-16 surrogate would be encoded as U+FFFD, so two different ids could share bytes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** utf8(patientId), or KEY_BAD_PATIENT_ID when the id is empty, over 256 UTF-8 bytes or not well-formed Unicode. */
export function patientIdBytes(patientId: string): Uint8Array {
  if (typeof patientId !== 'string' || patientId.length === 0 || patientId.length > PATIENT_ID_MAX_BYTES) fail('KEY_BAD_PATIENT_ID');
  if (LONE_SURROGATE.test(patientId)) fail('KEY_BAD_PATIENT_ID', 'patient id is not well-formed Unicode');
  const bytes = utf8(patientId);
  if (bytes.length > PATIENT_ID_MAX_BYTES) fail('KEY_BAD_PATIENT_ID');
  return bytes;
}

/** utf8(patientId) ‖ rand(32): the input keying material of TempKeyPairGen and EmergencyKeyGen. */
export function patientIkm(patientId: string, randomness: Uint8Array): Uint8Array {
  const id = patientIdBytes(patientId);
  if (!(randomness instanceof Uint8Array) || randomness.length !== 32) fail('INPUT_BAD_LENGTH', 'rng must return 32 bytes');
  const ikm = new Uint8Array(id.length + 32);
  ikm.set(id, 0);
  ikm.set(randomness, id.length);
  return ikm;
}

/**
 * EmergencyKeyGen(PatientID ‖ randomness): the key of the patient's emergency profile.
 *   K = HKDF-SHA256(salt = utf8("vitalseal/v1/emergency"), ikm = utf8(patientId) ‖ rng(32), info = "", L = 32);
 *   kid = SHA-256(K)[0:16] (see keyId.ts).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fail } from '../errors.ts';
import { utf8 } from '../bytes.ts';
import type { Rng } from '../rng.ts';
import { keyIdOf } from './keyId.ts';
import { patientIdBytes, patientIkm } from './patientId.ts';
import { INSPECT_CUSTOM, type RedactedView, redactedString, redactedView } from './redacted.ts';

export const EMERGENCY_KEY_SALT = utf8('vitalseal/v1/emergency');
export const EMERGENCY_KEY_LENGTH = 32;

export class EmergencyKey {
  readonly type = 'emergency' as const;
  readonly patientId: string;
  readonly kid: Uint8Array;
  readonly #key: Uint8Array;

  constructor(patientId: string, key: Uint8Array) {
    patientIdBytes(patientId);
    if (!(key instanceof Uint8Array) || key.length !== EMERGENCY_KEY_LENGTH) fail('INPUT_BAD_LENGTH', 'emergency key must be 32 bytes');
    this.patientId = patientId;
    this.#key = key;
    this.kid = keyIdOf(key);
  }

  /** The 32-byte ChaCha20-Poly1305 key K (the same array each time: do not mutate). */
  get key(): Uint8Array {
    return this.#key;
  }

  toJSON(): RedactedView {
    return redactedView(this.type, this.kid);
  }
  toString(): string {
    return redactedString('EmergencyKey', this.kid);
  }
  [INSPECT_CUSTOM](): string {
    return this.toString();
  }
}

export function emergencyKeyGen(patientId: string, rng: Rng): EmergencyKey {
  const ikm = patientIkm(patientId, rng(32));
  try {
    return new EmergencyKey(patientId, hkdf(sha256, ikm, EMERGENCY_KEY_SALT, new Uint8Array(0), EMERGENCY_KEY_LENGTH));
  } finally {
    ikm.fill(0);
  }
}

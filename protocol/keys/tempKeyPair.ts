/**
 * TempKeyPairGen(PatientID ‖ randomness): the patient's one-session X25519 key pair.
 *   ikm = utf8(patientId) ‖ rng(32); (skR, pkR) = DeriveKeyPair(ikm) (RFC 9180 §7.1.3);
 *   kid = SHA-256(pkR)[0:16].
 */
import { fail } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { createHpke, type Hpke } from '../hpke/index.ts';
import { keyIdOf } from './keyId.ts';
import { patientIdBytes, patientIkm } from './patientId.ts';
import { INSPECT_CUSTOM, type RedactedView, redactedString, redactedView } from './redacted.ts';

export class TempKeyPair {
  readonly type = 'temp' as const;
  readonly patientId: string;
  readonly kid: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly #secretKey: Uint8Array;

  /** Checks lengths and the patient id and computes the kid; that `publicKey` belongs to `secretKey` is the caller's business. */
  constructor(patientId: string, secretKey: Uint8Array, publicKey: Uint8Array) {
    patientIdBytes(patientId);
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) fail('HPKE_BAD_SECRET_KEY');
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) fail('HPKE_BAD_PUBLIC_KEY');
    this.patientId = patientId;
    this.#secretKey = secretKey;
    this.publicKey = publicKey;
    this.kid = keyIdOf(publicKey);
  }

  /** The 32-byte X25519 secret key (the same array each time: do not mutate). */
  get secretKey(): Uint8Array {
    return this.#secretKey;
  }

  toJSON(): RedactedView {
    return redactedView(this.type, this.kid);
  }
  toString(): string {
    return redactedString('TempKeyPair', this.kid);
  }
  [INSPECT_CUSTOM](): string {
    return this.toString();
  }
}

/** TempKeyPairGen; `hpke` picks the backend (default noble; both give the same pair). */
export function tempKeyPairGen(patientId: string, rng: Rng, hpke: Hpke = createHpke('noble')): TempKeyPair {
  const ikm = patientIkm(patientId, rng(32));
  try {
    const { secretKey, publicKey } = hpke.deriveKeyPair(ikm);
    return new TempKeyPair(patientId, secretKey, publicKey);
  } finally {
    ikm.fill(0);
  }
}

/** RFC 9180 §5.2 encryption contexts and §5.3 secret export. */
import { fail } from '../errors.ts';
import type { RecipientContext, SenderContext } from './types.ts';
import type { SymmetricPrimitives } from './primitives.ts';
import { AEAD_NONCE_LENGTH, HPKE_SUITE_ID, labeledExpand } from './labeled.ts';
import { type ScheduledSecrets, exporterSecretOf } from './keySchedule.ts';

const EMPTY = new Uint8Array(0);
/** Sequence numbers run from 0 to 2^96 − 2: IncrementSeq refuses to reach 2^(8·Nn) − 1. */
export const MAX_SEQ = (1n << BigInt(8 * AEAD_NONCE_LENGTH)) - 1n;

/** Throws HPKE_SEQ_OVERFLOW unless 0 ≤ seq < 2^96 − 1. */
export function checkSeq(seq: bigint): bigint {
  if (typeof seq !== 'bigint' || seq < 0n || seq >= MAX_SEQ) fail('HPKE_SEQ_OVERFLOW');
  return seq;
}

/** ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn). */
export function computeNonce(baseNonce: Uint8Array, seq: bigint): Uint8Array {
  if (seq === 0n) return baseNonce;
  const nonce = new Uint8Array(baseNonce); // a copy even when baseNonce is a Buffer (whose slice() is a view)
  for (let i = AEAD_NONCE_LENGTH - 1, rest = seq; rest > 0n; i--, rest >>= 8n) nonce[i]! ^= Number(rest & 0xffn);
  return nonce;
}

abstract class Context {
  protected readonly p: SymmetricPrimitives;
  readonly #scheduled: ScheduledSecrets;
  #exporterSecret: Uint8Array | undefined;
  protected currentSeq = 0n;

  constructor(p: SymmetricPrimitives, scheduled: ScheduledSecrets) {
    this.p = p;
    this.#scheduled = scheduled;
  }

  get seq(): bigint {
    return this.currentSeq;
  }

  protected get key(): Uint8Array {
    return this.#scheduled.key;
  }

  protected nonceAt(seq: bigint): Uint8Array {
    return computeNonce(this.#scheduled.baseNonce, checkSeq(seq));
  }

  export(exporterContext: Uint8Array, length: number): Uint8Array {
    this.#exporterSecret ??= exporterSecretOf(this.p.hmacSha256, this.#scheduled);
    return labeledExpand(this.p.hmacSha256, HPKE_SUITE_ID, this.#exporterSecret, 'sec', exporterContext, length);
  }

  // Never print keys: a context shows only its sequence number.
  toJSON(): { seq: string } {
    return { seq: this.currentSeq.toString() };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} { seq: ${this.currentSeq} }`;
  }
}

export class HpkeSenderContext extends Context implements SenderContext {
  readonly enc: Uint8Array;

  constructor(p: SymmetricPrimitives, scheduled: ScheduledSecrets, enc: Uint8Array) {
    super(p, scheduled);
    this.enc = enc;
  }

  seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    const ciphertext = this.p.aeadSeal(this.key, this.nonceAt(this.currentSeq), aad, plaintext);
    this.currentSeq++;
    return ciphertext;
  }
}

export class HpkeRecipientContext extends Context implements RecipientContext {
  open(ciphertext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    const plaintext = this.p.aeadOpen(this.key, this.nonceAt(this.currentSeq), aad, ciphertext);
    this.currentSeq++;
    return plaintext;
  }

  openAt(seq: bigint, ciphertext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return this.p.aeadOpen(this.key, this.nonceAt(seq), aad, ciphertext);
  }
}

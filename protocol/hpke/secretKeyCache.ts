/**
 * Long-term secret keys (a recipient's skR, an auth sender's skS) are used for many
 * messages; importing one costs a scalar multiplication (its public key), so the
 * imported form is remembered per caller array. The entry keeps a private copy and
 * is only reused while the array still holds the same bytes; it goes away with the array.
 */
import { bytesEqual } from '../bytes.ts';
import type { HpkePrimitives } from './primitives.ts';

export interface ImportedSecretKey<Handle> {
  readonly handle: Handle;
  /** Do not mutate: shared by every later use of the same key. */
  readonly publicKey: Uint8Array;
}

interface CacheEntry<Handle> {
  readonly bytes: Uint8Array;
  readonly key: ImportedSecretKey<Handle>;
}

export type SecretKeyImporter<Handle> = (secretKey: Uint8Array) => ImportedSecretKey<Handle>;

export function importSecretKey<Handle>(p: HpkePrimitives<Handle>, secretKey: Uint8Array): ImportedSecretKey<Handle> {
  const handle = p.importSecretKey(secretKey);
  return { handle, publicKey: p.publicKey(handle) };
}

export function cachingSecretKeyImporter<Handle>(p: HpkePrimitives<Handle>): SecretKeyImporter<Handle> {
  const cache = new WeakMap<Uint8Array, CacheEntry<Handle>>();
  return (secretKey) => {
    const hit = cache.get(secretKey);
    if (hit !== undefined && bytesEqual(hit.bytes, secretKey)) return hit.key;
    const key = importSecretKey(p, secretKey);
    cache.set(secretKey, { bytes: secretKey.slice(), key });
    return key;
  };
}

/**
 * Long-term keys are used for many messages: a recipient's skR (importing it costs a
 * scalar multiplication for its public key), the recipient pkR a device seals every
 * reading to, an auth sender's skS / pkS. Their imported forms are remembered per
 * caller array (WeakMap: an entry goes away with its array); an entry keeps a private
 * copy of the bytes and is only reused while the array still holds the same bytes.
 * Ephemeral keys and `enc` are never cached.
 */
import { bytesEqual } from '../bytes.ts';
import type { HpkePrimitives } from './primitives.ts';

export interface ImportedSecretKey<SecretKeyHandle> {
  readonly handle: SecretKeyHandle;
  /** Do not mutate: shared by every later use of the same key. */
  readonly publicKey: Uint8Array;
}

export type Importer<T> = (key: Uint8Array) => T;

export function importSecretKey<S, P>(p: HpkePrimitives<S, P>, secretKey: Uint8Array): ImportedSecretKey<S> {
  const handle = p.importSecretKey(secretKey);
  return { handle, publicKey: p.publicKey(handle) };
}

function cachingImporter<T>(importKey: Importer<T>): Importer<T> {
  const cache = new WeakMap<Uint8Array, { readonly bytes: Uint8Array; readonly imported: T }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined && bytesEqual(hit.bytes, key)) return hit.imported;
    const imported = importKey(key);
    cache.set(key, { bytes: new Uint8Array(key), imported }); // a copy even for a Buffer (whose slice() is a view)
    return imported;
  };
}

export const cachingSecretKeyImporter = <S, P>(p: HpkePrimitives<S, P>): Importer<ImportedSecretKey<S>> =>
  cachingImporter((secretKey) => importSecretKey(p, secretKey));

export const cachingPublicKeyImporter = <S, P>(p: HpkePrimitives<S, P>): Importer<P> =>
  cachingImporter((publicKey) => p.importPublicKey(publicKey));

/**
 * RFC 9180 HPKE for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305,
 * with two interchangeable backends that give byte-identical output for the same
 * randomness: `noble` (pure JS) and `node` (node:crypto).
 */
import { fail } from '../errors.ts';
import type { Hpke, HpkeBackendName } from './types.ts';
import { createHpkeFromPrimitives } from './hpke.ts';
import { noblePrimitives } from './noble.ts';
import { nodePrimitives } from './node.ts';

export * from './types.ts';
export { AEAD_ID, KDF_ID, KEM_ID, HPKE_SUITE_ID, KEM_SUITE_ID } from './labeled.ts';
export { MAX_SEQ } from './context.ts';
export type { HpkePrimitives } from './primitives.ts';
export { createHpkeFromPrimitives } from './hpke.ts';

export const HPKE_BACKENDS: readonly HpkeBackendName[] = ['noble', 'node'];

const instances = new Map<HpkeBackendName, Hpke>();

/** The HPKE implementation of one backend (one shared instance per backend, so its caches are shared). */
export function createHpke(name: HpkeBackendName): Hpke {
  let hpke = instances.get(name);
  if (hpke === undefined) {
    if (name === 'noble') hpke = createHpkeFromPrimitives(noblePrimitives);
    else if (name === 'node') hpke = createHpkeFromPrimitives(nodePrimitives);
    else return fail('HPKE_BAD_MODE', 'unknown HPKE backend');
    instances.set(name, hpke);
  }
  return hpke;
}

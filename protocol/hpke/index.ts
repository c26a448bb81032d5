/**
 * RFC 9180 HPKE for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305,
 * with two interchangeable backends that give byte-identical output for the same
 * randomness: `noble` (pure JS, here) and `node` (node:crypto). The node backend
 * lives behind its own entry point, protocol/node.ts (`vitalseal/protocol/node`),
 * so this core imports no Node built-in and bundles for browsers.
 */
import { fail } from '../errors.ts';
import type { Hpke } from './types.ts';
import { createHpkeFromPrimitives } from './hpke.ts';
import { noblePrimitives } from './noble.ts';

export * from './types.ts';
export { AEAD_ID, KDF_ID, KEM_ID, HPKE_SUITE_ID, KEM_SUITE_ID } from './labeled.ts';
export { MAX_SEQ } from './context.ts';
export type { HpkePrimitives } from './primitives.ts';
export { createHpkeFromPrimitives } from './hpke.ts';

let noble: Hpke | undefined;

/**
 * The pure-JS (noble) HPKE implementation: one shared instance, so its caches are shared.
 * The node:crypto backend (`createHpke('node')`) is in protocol/node.ts (`vitalseal/protocol/node`).
 */
export function createHpke(name: 'noble' = 'noble'): Hpke {
  if (name !== 'noble') return fail('HPKE_BAD_MODE', "unknown HPKE backend (the 'node' backend is in vitalseal/protocol/node)");
  return (noble ??= createHpkeFromPrimitives(noblePrimitives));
}

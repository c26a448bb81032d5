/**
 * Entry point `vitalseal/protocol/node`: the node:crypto HPKE backend, the agent's and the
 * fleet's fast path (byte-identical to the pure-JS noble backend for the same randomness).
 * Kept apart from the protocol core (protocol/index.ts) so the core imports no Node built-in.
 *
 *   import { createHpke } from 'vitalseal/protocol/node';
 *   const hpke = createHpke('node');   // or 'noble': the same shared instance as the core's
 */
import { fail } from './errors.ts';
import { createHpkeFromPrimitives } from './hpke/hpke.ts';
import { createHpke as createNobleHpke } from './hpke/index.ts';
import { nodePrimitives } from './hpke/node.ts';
import type { Hpke, HpkeBackendName } from './hpke/types.ts';

export { nodePrimitives } from './hpke/node.ts';
export type { Hpke, HpkeBackendName } from './hpke/types.ts';

/** Both backends, for code (tests, benchmarks, the simulator) that runs the same work on each. */
export const HPKE_BACKENDS: readonly HpkeBackendName[] = ['noble', 'node'];

let node: Hpke | undefined;

/** The HPKE implementation of one backend (one shared instance per backend, so its caches are shared). */
export function createHpke(name: HpkeBackendName): Hpke {
  if (name === 'noble') return createNobleHpke('noble');
  if (name === 'node') return (node ??= createHpkeFromPrimitives(nodePrimitives));
  return fail('HPKE_BAD_MODE', 'unknown HPKE backend');
}

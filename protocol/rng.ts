import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, i2osp } from './bytes.ts';

/** Randomness is injected everywhere: `rng(n)` returns n fresh bytes. */
export type Rng = (n: number) => Uint8Array;

/** Time is injected everywhere: milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Production randomness from the platform CSPRNG (Web Crypto `crypto.getRandomValues`: Node ≥ 19,
 * browsers, Deno, Bun, workers), in chunks of at most 65,536 bytes (its per-call limit).
 */
export const systemRng: Rng = (n: number) => {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65_536) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65_536)));
  return out;
};

/**
 * Deterministic byte stream for tests, the simulator and benchmarks:
 * SHA-256(seed ‖ counter) blocks. NOT for production keys.
 */
export function seededRng(seed: Uint8Array | string): Rng {
  const seedBytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed;
  let counter = 0n;
  let pool = new Uint8Array(0);
  return (n: number) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (pool.length === 0) pool = sha256(concatBytes(seedBytes, i2osp(counter++, 8)));
      const take = Math.min(pool.length, n - off);
      out.set(pool.subarray(0, take), off);
      pool = pool.subarray(take);
      off += take;
    }
    return out;
  };
}

/** Replays a fixed list of byte strings, in order (e.g. RFC vector ikmE / rng_stream). */
export function fixedRng(...chunks: Uint8Array[]): Rng {
  const queue = [...chunks];
  return (n: number) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error(`fixedRng: expected a ${n}-byte chunk`);
    return next;
  };
}

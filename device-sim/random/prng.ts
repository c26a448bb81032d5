import type { Rng } from '../../protocol/rng.ts';

/**
 * A fast, seeded, non-cryptographic generator (sfc32, Chris Doty-Humphrey's "small fast
 * chaotic" PRNG) for physiological signals and jitter: the 250 Hz ECG needs hundreds of
 * Gaussian samples per second per device, too many for a SHA-256 stream. Seeded from
 * 16 bytes of an injected `Rng`, so it is deterministic from the simulator seed.
 * Never used for keys.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller). */
  gaussian(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function createPrng(rng: Rng): Prng {
  const seed = rng(16);
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
  let a = view.getUint32(0) | 0;
  let b = view.getUint32(4) | 0;
  let c = view.getUint32(8) | 0;
  let d = view.getUint32(12) | 1;
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32(); // mix the seed
  let spare: number | undefined;
  const uniform = (): number => next32() / 4294967296;
  return {
    uniform,
    gaussian(): number {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int: (n: number): number => Math.floor(uniform() * n),
  };
}

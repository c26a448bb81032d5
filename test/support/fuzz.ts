/**
 * One setting for every property-test and fuzz run count in the tests: each count in a test file is a
 * base figure passed through `runs()`, scaled by VITALSEAL_FUZZ_SCALE (default 1: the counts as
 * written). `VITALSEAL_FUZZ_SCALE=0.1 npm run test:unit` for a quicker edit loop, `=10` for a deeper
 * run. The long resumable fuzz run is `npm run fuzz` (fuzz/); its smoke test (test/protocol/fuzzRun)
 * reads FUZZ_SMOKE_INPUTS from here.
 */
function scaleFromEnv(): number {
  const raw = process.env.VITALSEAL_FUZZ_SCALE;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`VITALSEAL_FUZZ_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

export const FUZZ_SCALE = scaleFromEnv();

/** A run count: `base` scaled by VITALSEAL_FUZZ_SCALE, at least 1. */
export function runs(base: number): number {
  return Math.max(1, Math.round(base * FUZZ_SCALE));
}

/** Random and mutated inputs per decoder in the decoder fuzz tests (test/protocol/*). */
export const FUZZ_RUNS = runs(10_000);

/** Inputs per decoder in the smoke test of `npm run fuzz` (test/protocol/fuzzRun.test.ts). */
export const FUZZ_SMOKE_INPUTS = runs(2_000);

import fc from 'fast-check';
import { expect } from 'vitest';
import { ERROR_CODES, VitalsealError, type ErrorCode } from '../../protocol/errors.ts';

export { FUZZ_RUNS } from '../support/fuzz.ts';

/** Arbitrary random byte strings, biased towards CBOR-looking heads. */
export function randomBytes(maxLength = 300): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    // CBOR-ish: sequences of plausible initial bytes and small arguments
    fc
      .array(
        fc.oneof(
          fc.constantFrom(0x80, 0x83, 0x84, 0xa1, 0xa2, 0xd0, 0xd2, 0xd8, 0x40, 0x50, 0x58, 0x60, 0x18, 0x20, 0xf6, 0xfb, 0xff, 0x9f, 0x1b),
          fc.integer({ min: 0, max: 255 }),
        ),
        { maxLength },
      )
      .map((a) => Uint8Array.from(a)),
  );
}

/** Valid inputs mutated: bit flips, truncation, insertion of another valid input's bytes, overwrites. */
export function mutatedBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds);
  const bitFlips = fc.tuple(seed, fc.array(fc.nat(), { minLength: 1, maxLength: 4 })).map(([s, flips]) => {
    const out = new Uint8Array(s);
    for (const f of flips) {
      const bit = f % (out.length * 8);
      out[bit >> 3]! ^= 1 << (bit & 7);
    }
    return out;
  });
  const truncation = fc.tuple(seed, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1)));
  const insertion = fc.tuple(seed, seed, fc.nat(), fc.nat(), fc.nat()).map(([a, b, at, from, len]) => {
    const p = at % (a.length + 1);
    const start = from % (b.length + 1);
    const piece = b.subarray(start, start + (len % (b.length + 1)));
    const out = new Uint8Array(a.length + piece.length);
    out.set(a.subarray(0, p));
    out.set(piece, p);
    out.set(a.subarray(p), p + piece.length);
    return out;
  });
  const overwrite = fc.tuple(seed, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([s, at, patch]) => {
    const out = new Uint8Array(s);
    const p = at % Math.max(1, out.length);
    for (let i = 0; i < patch.length && p + i < out.length; i++) out[p + i] = patch[i]!;
    return out;
  });
  const appended = fc.tuple(seed, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([s, tail]) => {
    const out = new Uint8Array(s.length + tail.length);
    out.set(s);
    out.set(tail, s.length);
    return out;
  });
  return fc.oneof(bitFlips, truncation, insertion, overwrite, appended);
}

/** Runs `fn`; it may succeed, or fail with a VitalsealError carrying a code of the error table, nothing else. */
export function onlyKnownErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof VitalsealError) || !Object.hasOwn(ERROR_CODES, e.code)) {
      expect.fail(`unexpected exception: ${String(e)}`);
    }
  }
}

/** The code of the VitalsealError `fn` throws (fails the test if it does not throw one). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VitalsealError) return e.code;
    return `not a VitalsealError: ${String(e)}`;
  }
  return 'no error';
}

/** Outcome of a throwing call: 'ok' or the VitalsealError code; any other exception propagates. */
export function outcome(f: () => void): 'ok' | ErrorCode {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof VitalsealError) return e.code;
    throw e;
  }
}

/**
 * Bit operations on non-negative safe integers (< 2^53). JavaScript's `^ & >>`
 * work on 32 bits only, so tree indices are split into high and low words.
 * Internal to protocol/merkle.
 */
const TWO_32 = 2 ** 32;

export function isSafeUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/** Number of bits needed to write x (Go's bits.Len64). */
export function bitLength(x: number): number {
  const hi = Math.floor(x / TWO_32);
  return hi > 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(x >>> 0);
}

/** Number of set bits (Go's bits.OnesCount64). */
export function popCount(x: number): number {
  return popCount32(Math.floor(x / TWO_32)) + popCount32(x >>> 0);
}

function popCount32(v: number): number {
  let n = 0;
  for (let w = v >>> 0; w !== 0; w = (w & (w - 1)) >>> 0) n++;
  return n;
}

/** Number of trailing zero bits of x > 0 (Go's bits.TrailingZeros64). */
export function trailingZeros(x: number): number {
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO_32) >>> 0;
  return hi === 0 ? 64 : 32 + 31 - Math.clz32(hi & -hi);
}

export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO_32 + lo;
}

/** x >> k for k ≥ 0 (exact: division by a power of two). */
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** Bit i of x (0 or 1). */
export function bitAt(x: number, i: number): number {
  return shiftRight(x, i) % 2;
}

/** ⌊log2 x⌋ for x ≥ 1: the level of the largest power of two ≤ x. */
export function floorLog2(x: number): number {
  return bitLength(x) - 1;
}

/**
 * Seeded input generation for the long fuzz run: a small fast PRNG (sfc32) and byte-level
 * mutations of corpus entries (bit flips, interesting bytes, CBOR heads with huge lengths,
 * insertions, deletions, duplications, truncation, splices) plus random and CBOR-looking bytes.
 * Input i of a chunk is a pure function of (seed, target, chunk, corpus at the chunk's start).
 */
import { sha256 } from '@noble/hashes/sha2.js';

export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeded from SHA-256 of `label` (any string: seed, target name and chunk number). */
  constructor(label: string) {
    const h = sha256(new TextEncoder().encode(label));
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    this.a = v.getUint32(0);
    this.b = v.getUint32(4);
    this.c = v.getUint32(8);
    this.d = v.getUint32(12) | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
}

/** Bytes that often sit on decoder boundaries: CBOR heads of every major type and width, limits. */
const INTERESTING = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x38, 0x3b, 0x40, 0x57, 0x58, 0x5b, 0x5f, 0x60, 0x78,
  0x7b, 0x7f, 0x80, 0x83, 0x84, 0x98, 0x9b, 0x9f, 0xa0, 0xa1, 0xa5, 0xb8, 0xbb, 0xbf, 0xc0, 0xc1, 0xc2, 0xd0, 0xd2, 0xd8, 0xd9, 0xda, 0xdb,
  0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0x10, 0x12, 0x60,
];
/** Heads with a maximal or just-too-large length argument. */
const HUGE_HEADS: readonly Uint8Array[] = [
  Uint8Array.of(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x7b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00),
  Uint8Array.of(0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xbb, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x1b, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
  Uint8Array.of(0x3b, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xfb, 0x7f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01),
  Uint8Array.of(0xf9, 0x7c, 0x00),
  Uint8Array.of(0x9f, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f, 0x9f),
  Uint8Array.of(0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81),
  Uint8Array.of(0x00),
];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One mutation of `s` (a fresh array; `s` is not modified). */
function mutateOnce(r: Sfc32, s: Uint8Array, corpus: readonly Uint8Array[], maxLength: number): Uint8Array {
  const len = s.length;
  const at = r.below(len + 1);
  switch (r.below(11)) {
    case 0: {
      // bit flips
      const out = new Uint8Array(s);
      if (len === 0) return r.bytes(1);
      for (let k = 1 + r.below(3); k > 0; k--) {
        const bit = r.below(len * 8);
        out[bit >> 3]! ^= 1 << (bit & 7);
      }
      return out;
    }
    case 1: {
      // an interesting byte
      if (len === 0) return Uint8Array.of(r.pick(INTERESTING));
      const out = new Uint8Array(s);
      out[r.below(len)] = r.pick(INTERESTING);
      return out;
    }
    case 2: {
      // a byte +-1..4 (lengths and heads off by a little)
      if (len === 0) return r.bytes(1);
      const out = new Uint8Array(s);
      const p = r.below(Math.min(len, 160));
      out[p] = (out[p]! + r.pick([-4, -3, -2, -1, 1, 2, 3, 4]) + 256) & 0xff;
      return out;
    }
    case 3:
      // insert random bytes
      return concat(s.subarray(0, at), r.bytes(1 + r.below(16)), s.subarray(at));
    case 4: {
      // delete a range
      const n = 1 + r.below(Math.max(1, Math.min(32, len - at)));
      return concat(s.subarray(0, at), s.subarray(Math.min(len, at + n)));
    }
    case 5:
      // truncate
      return s.slice(0, r.below(len + 1));
    case 6: {
      // duplicate a range in place
      const n = 1 + r.below(Math.max(1, Math.min(64, len - at)));
      return concat(s.subarray(0, at + n), s.subarray(at, at + n), s.subarray(at + n));
    }
    case 7: {
      // splice: a piece of another corpus entry
      const o = r.pick(corpus);
      const from = r.below(o.length + 1);
      const piece = o.subarray(from, from + r.below(o.length - from + 1));
      return r.below(2) === 0 ? concat(s.subarray(0, at), piece, s.subarray(at)) : concat(s.subarray(0, at), piece);
    }
    case 8: {
      // overwrite with a huge-length head
      const h = r.pick(HUGE_HEADS);
      const out = new Uint8Array(s);
      if (len === 0) return new Uint8Array(h);
      const p = r.below(Math.min(len, 160));
      for (let i = 0; i < h.length && p + i < len; i++) out[p + i] = h[i]!;
      return out;
    }
    case 9:
      // append
      return concat(s, r.below(2) === 0 ? r.bytes(1 + r.below(8)) : r.pick(HUGE_HEADS));
    default: {
      // overwrite a short run with random bytes
      if (len === 0) return r.bytes(1 + r.below(4));
      const out = new Uint8Array(s);
      const p = r.below(len);
      for (let i = 0, n = 1 + r.below(8); i < n && p + i < len; i++) out[p + i] = r.u32() & 0xff;
      return out.length > maxLength ? out.subarray(0, maxLength) : out;
    }
  }
}

/** Random bytes: uniform, or a sequence of CBOR-looking heads and arguments. */
export function randomInput(r: Sfc32, maxLength: number): Uint8Array {
  const n = r.below(Math.min(maxLength, 300) + 1);
  if (r.below(2) === 0) return r.bytes(n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.below(3) === 0 ? r.u32() & 0xff : r.pick(INTERESTING);
  return out;
}

/** The i-th input of a chunk: 1 in 8 random, 1 in 32 a corpus entry as is (the valid paths), else 1..4 stacked mutations of one. */
export function nextInput(r: Sfc32, corpus: readonly Uint8Array[], maxLength: number): Uint8Array {
  if (corpus.length === 0 || r.below(8) === 0) return randomInput(r, maxLength);
  let s = r.pick(corpus);
  if (r.below(32) === 0) return s.length > maxLength ? s.subarray(0, maxLength) : s;
  for (let k = 1 + r.below(4); k > 0; k--) s = mutateOnce(r, s, corpus, maxLength);
  return s.length > maxLength ? s.subarray(0, maxLength) : s;
}

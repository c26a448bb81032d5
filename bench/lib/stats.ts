/**
 * Summary statistics shared by the benchmark suite: median and spread over repeated
 * samples, and the instability flag ("varies more than its spread allows").
 */

/** A measured quantity over repeated samples (rounds). */
export interface Measurement {
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
  /** (max − min) / median: the observed relative spread over the samples. */
  readonly spread: number;
  /** The relative spread this kind of measurement is allowed before it is called unstable. */
  readonly allowedSpread: number;
  /** spread > allowedSpread: the figure is not to be trusted to its digits (load from other processes, GC, thermal). */
  readonly flagged: boolean;
  readonly samples: readonly number[];
}

/** Relative spreads allowed by kind of measurement (max − min over median). */
export const ALLOWED_SPREAD = {
  /** CPU-bound microbenchmarks in interleaved slices. */
  cpu: 0.35,
  /** Throughput over the network (loopback) and a disk with fsync. */
  io: 0.5,
  /** Tail latencies. */
  latency: 1.0,
} as const;

export function sortedCopy(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = sortedCopy(xs);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank quantile of an already sorted array (q in [0, 1]). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(sortedCopy(xs), q);
}

export function measurement(samples: readonly number[], unit: string, allowedSpread: number): Measurement {
  const s = sortedCopy(samples);
  const med = median(s);
  const min = s[0] ?? NaN;
  const max = s[s.length - 1] ?? NaN;
  const spread = med > 0 ? (max - min) / med : 0;
  return {
    unit,
    median: med,
    min,
    max,
    n: s.length,
    spread: round(spread, 3),
    allowedSpread,
    flagged: s.length > 1 && spread > allowedSpread,
    samples: [...samples],
  };
}

export function round(x: number, digits = 0): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A number for a table: 3 significant digits below 100, integers above. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** "median (min–max)" with a ⚠ when the measurement is flagged. */
export function fmtMeasurement(m: Measurement): string {
  return `${fmtNum(m.median)} (${fmtNum(m.min)}–${fmtNum(m.max)})${m.flagged ? ' ⚠' : ''}`;
}

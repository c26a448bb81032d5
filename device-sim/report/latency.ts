/** Latency samples (ms) with exact percentiles (nearest rank). */
export class LatencySamples {
  private values = new Float64Array(64);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** A sorted copy of the samples. */
  sorted(): Float64Array {
    return this.values.slice(0, this.n).sort();
  }

  static percentile(sorted: Float64Array, p: number): number | null {
    if (sorted.length === 0) return null;
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
  }

  summary(): LatencySummary {
    const s = this.sorted();
    return summarize(s);
  }
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export function summarize(sorted: Float64Array): LatencySummary {
  const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);
  return {
    n: sorted.length,
    p50: round(LatencySamples.percentile(sorted, 50)),
    p99: round(LatencySamples.percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : null),
  };
}

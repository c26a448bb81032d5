/**
 * Bounds the quarantine per device hint (issue #15 defect 8.2): a device's flood of bad readings
 * evicts only its own oldest rows, never another device's evidence. Rows no link attributes to a
 * device (hint null) share one bucket. Beyond the total bound, rows go from the largest buckets
 * first ("water filling"), so a small bucket is the last to lose rows.
 *
 * The ingestor counts here as it builds each group (on the event loop, like the device counters)
 * and the group's WriteBatch carries the resulting trims: "delete the n oldest rows of bucket h".
 */
export class QuarantineQuota {
  private counts = new Map<string | null, number>();
  private total = 0;
  private readonly touched = new Set<string | null>();

  constructor(
    private readonly perBucket: number,
    private readonly maxTotal: number,
    initial: Iterable<readonly [string | null, number]>,
  ) {
    this.reset(initial);
  }

  /** Counts as stored (startup, or after a failed group whose counts were not committed). */
  reset(initial: Iterable<readonly [string | null, number]>): void {
    this.counts = new Map();
    this.total = 0;
    this.touched.clear();
    for (const [hint, n] of initial) {
      this.counts.set(hint, n);
      this.total += n;
    }
  }

  /** One row of `hint` goes into the current group. */
  add(hint: string | null): void {
    this.counts.set(hint, (this.counts.get(hint) ?? 0) + 1);
    this.total++;
    this.touched.add(hint);
  }

  /** The rows to delete (oldest first) after the current group's inserts, per bucket; resets the group. */
  takeTrims(): Array<[deviceHint: string | null, rows: number]> {
    const trims = new Map<string | null, number>();
    const cut = (hint: string | null, n: number): void => {
      if (n <= 0) return;
      trims.set(hint, (trims.get(hint) ?? 0) + n);
      const left = this.counts.get(hint)! - n;
      if (left > 0) this.counts.set(hint, left);
      else this.counts.delete(hint);
      this.total -= n;
    };
    for (const hint of this.touched) cut(hint, (this.counts.get(hint) ?? 0) - this.perBucket);
    this.touched.clear();
    const excess = this.total - this.maxTotal;
    if (excess > 0) for (const [hint, n] of this.waterFill(excess)) cut(hint, n);
    return [...trims];
  }

  /** Removes `excess` rows from the largest buckets: every bucket above a level L is cut down to L (or L + 1). */
  private waterFill(excess: number): Array<[string | null, number]> {
    const entries = [...this.counts];
    const over = (level: number): number => entries.reduce((s, [, c]) => s + Math.max(0, c - level), 0);
    // the highest level whose cut removes at least `excess` rows (over(level) decreases as level grows)
    let lo = 0;
    let hi = entries.reduce((m, [, c]) => Math.max(m, c), 0);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (over(mid) >= excess) lo = mid;
      else hi = mid - 1;
    }
    let surplus = over(lo) - excess; // fewer than the buckets above lo: each of those keeps one more row
    const out: Array<[string | null, number]> = [];
    for (const [hint, c] of entries) {
      if (c <= lo) continue;
      let n = c - lo;
      if (surplus > 0) {
        n--;
        surplus--;
      }
      if (n > 0) out.push([hint, n]);
    }
    return out;
  }
}

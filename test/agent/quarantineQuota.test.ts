import { describe, expect, it } from 'vitest';
import { QuarantineQuota } from '../../agent/ingest/quarantineQuota.ts';

describe('QuarantineQuota (per-device quarantine buckets)', () => {
  it('cuts a bucket over its own quota and leaves the others alone', () => {
    const q = new QuarantineQuota(3, 100, [['b', 2]]);
    for (let i = 0; i < 5; i++) q.add('a');
    expect(q.takeTrims()).toEqual([['a', 2]]);
    q.add('b');
    expect(q.takeTrims()).toEqual([]);
  });

  it('beyond the total, cuts the largest buckets first down to a common level', () => {
    const q = new QuarantineQuota(1000, 10, [
      ['small', 1],
      ['x', 6],
      ['y', 5],
      [null, 2],
    ]);
    q.add('x'); // total 15: 5 rows must go
    const trims = new Map(q.takeTrims());
    expect([...trims.values()].reduce((s, n) => s + n, 0)).toBe(5);
    expect(trims.has('small')).toBe(false);
    expect(trims.has(null)).toBe(false);
    // x (7) and y (5) end at 4 and 3 or 3 and 4 — never below the smaller buckets' share
    expect((trims.get('x') ?? 0) + (trims.get('y') ?? 0)).toBe(5);
    expect(7 - (trims.get('x') ?? 0)).toBeGreaterThanOrEqual(3);
    expect(5 - (trims.get('y') ?? 0)).toBeGreaterThanOrEqual(3);
  });

  it('reset forgets counts of groups that were not committed', () => {
    const q = new QuarantineQuota(2, 100, []);
    q.add('a');
    q.add('a');
    q.reset([]);
    q.add('a');
    expect(q.takeTrims()).toEqual([]);
  });
});

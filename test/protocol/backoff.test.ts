import { describe, expect, it } from 'vitest';
import { backoffDelay as anchorDelay, DEFAULT_BACKOFF as ANCHOR } from '../../chain/anchor/backoff.ts';
import { backoffDelay as deviceDelay, DEFAULT_BACKOFF as DEVICE } from '../../device-sim/firmware/backoff.ts';
import { nextDelay } from '../../protocol/backoff.ts';

describe('nextDelay (the one backoff helper)', () => {
  it('full jitter: uniform in [0, min(max, base · 2^attempt)), from the injected randomness', () => {
    const spec = { baseMs: 500, maxMs: 30_000, jitter: 'full' as const };
    expect(nextDelay(0, spec, () => 0)).toBe(0);
    expect(nextDelay(0, spec, () => 0.5)).toBe(250);
    expect(nextDelay(3, spec, () => 0.5)).toBe(2000);
    expect(nextDelay(3, spec, () => 0.999_999)).toBe(3999);
    expect(nextDelay(10, spec, () => 0.5)).toBe(15_000); // capped at maxMs
    expect(nextDelay(1000, spec, () => 0.5)).toBe(15_000);
  });

  it('relative jitter: ceiling · (1 ± j), rounded, never negative; factor honoured', () => {
    const spec = { baseMs: 200, maxMs: 5000, factor: 3, jitter: 0.2 };
    expect(nextDelay(0, spec, () => 0.5)).toBe(200);
    expect(nextDelay(0, spec, () => 0)).toBe(160);
    expect(nextDelay(2, spec, () => 0.5)).toBe(1800);
    expect(nextDelay(9, spec, () => 0.5)).toBe(5000);
    expect(nextDelay(0, { baseMs: 10, maxMs: 10, jitter: 5 }, () => 0)).toBe(0);
  });

  it('is deterministic for the same random stream', () => {
    let s = 1;
    const lcg = (): number => (s = (s * 48271) % 2147483647) / 2147483647;
    const a = Array.from({ length: 20 }, (_, i) => nextDelay(i, { baseMs: 100, maxMs: 10_000, jitter: 'full' }, lcg));
    s = 1;
    const b = Array.from({ length: 20 }, (_, i) => nextDelay(i, { baseMs: 100, maxMs: 10_000, jitter: 'full' }, lcg));
    expect(a).toEqual(b);
  });

  it('the anchor retries and the device reconnections are its curves', () => {
    for (const u of [0, 0.25, 0.5, 0.75, 0.999]) {
      for (let attempt = 1; attempt < 12; attempt++) {
        const base = Math.min(ANCHOR.maxMs, ANCHOR.initialMs * ANCHOR.factor ** (attempt - 1));
        expect(anchorDelay(ANCHOR, attempt, () => u)).toBe(Math.max(0, Math.round(base + base * ANCHOR.jitter * (2 * u - 1))));
      }
      for (let attempt = 0; attempt < 40; attempt++) {
        const ceiling = Math.min(DEVICE.capMs, DEVICE.baseMs * 2 ** Math.min(attempt, 30));
        expect(deviceDelay(attempt, DEVICE, { uniform: () => u } as never)).toBe(Math.floor(u * ceiling));
      }
    }
  });
});

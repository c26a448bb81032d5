import { describe, expect, it } from 'vitest';
import { NO_FAULTS, parseFaults, tickFault, transmitFault } from '../../device-sim/faults/faultPlan.ts';
import { backoffDelay } from '../../device-sim/firmware/backoff.ts';
import { createPrng } from '../../device-sim/random/prng.ts';
import { seededRng } from '../../protocol/rng.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { parseDuration } from '../../device-sim/time/duration.ts';

describe('faults, backoff and virtual time', () => {
  it('parses fault specs and refuses bad ones', () => {
    expect(parseFaults('none')).toEqual(NO_FAULTS);
    const f = parseFaults('drop=0.1,dup=0.05,corrupt=0.01,reorder=0.02,delay=0.03:2s,reboot=0.001:1s,link=0.002:30s');
    expect(f).toEqual({
      drop: 0.1,
      duplicate: 0.05,
      corrupt: 0.01,
      reorder: 0.02,
      delay: 0.03,
      delayMaxMs: 2000,
      reboot: 0.001,
      rebootOffMs: 1000,
      linkDown: 0.002,
      linkDownMs: 30_000,
    });
    for (const bad of ['drop=2', 'boom=0.1', 'drop=0.6,dup=0.6', 'drop=0.1:5s', 'delay=0.1:soon']) {
      expect(() => parseFaults(bad)).toThrow(expect.objectContaining({ code: 'SIM_FAULT_SPEC_INVALID' }));
    }
  });

  it('decisions are a pure function of (seed, device, seq, attempt) and follow the rates', () => {
    const rates = parseFaults('drop=0.1,dup=0.1,corrupt=0.1,reorder=0.1,delay=0.1:1s,reboot=0.05,link=0.05');
    const counts: Record<string, number> = {};
    for (let seq = 0; seq < 20_000; seq++) {
      const a = transmitFault(rates, 'S', 'dev-1', seq, 0);
      expect(transmitFault(rates, 'S', 'dev-1', seq, 0)).toEqual(a);
      counts[a.kind] = (counts[a.kind] ?? 0) + 1;
      if (a.kind === 'delay') expect(a.ms).toBeGreaterThanOrEqual(100);
    }
    for (const k of ['drop', 'duplicate', 'corrupt', 'reorder', 'delay']) expect(counts[k]! / 20_000).toBeCloseTo(0.1, 1);
    expect(counts['none']! / 20_000).toBeCloseTo(0.5, 1);
    let reboots = 0;
    for (let t = 0; t < 20_000; t++) if (tickFault(rates, 'S', 'dev-1', t).kind === 'reboot') reboots++;
    expect(reboots / 20_000).toBeCloseTo(0.05, 1);
    // another device or seed gets other faults
    const other = Array.from({ length: 50 }, (_, s) => transmitFault(rates, 'S', 'dev-2', s, 0).kind);
    expect(other).not.toEqual(Array.from({ length: 50 }, (_, s) => transmitFault(rates, 'S', 'dev-1', s, 0).kind));
  });

  it('backoff: exponential ceiling, full jitter, capped', () => {
    const prng = createPrng(seededRng('b'));
    const o = { baseMs: 100, capMs: 5000 };
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(5000, 100 * 2 ** attempt);
      const ds = Array.from({ length: 200 }, () => backoffDelay(attempt, o, prng));
      expect(Math.min(...ds)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...ds)).toBeLessThan(ceiling);
      expect(Math.max(...ds)).toBeGreaterThan(ceiling * 0.8); // spread over the whole range
    }
  });

  it('virtual scheduler runs timers in time order (ties in set order) and cancels', () => {
    const s = new VirtualScheduler(1000);
    const log: string[] = [];
    s.after(10, () => log.push('b'));
    s.after(5, () => {
      log.push('a');
      s.after(5, () => log.push('a2')); // same instant as b, set later
    });
    const c = s.after(7, () => log.push('never'));
    c.cancel();
    expect(s.pending).toBe(2);
    expect(s.runUntil(1009)).toBe(1);
    expect(s.now()).toBe(1009);
    s.runUntil(2000);
    expect(log).toEqual(['a', 'b', 'a2']);
    expect(s.nextAt()).toBeUndefined();
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(expect.objectContaining({ code: 'SIM_DURATION_INVALID' }));
  });
});

import { describe, expect, it } from 'vitest';
import { encodeReading } from '../../protocol/envelope/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import {
  ECG_SAMPLE_RATE_HZ,
  parseScenario,
  PROFILES,
  PROFILE_NAMES,
  profileByName,
  ScenarioTimeline,
  type ProfileName,
} from '../../device-sim/profiles/index.ts';
import { isSimError } from '../../device-sim/errors.ts';

const T0 = 1_767_225_600_000;
const MIN = 60_000;

function series(profile: ProfileName, seed: string, n: number, scenarios = new ScenarioTimeline(), periodMs = PROFILES[profile].periodMs) {
  const g = PROFILES[profile].createGenerator({ rng: seededRng(seed), scenarios, runStartMs: T0 });
  return Array.from({ length: n }, (_, i) => g.next(T0 + i * periodMs));
}

describe('profiles', () => {
  it('same seed ⇒ the same readings, byte for byte; another seed ⇒ other readings', () => {
    for (const p of PROFILE_NAMES) {
      const a = series(p, 'seed-1', 20).map(encodeReading);
      const b = series(p, 'seed-1', 20).map(encodeReading);
      const c = series(p, 'seed-2', 20).map(encodeReading);
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
    }
  });

  it('produce valid readings in realistic ranges, with the profile’s sensor type, unit and period', () => {
    const ranges: Record<ProfileName, Array<[number, number]>> = {
      'pulse-oximeter': [
        [90, 100],
        [40, 120],
      ],
      'ecg-patch': [],
      'nibp-cuff': [
        [85, 180],
        [45, 110],
        [55, 135],
        [40, 120],
      ],
      cgm: [[40, 250]],
      thermometer: [[35.5, 38]],
    };
    for (const p of PROFILE_NAMES) {
      const prof = PROFILES[p];
      for (const r of series(p, `range-${p}`, 300)) {
        expect(() => encodeReading(r)).not.toThrow();
        expect(r.st).toBe(prof.st);
        expect(r.u).toBe(prof.unit);
        ranges[p].forEach(([lo, hi], i) => {
          expect(r.v[i]).toBeGreaterThanOrEqual(lo);
          expect(r.v[i]).toBeLessThanOrEqual(hi);
        });
      }
    }
    expect(PROFILES['pulse-oximeter'].periodMs).toBe(1000);
    expect(PROFILES['ecg-patch'].periodMs).toBe(1000);
    expect(PROFILES['nibp-cuff'].periodMs).toBe(15 * MIN);
    expect(PROFILES.cgm.periodMs).toBe(5 * MIN);
  });

  it('ECG: 250 integer µV samples per 1 s block, R peaks at the heart rate', () => {
    const blocks = series('ecg-patch', 'ecg', 30);
    const samples = blocks.flatMap((b) => b.v);
    expect(blocks.every((b) => b.v.length === ECG_SAMPLE_RATE_HZ && b.v.every(Number.isInteger))).toBe(true);
    // count R peaks: local maxima above 600 µV, at least 200 ms apart
    let peaks = 0;
    let last = -1000;
    for (let i = 1; i < samples.length - 1; i++) {
      if (samples[i]! > 600 && samples[i]! >= samples[i - 1]! && samples[i]! > samples[i + 1]! && i - last > 50) {
        peaks++;
        last = i;
      }
    }
    const bpm = (peaks * 60) / 30;
    expect(bpm).toBeGreaterThan(45);
    expect(bpm).toBeLessThan(110);
  });

  it('play scenarios on the timeline: desaturation, tachycardia, hypoglycaemia, fever', () => {
    const at = (kind: string) => new ScenarioTimeline([parseScenario(`${kind}@10m+20m`)]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // pulse oximeter, 1 Hz, 40 min: compare minutes 0-9 with the plateau (15-25)
    const spo2 = series('pulse-oximeter', 'sc', 2400, at('desaturation'));
    const before = mean(spo2.slice(0, 540).map((r) => r.v[0]!));
    const during = mean(spo2.slice(900, 1500).map((r) => r.v[0]!));
    expect(during).toBeLessThan(before - 10);
    expect(during).toBeLessThan(88);
    expect(mean(spo2.slice(2100).map((r) => r.v[0]!))).toBeGreaterThan(before - 2); // recovered
    const tachy = series('pulse-oximeter', 'sc', 1500, at('tachycardia'));
    expect(mean(tachy.slice(900, 1500).map((r) => r.v[1]!))).toBeGreaterThan(mean(tachy.slice(0, 540).map((r) => r.v[1]!)) + 45);
    const glucose = series('cgm', 'sc', 8, at('hypoglycaemia'));
    expect(glucose[4]!.v[0]).toBeLessThan(65); // minute 20
    const temp = series('thermometer', 'sc', 25, at('fever'));
    expect(temp[20]!.v[0]).toBeGreaterThan(38.5);
    expect(temp[2]!.v[0]).toBeLessThan(37.6);
  });

  it('parses scenarios and profile names, refusing bad ones with stable codes', () => {
    expect(parseScenario('fever@1h+6h:0.5')).toEqual({ kind: 'fever', atMs: 3_600_000, durationMs: 21_600_000, severity: 0.5 });
    for (const bad of ['fever', 'stroke@1m+1m', 'fever@x+1m', 'fever@1m+1m:2']) {
      expect(() => parseScenario(bad)).toThrow(expect.objectContaining({ code: 'SIM_SCENARIO_INVALID' }));
    }
    expect(profileByName('spo2').name).toBe('pulse-oximeter');
    expect(profileByName('temp').name).toBe('thermometer');
    try {
      profileByName('toaster');
      expect.unreachable();
    } catch (e) {
      expect(isSimError(e, 'SIM_PROFILE_UNKNOWN')).toBe(true);
    }
  });
});

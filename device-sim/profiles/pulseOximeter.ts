import { createPrng } from '../random/prng.ts';
import { clamp, drawBaseline, heartRateShift, OuProcess } from './physiology.ts';
import type { DeviceProfile } from './profile.ts';

/**
 * Finger-clip pulse oximeter, 1 Hz: v = [SpO2 %, pulse rate bpm], integers as bedside
 * monitors display them. SpO2 wanders ±0.6 % (τ 60 s) with ±0.5 % sensor noise, clipped
 * to 70–100 %; a full desaturation takes it 15 points down (≈ 82 %) and the pulse up.
 */
export const pulseOximeter: DeviceProfile = {
  name: 'pulse-oximeter',
  title: 'pulse oximeter (SpO2 + pulse, 1 Hz)',
  st: 'spo2',
  unit: '%,bpm',
  values: ['SpO2 %', 'pulse bpm'],
  periodMs: 1000,
  createGenerator({ rng, scenarios, runStartMs }) {
    const prng = createPrng(rng);
    const base = drawBaseline(prng);
    const spo2Drift = new OuProcess(prng, 0.6, 60_000);
    const hrDrift = new OuProcess(prng, 2.5, 30_000);
    let last: number | undefined;
    return {
      next(ts) {
        const dt = last === undefined ? 0 : ts - last;
        last = ts;
        const t = ts - runStartMs;
        const desat = scenarios.intensity('desaturation', t);
        const spo2 = clamp(Math.round(base.spo2 + spo2Drift.step(dt) - 15 * desat + 0.5 * prng.gaussian()), 70, 100);
        const pr = clamp(Math.round(base.hr + heartRateShift(scenarios, t) + hrDrift.step(dt) + prng.gaussian()), 30, 220);
        return { st: 'spo2', ts, v: [spo2, pr], u: '%,bpm' };
      },
    };
  },
};

import { createPrng } from '../random/prng.ts';
import { clamp, drawBaseline, heartRateShift, OuProcess } from './physiology.ts';
import type { DeviceProfile } from './profile.ts';

export const ECG_SAMPLE_RATE_HZ = 250;

/**
 * PQRST waves as Gaussians over the beat phase (after McSharry et al., "A dynamical model
 * for generating synthetic electrocardiogram signals", IEEE TBME 2003): amplitude (mV),
 * centre and width in fractions of the RR interval.
 */
const WAVES = [
  { a: 0.15, mu: 0.2, sigma: 0.025 }, // P
  { a: -0.12, mu: 0.365, sigma: 0.01 }, // Q
  { a: 1.1, mu: 0.39, sigma: 0.011 }, // R
  { a: -0.25, mu: 0.415, sigma: 0.011 }, // S
  { a: 0.3, mu: 0.66, sigma: 0.045 }, // T
] as const;

/**
 * Single-lead ECG patch, 250 Hz, sent as one block of 250 samples per second:
 * v = 250 integers in µV (a firmware sends ADC-scaled integers, 1–3 CBOR bytes each,
 * rather than 9-byte floats). Heart rate from the patient's baseline and scenarios,
 * 3 % beat-to-beat RR variability, 0.25 Hz respiratory baseline wander and 20 µV noise.
 */
export const ecgPatch: DeviceProfile = {
  name: 'ecg-patch',
  title: 'ECG patch (250 Hz, 1 s blocks)',
  st: 'ecg',
  unit: 'uV',
  values: ['250 samples, µV'],
  periodMs: 1000,
  createGenerator({ rng, scenarios, runStartMs }) {
    const prng = createPrng(rng);
    const base = drawBaseline(prng);
    const hrDrift = new OuProcess(prng, 2, 30_000);
    const dt = 1 / ECG_SAMPLE_RATE_HZ;
    let phase = prng.uniform();
    let rr = 60 / base.hr;
    let wander = prng.uniform() * 2 * Math.PI;
    let last: number | undefined;
    return {
      next(ts) {
        const t = ts - runStartMs;
        const hr = clamp(base.hr + heartRateShift(scenarios, t) + hrDrift.step(last === undefined ? 0 : ts - last), 35, 210);
        last = ts;
        const samples = new Array<number>(ECG_SAMPLE_RATE_HZ);
        for (let i = 0; i < ECG_SAMPLE_RATE_HZ; i++) {
          phase += dt / rr;
          if (phase >= 1) {
            phase -= 1;
            rr = (60 / hr) * (1 + 0.03 * prng.gaussian());
          }
          let mv = 0;
          for (const w of WAVES) {
            const d = phase - w.mu;
            mv += w.a * Math.exp(-(d * d) / (2 * w.sigma * w.sigma));
          }
          wander += 2 * Math.PI * 0.25 * dt;
          mv += 0.08 * Math.sin(wander) + 0.02 * prng.gaussian();
          samples[i] = Math.round(mv * 1000);
        }
        return { st: 'ecg', ts, v: samples, u: 'uV' };
      },
    };
  },
};

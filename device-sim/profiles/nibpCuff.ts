import { createPrng } from '../random/prng.ts';
import { clamp, drawBaseline, feverDegrees, heartRateShift, OuProcess } from './physiology.ts';
import type { DeviceProfile } from './profile.ts';

/**
 * Non-invasive blood-pressure cuff: every 15 min (and on demand, `measureNow()`),
 * v = [systolic, diastolic, mean arterial pressure, pulse] in mmHg / bpm, integers.
 * Oscillometric error ± 4 mmHg; tachycardia raises systolic pressure, fever lowers it.
 */
export const nibpCuff: DeviceProfile = {
  name: 'nibp-cuff',
  title: 'NIBP cuff (every 15 min / on demand)',
  st: 'nibp',
  unit: 'mmHg,bpm',
  values: ['systolic mmHg', 'diastolic mmHg', 'MAP mmHg', 'pulse bpm'],
  periodMs: 15 * 60_000,
  createGenerator({ rng, scenarios, runStartMs }) {
    const prng = createPrng(rng);
    const base = drawBaseline(prng);
    const drift = new OuProcess(prng, 6, 3 * 3_600_000);
    let last: number | undefined;
    return {
      next(ts) {
        const t = ts - runStartMs;
        const d = drift.step(last === undefined ? 0 : ts - last);
        last = ts;
        const shift =
          15 * scenarios.intensity('tachycardia', t) + 8 * scenarios.intensity('hypoglycaemia', t) - 4 * feverDegrees(scenarios, t);
        const sys = clamp(Math.round(base.sys + d + shift + 4 * prng.gaussian()), 60, 260);
        const dia = clamp(Math.round(base.dia + 0.6 * d + 0.4 * shift + 4 * prng.gaussian()), 30, sys - 10);
        const map = Math.round(dia + (sys - dia) / 3);
        const pr = clamp(Math.round(base.hr + heartRateShift(scenarios, t) + 2 * prng.gaussian()), 30, 220);
        return { st: 'nibp', ts, v: [sys, dia, map, pr], u: 'mmHg,bpm' };
      },
    };
  },
};

import { createPrng } from '../random/prng.ts';
import { clamp, drawBaseline, OuProcess } from './physiology.ts';
import type { DeviceProfile } from './profile.ts';

const DAY_MS = 86_400_000;

/**
 * Continuous glucose monitor, every 5 min: v = [glucose mg/dL], an integer in the
 * sensor's reporting range 40–400 mg/dL. Meal-like excursions (three a day, ~+40 mg/dL),
 * slow drift (± 10 mg/dL, τ 1 h), ± 4 mg/dL sensor noise; a full hypoglycaemia takes
 * glucose to ~50 mg/dL.
 */
export const cgm: DeviceProfile = {
  name: 'cgm',
  title: 'CGM (every 5 min)',
  st: 'cgm',
  unit: 'mg/dL',
  values: ['glucose mg/dL'],
  periodMs: 5 * 60_000,
  createGenerator({ rng, scenarios, runStartMs }) {
    const prng = createPrng(rng);
    const base = drawBaseline(prng);
    const drift = new OuProcess(prng, 10, 3_600_000);
    const mealPhase = prng.uniform();
    let last: number | undefined;
    return {
      next(ts) {
        const t = ts - runStartMs;
        const d = drift.step(last === undefined ? 0 : ts - last);
        last = ts;
        const dayPhase = ((ts % DAY_MS) / DAY_MS + mealPhase) % 1;
        const meals = 40 * Math.max(0, Math.sin(dayPhase * 3 * 2 * Math.PI)) ** 3;
        const normal = base.glucose + d + meals;
        const hypo = scenarios.intensity('hypoglycaemia', t);
        const glucose = clamp(Math.round(normal + hypo * (50 - normal) + 4 * prng.gaussian()), 40, 400);
        return { st: 'cgm', ts, v: [glucose], u: 'mg/dL' };
      },
    };
  },
};

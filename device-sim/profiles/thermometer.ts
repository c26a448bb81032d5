import { createPrng } from '../random/prng.ts';
import { clamp, drawBaseline, feverDegrees, OuProcess } from './physiology.ts';
import type { DeviceProfile } from './profile.ts';

const DAY_MS = 86_400_000;

/**
 * Wearable thermometer patch, every minute: v = [temperature °C] to 0.01 °C. Circadian
 * swing ± 0.3 °C, drift ± 0.1 °C (τ 20 min), ± 0.05 °C noise; a full fever adds 2.5 °C.
 */
export const thermometer: DeviceProfile = {
  name: 'thermometer',
  title: 'thermometer (every 1 min)',
  st: 'temp',
  unit: '°C',
  values: ['temperature °C'],
  periodMs: 60_000,
  createGenerator({ rng, scenarios, runStartMs }) {
    const prng = createPrng(rng);
    const base = drawBaseline(prng);
    const drift = new OuProcess(prng, 0.1, 20 * 60_000);
    let last: number | undefined;
    return {
      next(ts) {
        const t = ts - runStartMs;
        const d = drift.step(last === undefined ? 0 : ts - last);
        last = ts;
        const circadian = 0.3 * Math.sin(((ts % DAY_MS) / DAY_MS) * 2 * Math.PI - Math.PI / 2);
        const c = base.tempC + circadian + d + feverDegrees(scenarios, t) + 0.05 * prng.gaussian();
        return { st: 'temp', ts, v: [Math.round(clamp(c, 30, 43) * 100) / 100], u: '°C' };
      },
    };
  },
};

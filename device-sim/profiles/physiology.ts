import type { Prng } from '../random/prng.ts';
import type { ScenarioTimeline } from './scenario.ts';

/** One simulated patient's resting values, drawn once per device from its seed. */
export interface PatientBaseline {
  /** Heart rate, bpm. */
  readonly hr: number;
  /** SpO2, %. */
  readonly spo2: number;
  /** Systolic / diastolic pressure, mmHg. */
  readonly sys: number;
  readonly dia: number;
  /** Interstitial glucose, mg/dL. */
  readonly glucose: number;
  /** Core temperature, °C. */
  readonly tempC: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Adult ward-patient ranges (resting): HR 72 ± 8, SpO2 97.5 ± 1, BP 122/78 ± 12/8, glucose 105 ± 12, 36.8 ± 0.25 °C. */
export function drawBaseline(prng: Prng): PatientBaseline {
  const n = (mean: number, sd: number, lo: number, hi: number): number => clamp(mean + sd * prng.gaussian(), lo, hi);
  const sys = n(122, 12, 95, 160);
  return {
    hr: n(72, 8, 52, 100),
    spo2: n(97.5, 1, 94.5, 99.5),
    sys,
    dia: clamp(n(78, 8, 55, 100), 45, sys - 25),
    glucose: n(105, 12, 75, 150),
    tempC: n(36.8, 0.25, 36.1, 37.4),
  };
}

/**
 * Ornstein–Uhlenbeck drift: mean-reverting noise with standard deviation `sigma` and
 * time constant `tauMs` — the slow wandering of a vital sign around its baseline.
 */
export class OuProcess {
  private x = 0;
  constructor(
    private readonly prng: Prng,
    private readonly sigma: number,
    private readonly tauMs: number,
  ) {
    this.x = sigma * prng.gaussian();
  }

  step(dtMs: number): number {
    if (dtMs <= 0) return this.x;
    const a = Math.exp(-dtMs / this.tauMs);
    this.x = a * this.x + this.sigma * Math.sqrt(1 - a * a) * this.prng.gaussian();
    return this.x;
  }
}

/** How the scenarios move the heart rate (bpm): tachycardia +60, desaturation +12, hypoglycaemia +18, fever +10/°C. */
export function heartRateShift(timeline: ScenarioTimeline, t: number): number {
  return (
    60 * timeline.intensity('tachycardia', t) +
    12 * timeline.intensity('desaturation', t) +
    18 * timeline.intensity('hypoglycaemia', t) +
    10 * feverDegrees(timeline, t)
  );
}

/** Fever: up to +2.5 °C (39.3 °C from a 36.8 °C baseline). */
export function feverDegrees(timeline: ScenarioTimeline, t: number): number {
  return 2.5 * timeline.intensity('fever', t);
}

export { clamp };

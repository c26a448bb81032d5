import type { Reading } from '../../protocol/envelope/index.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { ScenarioTimeline } from './scenario.ts';

export const PROFILE_NAMES = ['pulse-oximeter', 'ecg-patch', 'nibp-cuff', 'cgm', 'thermometer'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** DataGen() of one device: the next reading, measured at `ts` (ms since the epoch). */
export interface ReadingGenerator {
  next(ts: number): Reading;
}

export interface GeneratorOptions {
  /** The device's signal stream (deterministic from the run seed). */
  readonly rng: Rng;
  readonly scenarios: ScenarioTimeline;
  /** When the run started: scenario times are relative to it. */
  readonly runStartMs: number;
}

export interface DeviceProfile {
  readonly name: ProfileName;
  readonly title: string;
  /** Sensor type in the envelope header. */
  readonly st: string;
  /** Unit string of the reading (values in `v` follow its order). */
  readonly unit: string;
  /** What the values are, in order. */
  readonly values: readonly string[];
  /** Default measurement interval. */
  readonly periodMs: number;
  createGenerator(options: GeneratorOptions): ReadingGenerator;
}

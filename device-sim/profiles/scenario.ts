import { simFail } from '../errors.ts';
import { parseDuration } from '../time/duration.ts';

/** Clinical events the generators can play on a timeline. */
export const SCENARIO_KINDS = ['desaturation', 'tachycardia', 'hypoglycaemia', 'fever'] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

export interface ScenarioEvent {
  readonly kind: ScenarioKind;
  /** Start, ms after the run started. */
  readonly atMs: number;
  readonly durationMs: number;
  /** 0..1 (1 = the full textbook episode, see each profile). */
  readonly severity: number;
}

/**
 * Scenario timeline: each event ramps in (a quarter of its duration, raised cosine),
 * holds, and ramps out, so signals change the way a patient's do rather than in steps.
 * `intensity(kind, t)` is the strongest active event of that kind at t (0..1).
 */
export class ScenarioTimeline {
  readonly events: readonly ScenarioEvent[];

  constructor(events: readonly ScenarioEvent[] = []) {
    this.events = [...events].sort((a, b) => a.atMs - b.atMs);
  }

  intensity(kind: ScenarioKind, sinceStartMs: number): number {
    let best = 0;
    for (const e of this.events) {
      if (e.kind !== kind) continue;
      const x = sinceStartMs - e.atMs;
      if (x <= 0 || x >= e.durationMs) continue;
      const ramp = e.durationMs / 4;
      const edge = Math.min(x, e.durationMs - x);
      const shape = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
      best = Math.max(best, shape * e.severity);
    }
    return best;
  }
}

/**
 * "desaturation@10m+5m", "fever@1h+6h:0.6" → an event (kind @ start + duration [: severity]).
 * SIM_SCENARIO_INVALID for anything else.
 */
export function parseScenario(text: string): ScenarioEvent {
  const m = /^([a-z]+)@([0-9a-z.]+)\+([0-9a-z.]+)(?::([0-9.]+))?$/.exec(text.trim());
  if (!m) simFail('SIM_SCENARIO_INVALID', 'expected kind@start+duration[:severity], e.g. desaturation@10m+5m');
  const kind = m[1] as ScenarioKind;
  if (!(SCENARIO_KINDS as readonly string[]).includes(kind))
    simFail('SIM_SCENARIO_INVALID', `unknown scenario (known: ${SCENARIO_KINDS.join(', ')})`);
  let atMs: number;
  let durationMs: number;
  try {
    atMs = parseDuration(m[2]!);
    durationMs = parseDuration(m[3]!);
  } catch (e) {
    return simFail('SIM_SCENARIO_INVALID', 'scenario start/duration is not a duration', e);
  }
  const severity = m[4] === undefined ? 1 : Number(m[4]);
  if (!(severity > 0 && severity <= 1)) simFail('SIM_SCENARIO_INVALID', 'severity must be in (0, 1]');
  if (durationMs <= 0) simFail('SIM_SCENARIO_INVALID', 'duration must be positive');
  return { kind, atMs, durationMs, severity };
}

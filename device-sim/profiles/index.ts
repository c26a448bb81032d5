import { simFail } from '../errors.ts';
import { cgm } from './cgm.ts';
import { ecgPatch } from './ecgPatch.ts';
import { nibpCuff } from './nibpCuff.ts';
import type { DeviceProfile, ProfileName } from './profile.ts';
import { pulseOximeter } from './pulseOximeter.ts';
import { thermometer } from './thermometer.ts';

export * from './profile.ts';
export { parseScenario, ScenarioTimeline, SCENARIO_KINDS, type ScenarioEvent, type ScenarioKind } from './scenario.ts';
export { ECG_SAMPLE_RATE_HZ } from './ecgPatch.ts';

export const PROFILES: Readonly<Record<ProfileName, DeviceProfile>> = {
  'pulse-oximeter': pulseOximeter,
  'ecg-patch': ecgPatch,
  'nibp-cuff': nibpCuff,
  cgm,
  thermometer,
};

const ALIASES: Record<string, ProfileName> = {
  spo2: 'pulse-oximeter',
  pulseox: 'pulse-oximeter',
  oximeter: 'pulse-oximeter',
  ecg: 'ecg-patch',
  nibp: 'nibp-cuff',
  bp: 'nibp-cuff',
  glucose: 'cgm',
  temp: 'thermometer',
};

/** A profile by name or alias (spo2, ecg, nibp, cgm, temp); SIM_PROFILE_UNKNOWN otherwise. */
export function profileByName(name: string): DeviceProfile {
  const key = (ALIASES[name] ?? name) as ProfileName;
  const p = PROFILES[key];
  if (p === undefined) simFail('SIM_PROFILE_UNKNOWN', `unknown profile (known: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** The checks every run of the ward scenario must pass (the demo's summary, the e2e test, the pipeline benchmark's precheck). */
import type { ReadRecord } from '../../wallet/readings.ts';
import type { SentReading, WardFlowResult } from './types.ts';

/** Plaintexts the clinician must have decrypted exactly: one check per sent reading. */
export function compareWithSent(
  sent: readonly SentReading[],
  read: readonly ReadRecord[],
): { matched: number; missing: number; differing: number } {
  let matched = 0;
  let differing = 0;
  let missing = 0;
  for (const s of sent) {
    const r = read.find((x) => x.record.device === s.device && x.record.seq === s.seq);
    if (!r?.reading) missing++;
    else if (JSON.stringify(r.reading) === JSON.stringify(s.reading)) matched++;
    else differing++;
  }
  return { matched, missing, differing };
}

/** The stable codes each refused case must answer with. */
export const EXPECTED_REFUSALS: WardFlowResult['refusals'] = {
  unregistered: 'API_NOT_REGISTERED',
  unauthorized: 'API_CONSENT_DENIED',
  replayed: 'API_REPLAYED',
  expired: 'API_EXPIRED',
  revoked: 'API_CONSENT_DENIED',
  otherPatientsDevice: 'API_DEVICE_NOT_ASSIGNED',
  otherPatientsKey: 'API_SESSION_KEY_TAKEN',
};

/**
 * Value rules shared by the reading envelope and session tickets. Sensor types
 * end up in file names and SQL rows, so they are restricted to a safe ASCII
 * alphabet. The device-id rule is protocol/deviceId.ts (used everywhere).
 */

/** Sensor type, e.g. "spo2", "ecg", "nibp", "cgm", "temp": 1..32 of [A-Za-z0-9._-]. */
export const SENSOR_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

/** Unit, e.g. "%", "mV", "mmHg", "mg/dL", "°C": 1..16 characters, no control characters. */
export const UNIT_PATTERN = /^[^\p{Cc}]{1,16}$/u;

/** Pseudonymous patient reference in a ticket: 1..128 characters, no control characters. */
export const PATIENT_REF_PATTERN = /^[^\p{Cc}]{1,128}$/u;

export function isSensorType(v: unknown): v is string {
  return typeof v === 'string' && SENSOR_TYPE_PATTERN.test(v);
}

export function isUnit(v: unknown): v is string {
  return typeof v === 'string' && UNIT_PATTERN.test(v);
}

export function isPatientRef(v: unknown): v is string {
  return typeof v === 'string' && PATIENT_REF_PATTERN.test(v);
}

/** A non-negative integer that a JS number holds exactly (seq, ts, NumericDate, counts). */
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

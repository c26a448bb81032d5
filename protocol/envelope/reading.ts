import { decodeStrict, isCborMap, type CborValue } from '../cbor/index.ts';
import { tryDecodeCanonicalReading, writeReadingPlaintext } from './canonicalReading.ts';
import { fail } from '../errors.ts';
import { isSensorType, isUint, isUnit } from './fields.ts';

/** DataGen() output: one measurement block. */
export interface Reading {
  /** Sensor type, e.g. "spo2", "ecg" (same as the envelope's protected `st`). */
  readonly st: string;
  /** Measurement time, ms since the epoch (same as the protected `ts`). */
  readonly ts: number;
  /** Values: finite numbers (an ECG block carries 250 samples). */
  readonly v: readonly number[];
  /** Unit, e.g. "%", "mV", "mmHg". */
  readonly u: string;
}

/** Most values in one reading: a 250-sample ECG block fits with room; 400 float64 values still fit a 4096-byte envelope. */
export const READING_MAX_VALUES = 400;

const READING_KEYS = new Set(['st', 'ts', 'v', 'u']);

/** Throws READING_INVALID unless `r` is a valid reading. */
export function checkReading(r: Reading): void {
  checkReadingExceptValues(r);
  for (const x of r.v) if (typeof x !== 'number' || !Number.isFinite(x)) failNotFinite();
}

/** checkReading's checks in its order, but for the last: that every value is a finite number. */
function checkReadingExceptValues(r: Reading): void {
  if (typeof r !== 'object' || r === null) fail('READING_INVALID', 'reading is not an object');
  if (!isSensorType(r.st)) fail('READING_INVALID', 'st is not a valid sensor type');
  if (!isUint(r.ts)) fail('READING_INVALID', 'ts is not a uint (ms)');
  if (!isUnit(r.u)) fail('READING_INVALID', 'u is not a valid unit');
  if (!Array.isArray(r.v) || r.v.length === 0 || r.v.length > READING_MAX_VALUES) fail('READING_INVALID', 'v is not 1..400 values');
}

const failNotFinite = (): never => fail('READING_INVALID', 'a value is not a finite number');

/** Deterministic CBOR plaintext `{st, ts, v, u}` (text keys), written directly (canonicalReading.ts). */
export function encodeReading(r: Reading): Uint8Array {
  checkReadingExceptValues(r);
  // the writer checks each value as it sizes it (checkReading's last check, in the same pass)
  return writeReadingPlaintext(r) ?? failNotFinite();
}

/**
 * Strictly decodes and validates a reading plaintext (READING_INVALID on anything else): the
 * canonical layout is read directly, anything else by the strict generic decoder (same result).
 */
export function decodeReading(plaintext: Uint8Array): Reading {
  return tryDecodeCanonicalReading(plaintext) ?? decodeReadingStrict(plaintext);
}

/** The generic path: strict CBOR decode, then the field checks (exported for the tests that compare both paths). */
export function decodeReadingStrict(plaintext: Uint8Array): Reading {
  let map: CborValue;
  try {
    // a float only among the values "v" (§4.1): "ts" is an integer
    map = decodeStrict(plaintext, { maxDepth: 2, maxItems: READING_MAX_VALUES, maxStringBytes: 128, floats: 'array-elements' });
  } catch (e) {
    fail('READING_INVALID', 'reading is not strict CBOR', e);
  }
  if (!isCborMap(map) || map.size !== READING_KEYS.size) fail('READING_INVALID', 'reading is not a {st, ts, v, u} map');
  for (const key of map.keys())
    if (typeof key !== 'string' || !READING_KEYS.has(key)) fail('READING_INVALID', 'reading has an unknown field');
  const reading = { st: map.get('st'), ts: map.get('ts'), v: map.get('v'), u: map.get('u') } as Reading;
  checkReading(reading);
  return reading;
}

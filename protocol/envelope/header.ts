import { encodeCanonical, isBytes, type CborMap, type CborValue } from '../cbor/index.ts';
import { ALG, HEADER } from '../cose/index.ts';
import { fail } from '../errors.ts';
import { ENC_BYTES, ENVELOPE_FIELD, ENVELOPE_MODE_AUTH, KID_BYTES } from './constants.ts';
import { isDeviceId } from '../deviceId.ts';
import { isSensorType, isUint } from './fields.ts';

/** What a device states about a reading in the clear (authenticated, not encrypted). */
export interface ReadingHeader {
  /** Device id (must match the MQTT topic / serial link the envelope arrives on). */
  readonly dev: string;
  /** Per-device sequence number (gap / reorder / replay detection). */
  readonly seq: number;
  /** Measurement time, ms since the epoch. */
  readonly ts: number;
  /** Sensor type. */
  readonly st: string;
}

/** The decoded protected header: alg is always HPKE-4; `hs` only in session mode; `m` (= 2) only in HPKE Auth mode. */
export interface EnvelopeHeader extends ReadingHeader {
  readonly alg: typeof ALG.HPKE4;
  readonly hs?: number;
  readonly m?: typeof ENVELOPE_MODE_AUTH;
}

/** Whether an envelope was sealed in HPKE Auth mode (its protected header says so). */
export const isAuthMode = (h: { readonly m?: number }): boolean => h.m === ENVELOPE_MODE_AUTH;

const KNOWN_PROTECTED_LABELS = new Set<unknown>([
  HEADER.alg,
  ENVELOPE_FIELD.dev,
  ENVELOPE_FIELD.seq,
  ENVELOPE_FIELD.ts,
  ENVELOPE_FIELD.st,
  ENVELOPE_FIELD.hs,
  ENVELOPE_FIELD.m,
]);

export function checkReadingHeader(h: ReadingHeader): void {
  if (typeof h !== 'object' || h === null) fail('ENVELOPE_BAD_HEADER', 'header is not an object');
  if (!isDeviceId(h.dev)) fail('ENVELOPE_BAD_HEADER', 'dev is not a valid device id');
  if (!isUint(h.seq)) fail('ENVELOPE_BAD_HEADER', 'seq is not a uint');
  if (!isUint(h.ts)) fail('ENVELOPE_BAD_HEADER', 'ts is not a uint (ms)');
  if (!isSensorType(h.st)) fail('ENVELOPE_BAD_HEADER', 'st is not a valid sensor type');
}

/** Deterministic protected header bytes {1: 42, "dev", "seq", "ts", "st"[, "hs"][, "m": 2]}; `auth` adds "m": 2 (HPKE Auth mode). */
export function encodeEnvelopeProtected(h: ReadingHeader, hpkeSeq?: number, auth = false): Uint8Array {
  checkReadingHeader(h);
  const map: CborMap = new Map<number | string, CborValue>([
    [HEADER.alg, ALG.HPKE4],
    [ENVELOPE_FIELD.dev, h.dev],
    [ENVELOPE_FIELD.seq, h.seq],
    [ENVELOPE_FIELD.ts, h.ts],
    [ENVELOPE_FIELD.st, h.st],
  ]);
  if (hpkeSeq !== undefined) {
    if (!isUint(hpkeSeq)) fail('ENVELOPE_BAD_HEADER', 'hs is not a uint');
    map.set(ENVELOPE_FIELD.hs, hpkeSeq);
  }
  if (auth) map.set(ENVELOPE_FIELD.m, ENVELOPE_MODE_AUTH);
  return encodeCanonical(map);
}

/** Reads the protected header map: ENVELOPE_UNKNOWN_ALG unless alg is HPKE-4, ENVELOPE_BAD_HEADER for anything else wrong. */
export function parseEnvelopeProtected(map: CborMap): EnvelopeHeader {
  const alg = map.get(HEADER.alg);
  if (alg === undefined) fail('ENVELOPE_BAD_HEADER', 'protected header has no alg');
  if (alg !== ALG.HPKE4) fail('ENVELOPE_UNKNOWN_ALG');
  for (const label of map.keys())
    if (!KNOWN_PROTECTED_LABELS.has(label)) fail('ENVELOPE_BAD_HEADER', 'protected header has an unknown label');
  const header = {
    dev: map.get(ENVELOPE_FIELD.dev),
    seq: map.get(ENVELOPE_FIELD.seq),
    ts: map.get(ENVELOPE_FIELD.ts),
    st: map.get(ENVELOPE_FIELD.st),
  } as ReadingHeader;
  checkReadingHeader(header);
  const hs = map.get(ENVELOPE_FIELD.hs);
  if (hs !== undefined && !isUint(hs)) fail('ENVELOPE_BAD_HEADER', 'hs is not a uint');
  const m = map.get(ENVELOPE_FIELD.m);
  // "m" is absent in base mode; the only other mode a v1 envelope may state is Auth (2).
  if (m !== undefined && m !== ENVELOPE_MODE_AUTH) fail('ENVELOPE_BAD_HEADER', 'm is not 2 (HPKE Auth mode)');
  return {
    alg: ALG.HPKE4,
    ...header,
    ...(hs === undefined ? {} : { hs }),
    ...(m === undefined ? {} : { m: ENVELOPE_MODE_AUTH }),
  };
}

/** Reads the unprotected header: exactly {4: kid (16 bytes), -4: ek (32 bytes)}. */
export function parseEnvelopeUnprotected(map: CborMap): { kid: Uint8Array; enc: Uint8Array } {
  const kid = map.get(HEADER.kid);
  const enc = map.get(HEADER.ek);
  if (map.size !== 2 || !isBytes(kid) || !isBytes(enc)) fail('ENVELOPE_BAD_HEADER', 'unprotected header is not {kid, ek}');
  if (kid.length !== KID_BYTES) fail('ENVELOPE_BAD_HEADER', 'kid is not 16 bytes');
  if (enc.length !== ENC_BYTES) fail('ENVELOPE_BAD_HEADER', 'ek is not 32 bytes');
  return { kid, enc };
}

export function envelopeUnprotected(kid: Uint8Array, enc: Uint8Array): CborMap {
  return new Map<number, CborValue>([
    [HEADER.kid, kid],
    [HEADER.ek, enc],
  ]);
}

/**
 * The kit's receive path: what it makes of the bytes a device sends. Every function here is pure
 * and total — it never throws on device input (test/conform/intakeFuzz.test.ts) — and keeps at most
 * the bounded input it was given. Decoding is the protocol's own strict decoders; their error codes
 * become evidence.
 */
import { bytesEqual, toHex } from '../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, isBytes, isCborMap, type CborValue } from '../protocol/cbor/index.ts';
import { encodeEncrypt0 } from '../protocol/cose/index.ts';
import { decodeCoseArray, decodeProtectedHeader } from '../protocol/cose/message.ts';
import { isDeviceId } from '../protocol/deviceId.ts';
import {
  decodeEnvelope,
  decodeReading,
  ENVELOPE_HPKE_INFO,
  envelopeAad,
  type DecodedEnvelope,
  type EnvelopeHeader,
  type Reading,
} from '../protocol/envelope/index.ts';
import { envelopeUnprotected } from '../protocol/envelope/header.ts';
import { isVitalsealError } from '../protocol/errors.ts';
import type { Hpke } from '../protocol/hpke/types.ts';

/** Where a device's message came from, as the transport saw it. */
export interface ArrivalInfo {
  /** MQTT: topic, QoS, retain and dup flags of the PUBLISH. */
  readonly topic?: string;
  readonly qos?: number;
  readonly retain?: boolean;
  readonly dup?: boolean;
}

/** One reading envelope as received, and what the kit could make of it. */
export interface InspectedReading {
  /** Arrival order over the run (0, 1, …). */
  readonly index: number;
  /** Kit clock (ms) at arrival. */
  readonly at: number;
  readonly bytes: Uint8Array;
  readonly arrival: ArrivalInfo;
  /** SHA-256 of the bytes (hex): equal bytes, equal id. */
  readonly recordId: string;
  /** The key-less decoder's code (ENVELOPE_*) when the envelope does not decode. */
  readonly decodeError?: string;
  readonly decoded?: DecodedEnvelope;
  readonly header?: EnvelopeHeader;
  readonly kidHex?: string;
  readonly ekHex?: string;
  /**
   * Why it did not open: ENVELOPE_DECRYPT_FAILED, KIT_UNKNOWN_KID (no key of the kit has this kid),
   * ENVELOPE_NO_SENDER_KEY (HPKE Auth mode under a ticket without idk), ENVELOPE_ORIGIN_UNVERIFIED
   * (base mode under a ticket with idk, or Auth mode not sealed with that idk; §3.6, §5.7).
   */
  readonly openError?: string;
  /** How it opened: 'auth' = HPKE Auth mode with the ticket's idk (origin verified, §3.6), 'base' = base mode. */
  readonly origin?: 'auth' | 'base';
  readonly plaintext?: Uint8Array;
  /** READING_INVALID (the strict plaintext decoder's code) when the plaintext is not a reading. */
  readonly readingError?: string;
  readonly reading?: Reading;
}

/** A patient secret key the kit holds, by kid (hex). */
export type KeyLookup = (kidHex: string) => Uint8Array | undefined;
/** The device identity key (idk) the kit's ticket with this kid certifies, undefined for a v1 ticket (§7.1). */
export type SenderLookup = (kidHex: string) => Uint8Array | undefined;

function codeOf(e: unknown, fallback: string): string {
  return isVitalsealError(e) ? e.code : fallback;
}

/**
 * Decodes (key-less, §5.6), opens (§5.7) and decodes the plaintext (§4) of one envelope. Never throws.
 */
export function inspectReading(
  bytes: Uint8Array,
  o: {
    index: number;
    at: number;
    arrival?: ArrivalInfo;
    keys: KeyLookup;
    senders?: SenderLookup;
    hpke: Hpke;
    recordId: (b: Uint8Array) => string;
  },
): InspectedReading {
  const base = { index: o.index, at: o.at, bytes, arrival: o.arrival ?? {}, recordId: o.recordId(bytes) };
  let decoded: DecodedEnvelope;
  try {
    decoded = decodeEnvelope(bytes);
  } catch (e) {
    return { ...base, decodeError: codeOf(e, 'ENVELOPE_NOT_CBOR') };
  }
  const kidHex = toHex(decoded.kid);
  const withHeader = { ...base, decoded, header: decoded.header, kidHex, ekHex: toHex(decoded.enc) };
  const key = o.keys(kidHex);
  if (!key) return { ...withHeader, openError: 'KIT_UNKNOWN_KID' };
  // §3.6, §5.7: under a ticket with idk only Auth mode with that idk is from the device; Auth mode under one without has no sender key
  const idk = o.senders?.(kidHex);
  const auth = decoded.header.m === 2;
  if (auth && idk === undefined) return { ...withHeader, openError: 'ENVELOPE_NO_SENDER_KEY' };
  if (!auth && idk !== undefined) return { ...withHeader, openError: 'ENVELOPE_ORIGIN_UNVERIFIED' };
  let plaintext: Uint8Array;
  try {
    const aad = envelopeAad(decoded.protectedBytes);
    const hs = decoded.header.hs;
    const { enc, ciphertext } = decoded;
    if (idk === undefined)
      plaintext =
        hs === undefined
          ? o.hpke.open(enc, key, ENVELOPE_HPKE_INFO, aad, ciphertext)
          : o.hpke.setupBaseR(enc, key, ENVELOPE_HPKE_INFO).openAt(BigInt(hs), ciphertext, aad);
    else
      plaintext =
        hs === undefined
          ? o.hpke.openAuth(enc, key, ENVELOPE_HPKE_INFO, aad, ciphertext, idk)
          : o.hpke.setupAuthR(enc, key, ENVELOPE_HPKE_INFO, idk).openAt(BigInt(hs), ciphertext, aad);
  } catch {
    // the kit holds the recipient key of this kid: an Auth-mode failure is a wrong sender key (or an altered envelope)
    return { ...withHeader, openError: idk === undefined ? 'ENVELOPE_DECRYPT_FAILED' : 'ENVELOPE_ORIGIN_UNVERIFIED' };
  }
  const origin = idk === undefined ? ('base' as const) : ('auth' as const);
  try {
    return { ...withHeader, origin, plaintext, reading: decodeReading(plaintext) };
  } catch (e) {
    return { ...withHeader, origin, plaintext, readingError: codeOf(e, 'READING_INVALID') };
  }
}

/** Whether `bytes` is the deterministic encoding (§2.3) of the item it holds (false when it does not decode). */
export function isCanonicalCbor(
  bytes: Uint8Array,
  limits: { maxDepth?: number; maxItems?: number; maxStringBytes?: number } = {},
): boolean {
  try {
    return bytesEqual(encodeCanonical(decodeStrict(bytes, { maxBytes: 4096, ...limits })), bytes);
  } catch {
    return false;
  }
}

/** The deterministic encoding of a decoded envelope, tagged or untagged like the one received. */
export function canonicalEnvelopeOf(r: InspectedReading): Uint8Array | undefined {
  const d = r.decoded;
  if (!d) return undefined;
  try {
    const tagged = encodeEncrypt0({
      protectedBytes: d.protectedBytes,
      unprotected: envelopeUnprotected(d.kid, d.enc),
      ciphertext: d.ciphertext,
    });
    return r.bytes[0] === tagged[0] ? tagged : tagged.subarray(1);
  } catch {
    return undefined;
  }
}

/** A device status (serial status body §8.4, MQTT status JSON §9.6), parsed leniently; `problems` lists every schema violation. */
export interface ParsedStatus {
  readonly state?: string;
  readonly code?: string;
  readonly kid?: string;
  readonly seq?: number;
  readonly boot?: number;
  readonly dev?: string;
  /** Firmware string, if the device reports one (optional "fw" key). */
  readonly fw?: string;
  /** The device identity public key (§3.6), 64 lower-case hex digits, if the device reports one. */
  readonly idk?: string;
  readonly keys: readonly string[];
  readonly problems: readonly string[];
}

const STATES = new Set(['online', 'ticketed', 'error', 'offline']);
const MQTT_STATUS_KEYS = new Set(['state', 'code', 'kid', 'boot', 'seq', 'fw', 'idk']);
const MAX_STATUS_BYTES = 512;
const MAX_FW_CHARS = 128;

function statusOfEntries(entries: ReadonlyArray<readonly [unknown, unknown]>, kind: 'serial' | 'mqtt'): ParsedStatus {
  const problems: string[] = [];
  const keys: string[] = [];
  const o: { -readonly [K in keyof ParsedStatus]?: ParsedStatus[K] } = {};
  for (const [k, v] of entries) {
    if (typeof k !== 'string') {
      problems.push('a key is not a text string');
      continue;
    }
    keys.push(k.slice(0, 32));
    if (k === 'state') {
      if (typeof v === 'string' && STATES.has(v)) o.state = v;
      else problems.push('state is not online/ticketed/error/offline');
    } else if (k === 'code') {
      if (typeof v === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(v)) o.code = v;
      else problems.push('code is not an error code');
    } else if (k === 'kid') {
      if (typeof v === 'string' && /^[0-9a-f]{32}$/.test(v)) o.kid = v;
      else problems.push('kid is not 32 lower-case hex digits');
    } else if (k === 'seq' || k === 'boot') {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) o[k] = v;
      else problems.push(`${k} is not a uint53`);
    } else if (k === 'dev') {
      if (isDeviceId(v)) o.dev = v;
      else problems.push('dev is not a device id');
      if (kind === 'mqtt') problems.push('dev is not a key of the MQTT status');
    } else if (k === 'idk') {
      if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) o.idk = v;
      else problems.push('idk is not 64 lower-case hex digits');
    } else if (k === 'fw') {
      if (typeof v === 'string' && v.length > 0 && v.length <= MAX_FW_CHARS && !/\p{Cc}/u.test(v)) o.fw = v;
      else problems.push('fw is not a short printable string');
    } else if (kind === 'mqtt' && !MQTT_STATUS_KEYS.has(k)) problems.push(`unknown key ${JSON.stringify(k.slice(0, 32))}`);
  }
  if (o.state === undefined && !problems.some((p) => p.startsWith('state'))) problems.push('state is missing');
  if (kind === 'serial' && o.dev === undefined && !problems.some((p) => p.startsWith('dev'))) problems.push('dev is missing');
  if (o.state === 'error' && o.code === undefined) problems.push('an error status has no code');
  return { ...o, keys, problems };
}

/** A serial status frame body (CBOR map, §8.4). Never throws. */
export function parseSerialStatus(body: Uint8Array): ParsedStatus {
  let m: CborValue;
  try {
    // serial-status-body has no float field (§8.4): a float seq is not an integer (§2.2)
    m = decodeStrict(body, { maxBytes: MAX_STATUS_BYTES, maxDepth: 2, maxItems: 1024, floats: 'nowhere' });
  } catch (e) {
    return { keys: [], problems: [`not strict CBOR (${codeOf(e, 'CBOR_MALFORMED')})`] };
  }
  if (!isCborMap(m)) return { keys: [], problems: ['not a CBOR map'] };
  return statusOfEntries([...m.entries()], 'serial');
}

/** An MQTT status payload (UTF-8 JSON object, §9.6). Never throws. */
export function parseMqttStatus(payload: Uint8Array): ParsedStatus {
  if (payload.length > MAX_STATUS_BYTES) return { keys: [], problems: [`larger than ${MAX_STATUS_BYTES} bytes`] };
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return { keys: [], problems: ['not UTF-8 JSON'] };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { keys: [], problems: ['not a JSON object'] };
  return statusOfEntries(Object.entries(v), 'mqtt');
}

const PROTECTED_LABELS = new Set<unknown>([1, 'dev', 'seq', 'ts', 'st', 'hs', 'm']);

/**
 * Every way the envelope's structure departs from §5.1–§5.3 (empty when it conforms), read
 * independently of the key-less decoder so that the evidence names each offending label. Never throws.
 */
export function envelopeStructureProblems(bytes: Uint8Array): string[] {
  let items: CborValue[];
  try {
    items = decodeCoseArray(bytes, 16, 3);
  } catch (e) {
    return [`not a COSE_Encrypt0 array of 3 (${codeOf(e, 'CBOR_MALFORMED')})`];
  }
  const problems: string[] = [];
  const [p, u, c] = items;
  if (!isBytes(p)) problems.push('protected header is not a byte string');
  else {
    try {
      const m = decodeProtectedHeader(p);
      for (const k of m.keys())
        if (!PROTECTED_LABELS.has(k)) problems.push(`protected header has the label ${JSON.stringify(String(k)).slice(0, 40)}`);
      if (m.has('m') && m.get('m') !== 2)
        problems.push(`"m" is ${JSON.stringify(String(m.get('m'))).slice(0, 20)}, not 2 (HPKE Auth mode)`);
      if (m.get(1) !== 42) problems.push(`alg (label 1) is ${JSON.stringify(String(m.get(1))).slice(0, 20)}, not 42 (HPKE-4)`);
      for (const k of ['dev', 'seq', 'ts', 'st']) if (!m.has(k)) problems.push(`protected header lacks "${k}"`);
      if (isCborMap(u)) for (const k of m.keys()) if (u.has(k)) problems.push(`label ${String(k)} is in both headers`);
    } catch (e) {
      problems.push(`protected header is not a strict CBOR map (${codeOf(e, 'COSE_BAD_HEADER')})`);
    }
  }
  if (!isCborMap(u)) problems.push('unprotected header is not a map');
  else {
    for (const k of u.keys())
      if (k !== 4 && k !== -4) problems.push(`unprotected header has the label ${JSON.stringify(String(k)).slice(0, 40)}`);
    const kid = u.get(4);
    const ek = u.get(-4);
    if (!isBytes(kid)) problems.push('kid (label 4) is missing or not a byte string');
    else if (kid.length !== 16) problems.push(`kid is ${kid.length} bytes, not 16`);
    if (!isBytes(ek)) problems.push('ek (label -4) is missing or not a byte string');
    else if (ek.length !== 32) problems.push(`ek is ${ek.length} bytes, not 32`);
  }
  if (!isBytes(c)) problems.push('ciphertext is not a byte string');
  else if (c.length < 16) problems.push(`ciphertext is ${c.length} bytes, shorter than the 16-byte tag`);
  return problems;
}

/**
 * For an envelope that did not open: which near-miss opens it (another AAD or info), as evidence
 * of what the device got wrong. Undefined when none does. Never throws.
 */
export function diagnoseOpen(r: InspectedReading, key: Uint8Array, hpke: Hpke): string | undefined {
  const d = r.decoded;
  if (!d) return undefined;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const aad = envelopeAad(d.protectedBytes);
  const tries: Array<[string, Uint8Array, Uint8Array]> = [
    ['AAD = the protected header bytes alone (not the Enc_structure)', d.protectedBytes, ENVELOPE_HPKE_INFO],
    ['AAD empty', new Uint8Array(0), ENVELOPE_HPKE_INFO],
    ['info "vitalseal" instead of empty', aad, enc('vitalseal')],
    ['info = the protected header bytes', aad, d.protectedBytes],
  ];
  for (const [what, a, info] of tries) {
    try {
      const hs = d.header.hs;
      if (hs === undefined) hpke.open(d.enc, key, info, a, d.ciphertext);
      else hpke.setupBaseR(d.enc, key, info).openAt(BigInt(hs), d.ciphertext, a);
      return `it opens with ${what}`;
    } catch {
      /* not this one */
    }
  }
  return undefined;
}

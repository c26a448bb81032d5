/**
 * Key files: one key per JSON text, strictly validated.
 *
 *   {"vitalseal":"keyfile","version":1,"type":"temp","patientId":…,"kid":hex16,"publicKey":hex32,"secretKey":hex32}
 *   {"vitalseal":"keyfile","version":1,"type":"emergency","patientId":…,"kid":hex16,"key":hex32}
 *
 * Hex is lowercase; no other members are allowed. Decoding fails with KEY_FILE_MALFORMED
 * (not JSON, wrong shape, too large, a public key that is not the secret key's),
 * KEY_FILE_BAD_VERSION or KEY_FILE_KID_MISMATCH, and never echoes the file's content.
 */
import { fail } from '../errors.ts';
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { createHpke, type Hpke } from '../hpke/index.ts';
import { KEY_ID_LENGTH, keyIdMatches } from './keyId.ts';
import { patientIdBytes } from './patientId.ts';
import { TempKeyPair } from './tempKeyPair.ts';
import { EmergencyKey } from './emergencyKey.ts';

export type VitalsealKey = TempKeyPair | EmergencyKey;

export const KEY_FILE_VERSION = 1;
/** Far above any valid file (≈ 0.5 KiB plus a ≤ 256-byte patient id, escaped). */
export const KEY_FILE_MAX_LENGTH = 4096;

const MEMBERS = {
  temp: ['vitalseal', 'version', 'type', 'patientId', 'kid', 'publicKey', 'secretKey'],
  emergency: ['vitalseal', 'version', 'type', 'patientId', 'kid', 'key'],
} as const;

export function encodeKeyFile(key: VitalsealKey): string {
  const head = { vitalseal: 'keyfile', version: KEY_FILE_VERSION, type: key.type, patientId: key.patientId, kid: toHex(key.kid) };
  const body =
    key.type === 'temp' ? { ...head, publicKey: toHex(key.publicKey), secretKey: toHex(key.secretKey) } : { ...head, key: toHex(key.key) };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** Parses and checks a key file; `hpke` (default noble) checks that a temp file's public key is its secret key's. */
export function decodeKeyFile(text: string, hpke: Hpke = createHpke('noble')): VitalsealKey {
  const file = parseObject(text);
  if (file['vitalseal'] !== 'keyfile') malformed('not a vitalseal key file');
  const version = file['version'];
  if (typeof version !== 'number') malformed('key file has no version');
  if (version !== KEY_FILE_VERSION) fail('KEY_FILE_BAD_VERSION');
  const type = file['type'];
  if (type !== 'temp' && type !== 'emergency') malformed('unknown key type');
  checkMembers(file, MEMBERS[type]);
  const patientId = patientIdOf(file['patientId']);
  const kid = hexField(file['kid'], KEY_ID_LENGTH);

  if (type === 'emergency') {
    const key = hexField(file['key'], 32);
    if (!keyIdMatches(kid, key)) fail('KEY_FILE_KID_MISMATCH', 'key file kid does not match its key');
    return new EmergencyKey(patientId, key);
  }
  const publicKey = hexField(file['publicKey'], 32);
  const secretKey = hexField(file['secretKey'], 32);
  if (!keyIdMatches(kid, publicKey)) fail('KEY_FILE_KID_MISMATCH');
  if (!bytesEqual(hpke.publicKeyOf(secretKey), publicKey)) malformed('key file public key does not belong to its secret key');
  return new TempKeyPair(patientId, secretKey, publicKey);
}

function malformed(message: string): never {
  return fail('KEY_FILE_MALFORMED', message);
}

function parseObject(text: string): Record<string, unknown> {
  if (typeof text !== 'string') malformed('key file is not text');
  if (text.length > KEY_FILE_MAX_LENGTH) malformed('key file is too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: JSON.parse's message quotes the input, which may hold a secret key.
    malformed('key file is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed('key file is not a JSON object');
  return value as Record<string, unknown>;
}

function checkMembers(file: Record<string, unknown>, expected: readonly string[]): void {
  const names = Object.keys(file);
  if (names.length !== expected.length || !expected.every((name) => Object.hasOwn(file, name)))
    malformed('key file has missing or unknown members');
}

function patientIdOf(value: unknown): string {
  if (typeof value !== 'string') malformed('patientId is not a string');
  try {
    patientIdBytes(value);
  } catch {
    malformed('patientId is empty, too long or not well-formed');
  }
  return value;
}

function hexField(value: unknown, length: number): Uint8Array {
  if (typeof value !== 'string' || value.length !== 2 * length || !/^[0-9a-f]*$/.test(value))
    malformed('a key file field is not lowercase hex of the right length');
  return fromHex(value);
}

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fromHex } from '../../protocol/bytes.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { simFail } from '../errors.ts';
import { PROFILES, profileByName, type ProfileName } from '../profiles/index.ts';

/** One device of a fleet, as the runner takes it. */
export interface FleetDevice {
  readonly id: string;
  readonly profile: ProfileName;
  /** MQTT password (the agent's `device add` prints it). */
  readonly secret?: string;
  /** Ward authority's Ed25519 public key (32 bytes) to pin. */
  readonly authorityPublicKey?: Uint8Array;
  /** A session ticket (COSE_Sign1 bytes) loaded at provisioning. */
  readonly ticket?: Uint8Array;
  /** Serial port of this device (serial link). */
  readonly serialPath?: string;
  readonly periodMs?: number;
}

/** The agent's device-id alphabet (it is also a topic level and a client id). */

/**
 * A fleet file (JSON):
 * {
 *   "version": 1,
 *   "authorityPublicKey": "<hex>",                 default for every device (optional)
 *   "broker": "mqtt://127.0.0.1:1883",             optional default for --broker
 *   "devices": [
 *     { "id": "spo2-0001", "secret": "…", "profile": "pulse-oximeter",
 *       "ticketFile": "tickets/spo2-0001.cose" | "ticket": "<hex>",
 *       "authorityPublicKey": "<hex>", "serial": "/dev/ttyUSB0", "periodMs": 1000 }
 *   ]
 * }
 * Paths are relative to the fleet file. SIM_FLEET_FILE_INVALID names the first bad field
 * (never a secret's value).
 */
export interface FleetFile {
  readonly devices: readonly FleetDevice[];
  readonly broker?: string;
}

export function loadFleetFile(path: string): FleetFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return simFail('SIM_FLEET_FILE_INVALID', `cannot read fleet file ${path}`, e);
  }
  return parseFleetFile(text, dirname(resolve(path)));
}

export function parseFleetFile(text: string, baseDir: string): FleetFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    simFail('SIM_FLEET_FILE_INVALID', 'fleet file is not JSON');
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) simFail('SIM_FLEET_FILE_INVALID', 'fleet file is not a JSON object');
  if (o['version'] !== undefined && o['version'] !== 1) simFail('SIM_FLEET_FILE_INVALID', 'unsupported fleet file version');
  if (!Array.isArray(o['devices']) || o['devices'].length === 0) simFail('SIM_FLEET_FILE_INVALID', 'devices must be a non-empty array');
  const defaultKey = o['authorityPublicKey'] === undefined ? undefined : hexKey(o['authorityPublicKey'], 'authorityPublicKey');
  const seen = new Set<string>();
  const devices = (o['devices'] as unknown[]).map((d, i) => {
    const where = `devices[${i}]`;
    if (typeof d !== 'object' || d === null) simFail('SIM_FLEET_FILE_INVALID', `${where} is not an object`);
    const e = d as Record<string, unknown>;
    const id = e['id'];
    if (!isDeviceId(id))
      simFail('SIM_FLEET_FILE_INVALID', `${where}.id is not a device id (1-64 of [A-Za-z0-9._-], starting with a letter or digit)`);
    if (seen.has(id)) simFail('SIM_FLEET_FILE_INVALID', `${where}.id is a duplicate`);
    seen.add(id);
    const profileName = e['profile'] ?? 'pulse-oximeter';
    if (typeof profileName !== 'string') simFail('SIM_FLEET_FILE_INVALID', `${where}.profile is not a string`);
    let profile: ProfileName;
    try {
      profile = profileByName(profileName).name;
    } catch {
      return simFail('SIM_FLEET_FILE_INVALID', `${where}.profile is not one of ${Object.keys(PROFILES).join(', ')}`);
    }
    const secret = e['secret'];
    if (secret !== undefined && (typeof secret !== 'string' || secret.length === 0))
      simFail('SIM_FLEET_FILE_INVALID', `${where}.secret is not a non-empty string`);
    const key = e['authorityPublicKey'] === undefined ? defaultKey : hexKey(e['authorityPublicKey'], `${where}.authorityPublicKey`);
    let ticket: Uint8Array | undefined;
    if (e['ticketFile'] !== undefined) {
      if (typeof e['ticketFile'] !== 'string') simFail('SIM_FLEET_FILE_INVALID', `${where}.ticketFile is not a path`);
      const p = isAbsolute(e['ticketFile']) ? e['ticketFile'] : resolve(baseDir, e['ticketFile']);
      try {
        ticket = new Uint8Array(readFileSync(p));
      } catch (err) {
        return simFail('SIM_FLEET_FILE_INVALID', `${where}.ticketFile cannot be read`, err);
      }
    } else if (e['ticket'] !== undefined) {
      if (typeof e['ticket'] !== 'string' || !/^([0-9a-f]{2})+$/i.test(e['ticket']))
        simFail('SIM_FLEET_FILE_INVALID', `${where}.ticket is not hex`);
      ticket = fromHex(e['ticket'].toLowerCase());
    }
    const serial = e['serial'];
    if (serial !== undefined && typeof serial !== 'string') simFail('SIM_FLEET_FILE_INVALID', `${where}.serial is not a path`);
    const periodMs = e['periodMs'];
    if (periodMs !== undefined && !(typeof periodMs === 'number' && periodMs > 0))
      simFail('SIM_FLEET_FILE_INVALID', `${where}.periodMs must be a positive number`);
    const device: FleetDevice = {
      id,
      profile,
      ...(typeof secret === 'string' ? { secret } : {}),
      ...(key ? { authorityPublicKey: key } : {}),
      ...(ticket ? { ticket } : {}),
      ...(typeof serial === 'string' ? { serialPath: serial } : {}),
      ...(typeof periodMs === 'number' ? { periodMs } : {}),
    };
    return device;
  });
  const broker = o['broker'];
  if (broker !== undefined && typeof broker !== 'string') simFail('SIM_FLEET_FILE_INVALID', 'broker is not a URL string');
  return { devices, ...(typeof broker === 'string' ? { broker } : {}) };
}

function hexKey(v: unknown, where: string): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) simFail('SIM_FLEET_FILE_INVALID', `${where} is not 32 bytes of hex`);
  return fromHex(v.toLowerCase());
}

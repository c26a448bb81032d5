import { ed25519 } from '@noble/curves/ed25519.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { createHpke } from '../../protocol/node.ts';
import { encodeKeyFile, tempKeyPairGen, type TempKeyPair } from '../../protocol/keys/index.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { SimError } from '../errors.ts';
import type { ProfileName } from '../profiles/index.ts';
import { deviceStream } from '../random/streams.ts';
import type { FleetDevice } from './fleetFile.ts';
import { request as httpsRequest } from 'node:https';

/** Ids sim-0001 … (zero-padded to the fleet size). */
export function generatedIds(n: number, prefix = 'sim'): string[] {
  const width = Math.max(4, String(n).length);
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

export interface GeneratedFleet {
  readonly devices: FleetDevice[];
  /** Ward authority key pair the simulator acted as (its public key is pinned in every device). */
  readonly authorityPublicKey: Uint8Array;
  /** Each device's session ticket (already loaded, or pushed to the agent). */
  readonly tickets: ReadonlyMap<string, Uint8Array>;
  /** The patients' temporary key pairs (secret keys: only for writing key files; never logged). */
  readonly patientKeys: ReadonlyMap<string, TempKeyPair>;
}

export interface GenerateOptions {
  readonly ids: readonly string[];
  readonly profiles: readonly ProfileName[];
  readonly seed: string;
  /** Ticket validity, seconds since the epoch. */
  readonly nbf: number;
  readonly exp: number;
  /** Secrets per device (from an agent), when MQTT is used. */
  readonly secrets?: ReadonlyMap<string, string>;
  /** Load the ticket at provisioning (no agent to deliver it). */
  readonly preloadTickets: boolean;
}

/**
 * A self-contained fleet: the simulator plays the ward authority (an Ed25519 key from the
 * seed) and each patient's wallet (TempKeyPairGen per device), and issues a session ticket
 * per device.
 */
export function generateFleet(o: GenerateOptions): GeneratedFleet {
  const authority = ed25519.keygen(deviceStream(o.seed, 'fleet', 'authority')(32));
  const hpke = createHpke('node');
  const tickets = new Map<string, Uint8Array>();
  const patientKeys = new Map<string, TempKeyPair>();
  const devices = o.ids.map((id, i) => {
    const key = tempKeyPairGen(`patient:${id}`, deviceStream(o.seed, id, 'patient-key'), hpke);
    const ticket = issueTicket(
      { dev: id, kid: key.kid, pk: key.publicKey, patient: `patient:${id}`, nbf: o.nbf, exp: o.exp },
      authority.secretKey,
    );
    tickets.set(id, ticket);
    patientKeys.set(id, key);
    const secret = o.secrets?.get(id);
    const d: FleetDevice = {
      id,
      profile: o.profiles[i % o.profiles.length]!,
      authorityPublicKey: authority.publicKey,
      ...(secret !== undefined ? { secret } : {}),
      ...(o.preloadTickets ? { ticket } : {}),
    };
    return d;
  });
  return { devices, authorityPublicKey: authority.publicKey, tickets, patientKeys };
}

/** Writes one key file per patient (0600) so the run's readings can be decrypted afterwards. */
export function writePatientKeys(dir: string, keys: ReadonlyMap<string, TempKeyPair>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [id, key] of keys) writePrivateFileAtomicSync(join(dir, `${id}.key.json`), encodeKeyFile(key));
}

/** The admin API of a running agent (`vitalseal agent`): provisioning and ticket push. */
export interface AgentAdmin {
  provisionDevice(id: string): Promise<string>;
  pushTicket(ticket: Uint8Array): Promise<void>;
}

export function agentAdmin(url: string, token: string, ca?: string): AgentAdmin {
  const call = async (method: string, path: string, body: unknown): Promise<unknown> => {
    let res: { ok: boolean; status: number; json: unknown };
    try {
      res = await adminRequest(new URL(path, url), method, token, JSON.stringify(body), ca);
    } catch (e) {
      throw new SimError('SIM_LINK_DOWN', `agent admin API unreachable at ${url}`, { cause: e });
    }
    const json = (res.json ?? {}) as { error?: { code?: string } };
    if (!res.ok) throw new SimError('SIM_LINK_REFUSED', `agent admin API answered ${res.status} ${json.error?.code ?? ''}`.trim());
    return json;
  };
  return {
    provisionDevice: async (id) => ((await call('POST', '/admin/devices', { id })) as { secret: string }).secret,
    pushTicket: async (ticket) => {
      await call('POST', '/admin/tickets', { ticket: Buffer.from(ticket).toString('base64') });
    },
  };
}

/** One admin call: fetch, or node:https with the ward CA for an https:// agent (fetch takes no private CA). */
async function adminRequest(
  url: URL,
  method: string,
  token: string,
  body: string,
  ca: string | undefined,
): Promise<{ ok: boolean; status: number; json: unknown }> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  if (url.protocol !== 'https:' || ca === undefined) {
    const r = await fetch(url, { method, headers, body });
    return { ok: r.ok, status: r.status, json: await r.json().catch(() => undefined) };
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca, minVersion: 'TLSv1.2' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ ok: status >= 200 && status < 300, status, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

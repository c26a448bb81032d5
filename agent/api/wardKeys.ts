import { existsSync, readFileSync } from 'node:fs';
import { ensurePrivateDir, writePrivateFileAtomicSync } from '../../platform/privateFiles.ts';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { toHex, fromHex } from '../../protocol/bytes.ts';
import { issueTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import type { Hpke } from '../../protocol/hpke/index.ts';
import { AgentError } from '../errors.ts';

export const WARD_KEY_FILE = 'ward-keys.json';

/**
 * The ward's keys held by the agent (created on first start in <dataDir>/ward-keys.json, 0600):
 * the ward authority's Ed25519 key that signs session tickets, and the ward's emergency X25519
 * key that emergency escrows are sealed to. Secrets stay in closures, never properties.
 */
export interface WardKeys {
  readonly authorityPublicKey: Uint8Array;
  readonly emergencyPublicKey: Uint8Array;
  issueTicket(fields: TicketFields): Uint8Array;
  /** HPKE base-mode open with the emergency secret key. */
  openEmergency(hpke: Hpke, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array;
}

export function loadOrCreateWardKeys(dataDir: string): WardKeys {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, WARD_KEY_FILE);
  let authority: Uint8Array;
  let emergency: Uint8Array;
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; authorityEd25519?: string; emergencyX25519?: string };
    if (parsed.version !== 1 || typeof parsed.authorityEd25519 !== 'string' || typeof parsed.emergencyX25519 !== 'string') {
      throw new AgentError('AGENT_KEY_FILE_INVALID', `${file}: not a vitalseal ward key file (version 1)`);
    }
    authority = fromHex(parsed.authorityEd25519);
    emergency = fromHex(parsed.emergencyX25519);
  } else {
    authority = new Uint8Array(randomBytes(32));
    emergency = new Uint8Array(randomBytes(32));
    writePrivateFileAtomicSync(
      file,
      JSON.stringify({ version: 1, kind: 'vitalseal-ward-keys', authorityEd25519: toHex(authority), emergencyX25519: toHex(emergency) }) +
        '\n',
    );
  }
  return {
    authorityPublicKey: ed25519.getPublicKey(authority),
    emergencyPublicKey: x25519.getPublicKey(emergency),
    issueTicket: (fields) => issueTicket(fields, authority),
    openEmergency: (hpke, enc, info, aad, ct) => hpke.open(enc, emergency, info, aad, ct),
  };
}

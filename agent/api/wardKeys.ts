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

/** A ward authority public key and when it signed tickets (ms since the epoch; `until` absent for the current key). */
export interface AuthorityKeyInfo {
  readonly publicKey: Uint8Array;
  readonly from: number;
  readonly until?: number;
}

/**
 * The ward's keys held by the agent (created on first start in <dataDir>/ward-keys.json, 0600):
 * the ward authority's Ed25519 key that signs session tickets, and the ward's emergency X25519
 * key that emergency escrows are sealed to. Secrets stay in closures, never properties.
 * The authority key rotates (`rotateAuthority`, docs/PROTOCOL.md §7.7): new tickets are signed by
 * the new key; the retired public keys stay published with their validity (GET /v1/ward), so
 * tickets signed before the rotation still verify in wallets. Retired secrets are erased.
 */
export interface WardKeys {
  /** The current authority key (it signs every new ticket). */
  readonly authorityPublicKey: Uint8Array;
  /** The current key, then the retired ones, newest first. */
  readonly authorityKeys: readonly AuthorityKeyInfo[];
  readonly emergencyPublicKey: Uint8Array;
  issueTicket(fields: TicketFields): Uint8Array;
  /** A new authority key (written to the key file before use); the old public key is kept, retired now. */
  rotateAuthority(nowMs: number): { publicKey: Uint8Array; previous: Uint8Array };
  /** HPKE base-mode open with the emergency secret key. */
  openEmergency(hpke: Hpke, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array;
}

interface KeyFile {
  version: 1;
  kind: 'vitalseal-ward-keys';
  authorityEd25519: string;
  emergencyX25519: string;
  /** When the current authority key was made (absent: since the file was created). */
  authoritySince?: number;
  /** Retired authority public keys, newest first. */
  retiredAuthorities?: Array<{ ed25519Public: string; from: number; until: number }>;
}

const isRetired = (x: unknown): x is { ed25519Public: string; from: number; until: number } =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as { ed25519Public?: unknown }).ed25519Public === 'string' &&
  /^[0-9a-f]{64}$/.test((x as { ed25519Public: string }).ed25519Public) &&
  Number.isSafeInteger((x as { from?: unknown }).from) &&
  Number.isSafeInteger((x as { until?: unknown }).until);

export function loadOrCreateWardKeys(dataDir: string): WardKeys {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, WARD_KEY_FILE);
  let state: KeyFile;
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile> & { version?: number };
    if (
      parsed.version !== 1 ||
      typeof parsed.authorityEd25519 !== 'string' ||
      typeof parsed.emergencyX25519 !== 'string' ||
      (parsed.authoritySince !== undefined && !Number.isSafeInteger(parsed.authoritySince)) ||
      (parsed.retiredAuthorities !== undefined && !(Array.isArray(parsed.retiredAuthorities) && parsed.retiredAuthorities.every(isRetired)))
    ) {
      throw new AgentError('AGENT_KEY_FILE_INVALID', `${file}: not a vitalseal ward key file (version 1)`);
    }
    state = parsed as KeyFile;
  } else {
    state = {
      version: 1,
      kind: 'vitalseal-ward-keys',
      authorityEd25519: toHex(new Uint8Array(randomBytes(32))),
      emergencyX25519: toHex(new Uint8Array(randomBytes(32))),
    };
    writePrivateFileAtomicSync(file, `${JSON.stringify(state)}\n`);
  }
  let authority = fromHex(state.authorityEd25519);
  const emergency = fromHex(state.emergencyX25519);
  let authorityPublicKey = ed25519.getPublicKey(authority);
  const keys = (): AuthorityKeyInfo[] => [
    { publicKey: authorityPublicKey, from: state.authoritySince ?? 0 },
    ...(state.retiredAuthorities ?? []).map((r) => ({ publicKey: fromHex(r.ed25519Public), from: r.from, until: r.until })),
  ];
  let published = keys();
  return {
    get authorityPublicKey() {
      return authorityPublicKey;
    },
    get authorityKeys() {
      return published;
    },
    emergencyPublicKey: x25519.getPublicKey(emergency),
    issueTicket: (fields) => issueTicket(fields, authority),
    rotateAuthority: (nowMs) => {
      const previous = authorityPublicKey;
      const secret = new Uint8Array(randomBytes(32));
      const next: KeyFile = {
        ...state,
        authorityEd25519: toHex(secret),
        authoritySince: nowMs,
        retiredAuthorities: [
          { ed25519Public: toHex(previous), from: state.authoritySince ?? 0, until: nowMs },
          ...(state.retiredAuthorities ?? []),
        ],
      };
      // durable first: a crash after this line restarts with the new key and the old one published
      writePrivateFileAtomicSync(file, `${JSON.stringify(next)}\n`);
      authority.fill(0);
      state = next;
      authority = secret;
      authorityPublicKey = ed25519.getPublicKey(secret);
      published = keys();
      return { publicKey: authorityPublicKey, previous };
    },
    openEmergency: (hpke, enc, info, aad, ct) => hpke.open(enc, emergency, info, aad, ct),
  };
}

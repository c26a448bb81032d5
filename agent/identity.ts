import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, fromHex } from '../protocol/bytes.ts';
import { signTreeHead } from '../protocol/treeHead.ts';

/**
 * The agent's long-term identity: an Ed25519 key that signs tree heads, created on first
 * start in <dataDir>/agent-key.json (mode 0600). logId = SHA-256(public key).
 * The secret never leaves this object's closure: it is not a property, so it cannot be logged.
 */
export interface AgentIdentity {
  readonly publicKey: Uint8Array;
  readonly logId: Uint8Array;
  /** COSE_Sign1 signed tree head of the log (protocol/treeHead.ts). */
  signTreeHead(size: number, root: Uint8Array, ts: number): Uint8Array;
}

export function loadOrCreateIdentity(dataDir: string): AgentIdentity {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'agent-key.json');
  let secret: Uint8Array;
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; ed25519Secret?: string };
    if (parsed.version !== 1 || typeof parsed.ed25519Secret !== 'string') throw new Error(`${file}: not a vitalseal agent key (version 1)`);
    secret = fromHex(parsed.ed25519Secret);
  } else {
    secret = new Uint8Array(randomBytes(32));
    writeFileSync(file, JSON.stringify({ version: 1, kind: 'vitalseal-agent-key', ed25519Secret: toHex(secret) }) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const publicKey = ed25519.getPublicKey(secret);
  return {
    publicKey,
    logId: sha256(publicKey),
    signTreeHead: (size, root, ts) => signTreeHead({ logId: sha256(publicKey), size, root, ts }, secret),
  };
}

/** Admin bearer token for the agent's local admin API, created on first start (mode 0600). */
export function loadOrCreateAdminToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

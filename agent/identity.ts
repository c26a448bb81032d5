import { existsSync, readFileSync } from 'node:fs';
import { ensurePrivateDir, restrictTree, writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, fromHex } from '../protocol/bytes.ts';
import { signTreeHead } from '../protocol/treeHead.ts';
import { AgentError } from './errors.ts';

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

/**
 * The agent's data dir, private: 0700, and every file under it 0600 — also repairing the modes an older
 * version or a lax umask left. Files are then created with explicit modes (never via the process umask,
 * which belongs to whoever embeds the agent). First step of every agent start (AgentCore → identity).
 */
export function ensurePrivateDataDir(dataDir: string): void {
  ensurePrivateDir(dataDir);
  restrictTree(dataDir);
}

export function loadOrCreateIdentity(dataDir: string): AgentIdentity {
  ensurePrivateDataDir(dataDir);
  const file = join(dataDir, 'agent-key.json');
  let secret: Uint8Array;
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; ed25519Secret?: string };
    if (parsed.version !== 1 || typeof parsed.ed25519Secret !== 'string')
      throw new AgentError('AGENT_KEY_FILE_INVALID', `${file}: not a vitalseal agent key (version 1)`);
    secret = fromHex(parsed.ed25519Secret);
  } else {
    secret = new Uint8Array(randomBytes(32));
    writePrivateFileAtomicSync(file, `${JSON.stringify({ version: 1, kind: 'vitalseal-agent-key', ed25519Secret: toHex(secret) })}\n`);
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
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writePrivateFileAtomicSync(file, `${token}\n`);
  return token;
}

/**
 * The wallet file: every secret (Ethereum key, X25519 key, session keys, emergency key) in one
 * JSON document encrypted with ChaCha20-Poly1305 under a key derived from the passphrase with
 * scrypt (@noble/hashes). Only the address, KDF parameters, nonce and ciphertext are on disk;
 * the header is authenticated as AAD. Written atomically (platform/privateFiles.ts: temp file +
 * fsync + rename + directory fsync), mode 0600.
 */
import { existsSync, readFileSync } from 'node:fs';
import { scrypt } from '@noble/hashes/scrypt.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fromHex, toHex, utf8 } from '../protocol/bytes.ts';
import type { Rng } from '../protocol/rng.ts';
import { writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import { WalletError } from './errors.ts';

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
}

export interface WalletFileHeader {
  v: 1;
  kind: 'vitalseal-wallet';
  address: string;
  kdf: KdfParams;
  aead: 'chacha20-poly1305';
}

interface WalletFileJson extends WalletFileHeader {
  nonce: string;
  ct: string;
}

/** Default scrypt cost (2^15, r 8, p 1: ~32 MiB, a fraction of a second). */
export const DEFAULT_SCRYPT_N = 1 << 15;

export function newKdf(rng: Rng, N = DEFAULT_SCRYPT_N): KdfParams {
  return { name: 'scrypt', N, r: 8, p: 1, salt: toHex(rng(16)) };
}

export function deriveWalletKey(passphrase: string, kdf: KdfParams): Uint8Array {
  return scrypt(utf8(passphrase.normalize('NFKC')), fromHex(kdf.salt), { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32 });
}

function headerAad(h: WalletFileHeader): Uint8Array {
  return utf8(JSON.stringify({ v: h.v, kind: h.kind, address: h.address, kdf: h.kdf, aead: h.aead }));
}

export function readWalletHeader(path: string): WalletFileJson {
  if (!existsSync(path)) throw new WalletError('WALLET_NOT_FOUND', `no wallet at ${path}`);
  let j: WalletFileJson;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as WalletFileJson;
  } catch (e) {
    throw new WalletError('WALLET_FILE_INVALID', undefined, { cause: e });
  }
  if (j.v !== 1 || j.kind !== 'vitalseal-wallet' || j.kdf?.name !== 'scrypt' || typeof j.nonce !== 'string' || typeof j.ct !== 'string') {
    throw new WalletError('WALLET_FILE_INVALID');
  }
  return j;
}

export function decryptWalletFile(j: WalletFileJson, key: Uint8Array): Uint8Array {
  try {
    return chacha20poly1305(key, fromHex(j.nonce), headerAad(j)).decrypt(new Uint8Array(Buffer.from(j.ct, 'base64')));
  } catch {
    throw new WalletError('WALLET_BAD_PASSPHRASE');
  }
}

export function writeWalletFile(path: string, header: WalletFileHeader, key: Uint8Array, plaintext: Uint8Array, rng: Rng): void {
  const nonce = rng(12);
  const ct = chacha20poly1305(key, nonce, headerAad(header)).encrypt(plaintext);
  const json: WalletFileJson = { ...header, nonce: toHex(nonce), ct: Buffer.from(ct).toString('base64') };
  writePrivateFileAtomicSync(path, `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Key files: one secp256k1 private key as 64 hex digits (with or without 0x), or a JSON
 * object `{"privateKey": "0x…"}`. The content is never echoed in errors or logs.
 */
import { readFileSync, statSync } from 'node:fs';
import { isHex, type Hex } from 'viem';
import { ChainError } from './errors.ts';

export function parsePrivateKey(text: string): Hex {
  let raw = text.trim();
  if (raw.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ChainError('CHAIN_KEY_FILE_INVALID', 'key file is neither hex nor JSON');
    }
    const pk = (parsed as { privateKey?: unknown } | null)?.privateKey;
    if (typeof pk !== 'string') throw new ChainError('CHAIN_KEY_FILE_INVALID', 'key file JSON has no "privateKey" string');
    raw = pk.trim();
  }
  const hex = (raw.startsWith('0x') ? raw : `0x${raw}`).toLowerCase();
  if (!isHex(hex, { strict: true }) || hex.length !== 66 || /^0x0+$/.test(hex)) {
    throw new ChainError('CHAIN_KEY_FILE_INVALID');
  }
  return hex as Hex;
}

export interface KeyFileInfo {
  privateKey: Hex;
  /** True if group or others may read the file (the CLI warns). */
  worldReadable: boolean;
}

export function readKeyFile(path: string): KeyFileInfo {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode;
  } catch (cause) {
    throw new ChainError('CHAIN_KEY_FILE_INVALID', `cannot read key file ${path}`, { cause });
  }
  return { privateKey: parsePrivateKey(text), worldReadable: (mode & 0o077) !== 0 };
}

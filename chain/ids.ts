/** Identifiers that go on-chain as bytes32. */
import { bytesToHex, sha256, type Hex } from 'viem';
import { ChainError } from './errors.ts';

/** logId = SHA-256 of the agent's Ed25519 public key (32 bytes). */
export function logIdFromPublicKey(ed25519PublicKey: Uint8Array): Hex {
  if (ed25519PublicKey.length !== 32) throw new ChainError('CHAIN_BAD_ARGUMENT', 'Ed25519 public key must be 32 bytes');
  return sha256(ed25519PublicKey);
}

/** A 32-byte value as 0x-hex (roots, patient refs, ids). */
export function bytes32(value: Uint8Array): Hex {
  if (value.length !== 32) throw new ChainError('CHAIN_BAD_ARGUMENT', 'expected 32 bytes');
  return bytesToHex(value);
}

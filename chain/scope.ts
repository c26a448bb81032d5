/**
 * Consent scopes as the Consent contract encodes them (bytes32, first byte = kind):
 * 0x00… all data; 0x01 ‖ UTF-8 sensor type (1..31 bytes) ‖ zeros; 0x02 ‖ kid (16 bytes) ‖ zeros.
 */
import { bytesToHex, type Hex } from 'viem';
import { ChainError } from './errors.ts';

export type Scope = { kind: 'all' } | { kind: 'sensor'; sensorType: string } | { kind: 'session'; kid: Uint8Array };

export const SCOPE_ALL: Hex = `0x${'00'.repeat(32)}`;

export function scopeAll(): Hex {
  return SCOPE_ALL;
}

export function scopeSensor(sensorType: string): Hex {
  const utf8 = new TextEncoder().encode(sensorType);
  if (utf8.length < 1 || utf8.length > 31) throw new ChainError('CHAIN_BAD_ARGUMENT', 'sensor type must be 1..31 UTF-8 bytes');
  const out = new Uint8Array(32);
  out[0] = 0x01;
  out.set(utf8, 1);
  return bytesToHex(out);
}

export function scopeSession(kid: Uint8Array): Hex {
  if (kid.length !== 16) throw new ChainError('CHAIN_BAD_ARGUMENT', 'kid must be 16 bytes');
  const out = new Uint8Array(32);
  out[0] = 0x02;
  out.set(kid, 1);
  return bytesToHex(out);
}

export function encodeScope(scope: Scope): Hex {
  switch (scope.kind) {
    case 'all':
      return scopeAll();
    case 'sensor':
      return scopeSensor(scope.sensorType);
    case 'session':
      return scopeSession(scope.kid);
  }
}

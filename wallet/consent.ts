import type { Address, Hex } from 'viem';
import type { ChainContracts } from '../chain/contracts.ts';
import { encodeScope, type Scope } from '../chain/scope.ts';
import { fromHex } from '../protocol/bytes.ts';
import { WalletError } from './errors.ts';
import type { SessionKeyEntry, Wallet } from './wallet.ts';

/** `all`, `sensor:<type>` or `session:<kid hex>` (the CLI's --scope). */
export function parseScope(s: string): Scope {
  if (s === 'all') return { kind: 'all' };
  if (s.startsWith('sensor:') && s.length > 7) return { kind: 'sensor', sensorType: s.slice(7) };
  if (/^session:[0-9a-f]{32}$/.test(s)) return { kind: 'session', kid: fromHex(s.slice(8)) };
  throw new WalletError('WALLET_CHAIN_CONFIG', 'scope must be all, sensor:<type> or session:<kid hex (32)>');
}

export function scopeLabel(s: Scope): string {
  return s.kind === 'all' ? 'all' : s.kind === 'sensor' ? `sensor:${s.sensorType}` : `session:${Buffer.from(s.kid).toString('hex')}`;
}

/** The patient's own sessions a grant of `scope` lets the grantee decrypt (what goes into the key share). */
export function sessionsCoveredBy(wallet: Wallet, scope: Scope): SessionKeyEntry[] {
  const own = wallet.sessions.filter((s) => s.source === 'own');
  if (scope.kind === 'session') return own.filter((s) => s.kid === Buffer.from(scope.kid).toString('hex'));
  return own;
}

export async function grantConsent(
  c: ChainContracts,
  grantee: Address,
  scope: Scope,
  notAfter: number,
): Promise<{ scope: Hex; txHash: Hex; blockNumber: number }> {
  const s = encodeScope(scope);
  const r = await c.grant(grantee, s, notAfter);
  return { scope: s, txHash: r.txHash, blockNumber: r.blockNumber };
}

export async function revokeConsent(
  c: ChainContracts,
  grantee: Address,
  scope: Scope,
): Promise<{ scope: Hex; txHash: Hex; blockNumber: number }> {
  const s = encodeScope(scope);
  const r = await c.revokeGrant(grantee, s);
  return { scope: s, txHash: r.txHash, blockNumber: r.blockNumber };
}

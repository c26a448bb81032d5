import type { Hex } from 'viem';
import type { createHpke } from '../../../protocol/node.ts';
import type { Rng } from '../../../protocol/rng.ts';
import type { ChainContracts } from '../../../chain/contracts.ts';
import type { AgentCore } from '../../core.ts';
import type { AccessEvent } from '../../../protocol/log/accessEvent.ts';
import { ApiError } from '../apiError.ts';
import type { QueryStore } from '../queryStore.ts';
import type { RequestGuard } from '../signedRequest.ts';
import type { WardKeys } from '../wardKeys.ts';
import type { DeviceCustody } from '../../custody/deviceCustody.ts';
import type { RouteDoc } from '../openapi.ts';

// The signed query API's shared parts (options, context) and its routes by concern: records.ts,
// sessions.ts (pairing + sessions), emergency.ts, access.ts; registerQueryApi (../queryApi.ts) wires them.

/** What the signed API needs from the chain: read-only calls (eth_call) and the domain. */
export interface ApiChain {
  contracts: ChainContracts;
  chainId: number;
  logId: Hex;
}

export interface QueryApiOptions {
  core: AgentCore;
  ward: WardKeys;
  /** Device assignments: the only way to a session ticket. */
  custody: DeviceCustody;
  /** undefined when the agent runs without a chain: signed routes answer API_CHAIN_UNAVAILABLE. */
  chain: ApiChain | undefined;
  rng?: Rng;
  rate?: { burst: number; perSecond: number };
  maxLifetimeSec?: number;
  /** Longest session a ticket may cover (seconds). */
  maxSessionSec?: number;
}

export const MAX_RECORDS = 500;

export async function chainRead<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new ApiError('API_CHAIN_UNAVAILABLE', undefined, { cause: e });
  }
}

/** What every route group of the query API shares (built once by registerQueryApi). */
export interface RouteContext {
  readonly o: QueryApiOptions;
  readonly core: AgentCore;
  readonly ward: WardKeys;
  readonly rng: Rng;
  readonly hpke: ReturnType<typeof createHpke>;
  readonly qs: QueryStore;
  readonly maxSessionSec: number;
  readonly nowSec: () => number;
  readonly docs: RouteDoc[];
  readonly guardOf: () => { guard: RequestGuard; chain: ApiChain };
  readonly logAccess: (e: AccessEvent) => Promise<{ leafIndex: number; leafHash: Uint8Array }>;
}

import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/node.ts';
import type { Rng } from '../../protocol/rng.ts';
import { encodeAccessEvent, type AccessEvent } from '../../protocol/log/accessEvent.ts';
import { ApiError } from './apiError.ts';
import { NonceStore } from './nonceStore.ts';
import { QueryStore } from './queryStore.ts';
import type { RequestGuard } from './signedRequest.ts';
import { TokenBuckets } from './tokenBucket.ts';
import { apiDomain } from '../../protocol/api/typedData.ts';
import { buildOpenApi, type RouteDoc } from './openapi.ts';
import type { ApiChain, QueryApiOptions, RouteContext } from './routes/context.ts';
import { registerRecordRoutes } from './routes/records.ts';
import { registerSessionRoutes } from './routes/sessions.ts';
import { registerEmergencyRoutes } from './routes/emergency.ts';
import { registerAccessRoutes } from './routes/access.ts';

export type { ApiChain, QueryApiOptions } from './routes/context.ts';

/**
 * The signed query API: record queries checked against Registrar + Consent with eth_call,
 * session tickets issued by the ward authority, emergency escrow and break-glass release.
 * Every served request appends an access event (kind-2 leaf) through the ingestor's group commit.
 */
export function registerQueryApi(app: FastifyInstance, o: QueryApiOptions): void {
  const { core, ward } = o;
  const rng: Rng = o.rng ?? ((n) => new Uint8Array(randomBytes(n)));
  const hpke = createHpke('node');
  const qs = new QueryStore(core.db);
  const nonces = new NonceStore(core.db);
  const limiter = new TokenBuckets({ burst: o.rate?.burst ?? 30, perSecond: o.rate?.perSecond ?? 10 }, core.clock);
  // before any signature is checked: a coarser bucket per client address, so floods of forged requests stay cheap
  const perIp = new TokenBuckets({ burst: (o.rate?.burst ?? 30) * 4, perSecond: (o.rate?.perSecond ?? 10) * 4 }, core.clock);
  app.addHook('onRequest', async (req) => {
    if (req.method === 'POST' && req.url.startsWith('/v1/') && !perIp.take(req.ip)) throw new ApiError('API_RATE_LIMITED');
  });
  const maxSessionSec = o.maxSessionSec ?? 7 * 86_400;
  const nowSec = (): number => Math.floor(core.clock.now() / 1000);
  const docs: RouteDoc[] = [];

  const guardOf = (): { guard: RequestGuard; chain: ApiChain } => {
    const chain = o.chain;
    if (!chain) throw new ApiError('API_CHAIN_UNAVAILABLE', 'the agent runs without a chain');
    const guard: RequestGuard = {
      domain: apiDomain(chain.chainId, chain.contracts.addresses.consent, chain.logId),
      nonces,
      limiter,
      nowMs: () => core.clock.now(),
      maxLifetimeSec: o.maxLifetimeSec ?? 600,
    };
    return { guard, chain };
  };
  const logAccess = (e: AccessEvent) => core.ingestor.appendAccessEvent(encodeAccessEvent(e));

  docs.push({
    method: 'get',
    url: '/v1/ward',
    summary: 'ward keys (ticket authority: current and retired, emergency escrow key), log id, chain and EIP-712 domain',
    codes: [],
  });
  app.get('/v1/ward', async () => {
    const c = o.chain;
    return {
      authorityPublicKey: toHex(ward.authorityPublicKey),
      // the current key, then the retired ones with the time they stopped signing (tickets signed before still verify)
      authorityKeys: ward.authorityKeys.map((k) => ({
        publicKey: toHex(k.publicKey),
        from: k.from,
        ...(k.until !== undefined ? { until: k.until } : {}),
        current: k.until === undefined,
      })),
      emergencyPublicKey: toHex(ward.emergencyPublicKey),
      logId: toHex(core.identity.logId),
      chain: c
        ? { chainId: c.chainId, ...c.contracts.addresses, domain: apiDomain(c.chainId, c.contracts.addresses.consent, c.logId) }
        : null,
    };
  });

  const ctx: RouteContext = { o, core, ward, rng, hpke, qs, maxSessionSec, nowSec, docs, guardOf, logAccess };
  registerRecordRoutes(app, ctx);
  registerSessionRoutes(app, ctx);
  registerEmergencyRoutes(app, ctx);
  registerAccessRoutes(app, ctx);

  docs.push({ method: 'get', url: '/openapi.json', summary: 'this description', codes: [] });
  app.get('/openapi.json', async () => buildOpenApi(docs));
}

import Fastify, { type FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { AgentError } from '../errors.ts';
import type { AgentCore } from '../core.ts';
import { ApiError } from '../api/apiError.ts';
import { sendError } from './errorReply.ts';
import { DEFAULT_HTTP_RATE_LIMITS, HttpRateLimits, type HttpRateLimitOptions } from './rateLimits.ts';
import { registerQueryApi, type QueryApiOptions } from '../api/queryApi.ts';
import { registerCustodyRoutes } from './custodyRoutes.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { DEVICE_ID_PATTERN } from '../../protocol/deviceId.ts';
import type { AgentTls } from '../tls/agentTls.ts';
import { registerTlsRoutes } from './tlsRoutes.ts';
import { toHex } from '../../protocol/bytes.ts';

function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7));
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Operations and transparency API: /healthz, /metrics, signed tree heads and proofs
 * (public: they reveal hashes only), and a token-protected admin API for provisioning
 * devices and pushing session tickets.
 */
export async function buildHttpServer(
  core: AgentCore,
  adminToken: string,
  api?: Omit<QueryApiOptions, 'core'>,
  rateLimits: HttpRateLimitOptions = DEFAULT_HTTP_RATE_LIMITS,
  transport?: { tls?: AgentTls; https?: boolean },
): Promise<FastifyInstance> {
  // with TLS on, HTTPS only (issue #20): tokens and signed queries never cross the network in clear
  const https = transport?.https === false ? undefined : transport?.tls?.httpsOptions();
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    frameworkErrors: (err, _req, reply) => void sendError(reply, err),
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;

  // client errors are typed 4xx answers, never a 500 (issue #15 defect 8.1; mapping in errorReply.ts)
  app.setErrorHandler((err, _req, reply) => {
    void sendError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => {
    void sendError(reply, new ApiError('API_ROUTE_NOT_FOUND'));
  });
  // per-IP token buckets: GET routes, /healthz + /metrics, /admin/* and failed admin tokens (issue #15 defect 8.5)
  const limits = new HttpRateLimits(rateLimits, core.clock);
  limits.install(app);

  app.get('/healthz', async (_req, reply) => {
    const h = core.health();
    return reply.status(h.ok ? 200 : 503).send(h);
  });

  app.get('/metrics', async (_req, reply) => {
    core.refreshGauges();
    return reply.header('content-type', core.metrics.registry.contentType).send(await core.metrics.registry.metrics());
  });

  app.get('/v1/log/sth', async () => core.signedTreeHeadJson());

  app.get<{ Params: { id: string }; Querystring: { treeSize?: number } }>(
    '/v1/records/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['id'] },
        querystring: { type: 'object', properties: { treeSize: { type: 'integer', minimum: 1 } } },
      },
    },
    async (req) => core.recordWithProof(req.params.id, req.query.treeSize),
  );

  app.get<{ Querystring: { from: number; to?: number } }>(
    '/v1/log/consistency',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
          required: ['from'],
        },
      },
    },
    async (req) => core.consistencyJson(req.query.from, req.query.to),
  );

  if (api) registerQueryApi(app, { core, ...api });

  // --- admin (bearer token from <dataDir>/admin-token)
  app.register(async (admin) => {
    admin.addHook('onRequest', async (req) => {
      limits.checkAdminLock(req.ip); // while locked the token is not even compared: a guess learns nothing
      if (!tokenMatches(req.headers.authorization, adminToken)) {
        limits.adminAuthFailed(req.ip);
        throw new AgentError('AGENT_UNAUTHORIZED');
      }
    });
    admin.post<{ Body: { id: string } }>(
      '/admin/devices',
      {
        schema: {
          body: {
            type: 'object',
            properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN } },
            required: ['id'],
            additionalProperties: false,
          },
        },
      },
      async (req) => core.provisionDevice(req.body.id),
    );
    admin.delete<{ Params: { id: string } }>(
      '/admin/devices/:id',
      { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN } }, required: ['id'] } } },
      async (req) => {
        core.revokeDevice(req.params.id); // 404 AGENT_NOT_FOUND for an unknown device
        return { id: req.params.id, revoked: true };
      },
    );
    // `reported`: what the device last said in its status since the agent started (state, last refusal, idk; agent/deviceStatus.ts)
    admin.get('/admin/devices', async () => ({
      devices: core.store.listDevices().map((d) => ({ ...d, reported: core.deviceStatus.reported(d.id) ?? null })),
    }));
    admin.get('/admin/metrics', async (_req, reply) =>
      reply.header('content-type', core.metrics.deviceRegistry.contentType).send(await core.metrics.deviceRegistry.metrics()),
    );
    admin.get('/admin/quarantine', async () => ({ counts: core.store.quarantineCounts(), recent: core.store.quarantine(100) }));
    admin.post<{ Body: { ticket: string } }>(
      '/admin/tickets',
      {
        schema: {
          body: {
            type: 'object',
            properties: { ticket: { type: 'string', maxLength: 8192 } },
            required: ['ticket'],
            additionalProperties: false,
          },
        },
      },
      async (req) => {
        const ticket = new Uint8Array(Buffer.from(req.body.ticket, 'base64'));
        api?.custody.checkPushedTicket(decodeTicket(ticket));
        return core.pushTicket(ticket);
      },
    );
    if (api) {
      registerCustodyRoutes(admin, api.custody);
      // ward authority key rotation (docs/PROTOCOL.md §7.7): new tickets signed by a new key; the old one stays published
      admin.post('/admin/ward/authority-rotate', async () => {
        const r = api.ward.rotateAuthority(core.clock.now());
        return { rotated: true, authorityPublicKey: toHex(r.publicKey), previous: toHex(r.previous) };
      });
    }
    if (transport?.tls)
      registerTlsRoutes(admin, transport.tls, (id) =>
        core.store.getDevice(id) === undefined ? 'unknown' : core.ingestor.isRevoked(id) ? 'revoked' : 'active',
      );
  });

  return app;
}

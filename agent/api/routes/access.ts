import type { FastifyInstance } from 'fastify';
import { toHex } from '../../../protocol/bytes.ts';
import { decodeAccessEvent } from '../../../protocol/log/accessEvent.ts';
import { ApiError } from '../apiError.ts';
import { checkSignedRequest } from '../signedRequest.ts';
import type { MessageOf, SignedRequest } from '../../../protocol/api/typedData.ts';
import { ACCESS_QUERY_BODY } from '../schemas.ts';
import { chainRead, type RouteContext } from './context.ts';

/** The query API's access events (/v1/access); moved verbatim from registerQueryApi. */
export function registerAccessRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { core, qs, docs, guardOf } = ctx;
  // ------------------------------------------------------------ access events (the paper's Summary, provable)
  docs.push({
    method: 'post',
    url: '/v1/access',
    summary: 'a patient reads the access events about itself (kind-2 leaves) with inclusion proofs and anchor references',
    body: ACCESS_QUERY_BODY,
    codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_CHAIN_UNAVAILABLE'],
  });
  app.post<{ Body: SignedRequest<MessageOf['AccessQuery']> }>('/v1/access', { schema: { body: ACCESS_QUERY_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const m = req.body.message;
    const patient = await checkSignedRequest(guard, 'AccessQuery', req.body);
    if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
    const scanned = qs.accessEvents(m.fromLeaf, 5000);
    const events = [];
    let next = m.fromLeaf;
    for (const row of scanned) {
      next = row.leafIndex + 1;
      const event = decodeAccessEvent(row.body);
      if (!event || (event['patient'] !== patient && event['requester'] !== patient)) continue;
      const anchor = core.anchorFor ? ((await core.anchorFor(row.leafIndex)) as { treeSize: number } | undefined) : undefined;
      const size = anchor?.treeSize ?? core.ingestor.size;
      events.push({
        leafIndex: row.leafIndex,
        at: row.at,
        event,
        body: Buffer.from(row.body).toString('base64'),
        treeSize: size,
        inclusionProof: core.ingestor.log.inclusionProof(row.leafIndex, size).map(toHex),
        anchor: anchor ?? null,
      });
      if (events.length >= m.limit) break;
    }
    return { patient, events, nextFromLeaf: next };
  });
}

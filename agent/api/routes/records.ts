import type { FastifyInstance } from 'fastify';
import type { Address } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex } from '../../../protocol/bytes.ts';
import { SCOPE_ALL, scopeSensor, scopeSession } from '../../../chain/scope.ts';
import { ApiError } from '../apiError.ts';
import { checkSignedRequest } from '../signedRequest.ts';
import type { MessageOf, SignedRequest } from '../../../protocol/api/typedData.ts';
import { RECORD_QUERY_BODY, RECORD_QUERY_RESPONSE } from '../schemas.ts';
import { chainRead, MAX_RECORDS, type RouteContext } from './context.ts';

/** The query API's record queries (/v1/query/records); moved verbatim from registerQueryApi. */
export function registerRecordRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { core, qs, nowSec, docs, guardOf, logAccess } = ctx;
  // ------------------------------------------------------------ records
  const QUERY_CODES = [
    'API_BAD_REQUEST',
    'API_BAD_SIGNATURE',
    'API_EXPIRED',
    'API_EXPIRY_TOO_FAR',
    'API_REPLAYED',
    'API_RATE_LIMITED',
    'API_NOT_REGISTERED',
    'API_CONSENT_DENIED',
    'API_CHAIN_UNAVAILABLE',
  ] as const;
  docs.push({
    method: 'post',
    url: '/v1/query/records',
    summary:
      'records of a patient with inclusion proofs and anchor references (EIP-712 RecordQuery; Consent.canRead per sensor type / session)',
    body: RECORD_QUERY_BODY,
    response: RECORD_QUERY_RESPONSE,
    codes: [...QUERY_CODES],
  });
  app.post<{ Body: SignedRequest<MessageOf['RecordQuery']> }>('/v1/query/records', { schema: { body: RECORD_QUERY_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const m = req.body.message;
    const requester = await checkSignedRequest(guard, 'RecordQuery', req.body);
    const c = chain.contracts;
    if (!(await chainRead(() => c.isActive(requester)))) throw new ApiError('API_NOT_REGISTERED');
    const patient = m.patient.toLowerCase() as Address;
    const rows = qs.recordsOfPatient(patient, m.device, m.fromLeaf, Math.min(m.limit, MAX_RECORDS));
    const verdicts = new Map<string, Promise<boolean>>();
    const readable: typeof rows = [];
    for (const r of rows) {
      const key = `${r.st}/${toHex(r.kid)}`;
      let v = verdicts.get(key);
      if (!v) {
        const session = scopeSession(r.kid);
        // a sensor type longer than a scope holds (32 chars) can be granted by session (or all) only
        const sensor = r.st.length <= 31 ? scopeSensor(r.st) : session;
        verdicts.set(key, (v = chainRead(() => c.canReadAt(patient, requester, sensor, session, nowSec()))));
      }
      if (await v) readable.push(r);
    }
    if (readable.length === 0) {
      const emptyButAllowed = rows.length === 0 && (await chainRead(() => c.hasAccessAt(patient, requester, SCOPE_ALL, nowSec())));
      if (!emptyButAllowed) throw new ApiError('API_CONSENT_DENIED');
    }
    const records = [];
    for (const r of readable) records.push(await core.recordWithProof(toHex(r.recordId)));
    const digest = sha256(concatBytes(...readable.map((r) => r.recordId)));
    const access = await logAccess({
      t: 'query',
      requester,
      patient,
      records: readable.length,
      withheld: rows.length - readable.length,
      digest,
      nonce: fromHex(m.nonce.slice(2)),
      ts: core.clock.now(),
    });
    return {
      patient,
      records,
      withheld: rows.length - readable.length,
      nextFromLeaf: rows.length > 0 ? rows[rows.length - 1]!.leafIndex + 1 : m.fromLeaf,
      access: { leafIndex: access.leafIndex },
    };
  });
}

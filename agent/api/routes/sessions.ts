import type { FastifyInstance } from 'fastify';
import { bytesToHex } from 'viem';
import { fromHex } from '../../../protocol/bytes.ts';
import { decodeTicket } from '../../../protocol/ticket/index.ts';
import { isDeviceId } from '../../../protocol/deviceId.ts';
import { ApiError } from '../apiError.ts';
import { checkSignedRequest } from '../signedRequest.ts';
import type { MessageOf, SignedRequest } from '../../../protocol/api/typedData.ts';
import { PAIRING_REQUEST_BODY, SESSION_END_BODY, SESSION_REQUEST_BODY } from '../schemas.ts';
import { AgentError } from '../../errors.ts';
import { chainRead, type RouteContext } from './context.ts';

/** The query API's pairing and sessions (/v1/pairings, /v1/sessions, /v1/sessions/end); moved verbatim from registerQueryApi. */
export function registerSessionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { o, core, qs, maxSessionSec, nowSec, docs, guardOf, logAccess } = ctx;
  // ------------------------------------------------------------ pairing + sessions
  const custodyRefusal = (e: unknown): never => {
    if (e instanceof AgentError && e.code === 'AGENT_DEVICE_NOT_ASSIGNED')
      throw new ApiError('API_DEVICE_NOT_ASSIGNED', undefined, { cause: e });
    if (e instanceof AgentError && e.code === 'AGENT_SESSION_KEY_TAKEN')
      throw new ApiError('API_SESSION_KEY_TAKEN', undefined, { cause: e });
    // the key's ticket certifies an earlier identity key of the device (custody.openSession)
    if (e instanceof AgentError && e.code === 'AGENT_BAD_REQUEST') throw new ApiError('API_SESSION_INVALID', e.message, { cause: e });
    throw e;
  };

  docs.push({
    method: 'post',
    url: '/v1/pairings',
    summary:
      'a registered patient asks to be paired with a device: a one-time code (10 min) that the ward operator confirms at the bedside (POST /admin/assignments)',
    body: PAIRING_REQUEST_BODY,
    codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_CHAIN_UNAVAILABLE'],
  });
  app.post<{ Body: SignedRequest<MessageOf['PairingRequest']> }>(
    '/v1/pairings',
    { schema: { body: PAIRING_REQUEST_BODY } },
    async (req) => {
      const { guard, chain } = guardOf();
      const patient = await checkSignedRequest(guard, 'PairingRequest', req.body);
      if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
      return { ...o.custody.requestPairing(patient, req.body.message.device), patient };
    },
  );

  docs.push({
    method: 'post',
    url: '/v1/sessions',
    summary:
      'the patient the ward assigned the device to asks for a session ticket (signed by the ward authority, pushed to the device); a session key belongs to one patient forever',
    body: SESSION_REQUEST_BODY,
    codes: [
      'API_BAD_SIGNATURE',
      'API_EXPIRED',
      'API_REPLAYED',
      'API_RATE_LIMITED',
      'API_NOT_PATIENT',
      'API_SESSION_INVALID',
      'API_DEVICE_NOT_ASSIGNED',
      'API_SESSION_KEY_TAKEN',
      'API_CHAIN_UNAVAILABLE',
    ],
  });
  app.post<{ Body: SignedRequest<MessageOf['SessionRequest']> }>(
    '/v1/sessions',
    { schema: { body: SESSION_REQUEST_BODY } },
    async (req) => {
      const { guard, chain } = guardOf();
      const m = req.body.message;
      const patient = await checkSignedRequest(guard, 'SessionRequest', req.body);
      if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
      const now = nowSec();
      if (!isDeviceId(m.device) || m.exp <= m.nbf || m.exp <= now || m.exp - m.nbf > maxSessionSec)
        throw new ApiError('API_SESSION_INVALID');
      const pk = fromHex(m.pk.slice(2));
      const s = await o.custody.openSession(patient, { device: m.device, pk, nbf: m.nbf, exp: m.exp }).catch(custodyRefusal);
      return {
        device: m.device,
        kid: bytesToHex(s.kid),
        ticket: Buffer.from(s.ticket).toString('base64'),
        access: { leafIndex: s.leafIndex },
      };
    },
  );

  docs.push({
    method: 'post',
    url: '/v1/sessions/end',
    summary: 'the patient ends a session: the ticket is superseded by one expiring now',
    body: SESSION_END_BODY,
    codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_SESSION_NOT_FOUND', 'API_CHAIN_UNAVAILABLE'],
  });
  app.post<{ Body: SignedRequest<MessageOf['SessionEnd']> }>('/v1/sessions/end', { schema: { body: SESSION_END_BODY } }, async (req) => {
    const { guard } = guardOf();
    const m = req.body.message;
    const patient = await checkSignedRequest(guard, 'SessionEnd', req.body);
    const kid = fromHex(m.kid.slice(2));
    const stored = qs.ticket(m.device, kid);
    if (!stored || stored.patient !== patient) throw new ApiError('API_SESSION_NOT_FOUND');
    // an ended session stays ended: no new ticket (it would replace the device's retained ticket,
    // which after a reassignment belongs to the device's next patient)
    if (stored.exp <= nowSec()) return { device: m.device, kid: m.kid, endedAt: stored.exp, access: null };
    const exp = await o.custody.endSession(decodeTicket(stored.ticket));
    const access = await logAccess({ t: 'session-end', patient, device: m.device, kid, ts: core.clock.now() });
    return { device: m.device, kid: m.kid, endedAt: exp, access: { leafIndex: access.leafIndex } };
  });
}

import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { bytesToHex, type Address, type Hex } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/node.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { ChainContracts } from '../../chain/contracts.ts';
import { SCOPE_ALL, scopeSensor, scopeSession } from '../../chain/scope.ts';
import type { AgentCore } from '../core.ts';
import { decodeAccessEvent, encodeAccessEvent, type AccessEvent } from '../../protocol/log/accessEvent.ts';
import { ApiError } from './apiError.ts';
import { ESCROW_INFO, RELEASE_INFO, escrowAad, isDrillReason, releaseAad } from '../../protocol/escrow.ts';
import { NonceStore } from './nonceStore.ts';
import { QueryStore } from './queryStore.ts';
import { checkSignedRequest, type RequestGuard } from './signedRequest.ts';
import { TokenBuckets } from './tokenBucket.ts';
import { apiDomain, type MessageOf, type SignedRequest } from '../../protocol/api/typedData.ts';
import type { WardKeys } from './wardKeys.ts';
import {
  ACCESS_QUERY_BODY,
  EMERGENCY_RELEASE_BODY,
  ESCROW_UPLOAD_BODY,
  RECORD_QUERY_BODY,
  RECORD_QUERY_RESPONSE,
  PAIRING_REQUEST_BODY,
  SESSION_END_BODY,
  SESSION_REQUEST_BODY,
} from './schemas.ts';
import type { DeviceCustody } from '../custody/deviceCustody.ts';
import { AgentError } from '../errors.ts';
import { buildOpenApi, type RouteDoc } from './openapi.ts';

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

const MAX_RECORDS = 500;

async function chainRead<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new ApiError('API_CHAIN_UNAVAILABLE', undefined, { cause: e });
  }
}

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

  docs.push({ method: 'get', url: '/v1/ward', summary: 'ward keys (ticket authority, emergency escrow key), log id, chain and EIP-712 domain', codes: [] });
  app.get('/v1/ward', async () => {
    const c = o.chain;
    return {
      authorityPublicKey: toHex(ward.authorityPublicKey),
      emergencyPublicKey: toHex(ward.emergencyPublicKey),
      logId: toHex(core.identity.logId),
      chain: c ? { chainId: c.chainId, ...c.contracts.addresses, domain: apiDomain(c.chainId, c.contracts.addresses.consent, c.logId) } : null,
    };
  });

  // ------------------------------------------------------------ records
  const QUERY_CODES = ['API_BAD_REQUEST', 'API_BAD_SIGNATURE', 'API_EXPIRED', 'API_EXPIRY_TOO_FAR', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_REGISTERED', 'API_CONSENT_DENIED', 'API_CHAIN_UNAVAILABLE'] as const;
  docs.push({ method: 'post', url: '/v1/query/records', summary: 'records of a patient with inclusion proofs and anchor references (EIP-712 RecordQuery; Consent.canRead per sensor type / session)', body: RECORD_QUERY_BODY, response: RECORD_QUERY_RESPONSE, codes: [...QUERY_CODES] });
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
    const access = await logAccess({ t: 'query', requester, patient, records: readable.length, withheld: rows.length - readable.length, digest, nonce: fromHex(m.nonce.slice(2)), ts: core.clock.now() });
    return { patient, records, withheld: rows.length - readable.length, nextFromLeaf: rows.length > 0 ? rows[rows.length - 1]!.leafIndex + 1 : m.fromLeaf, access: { leafIndex: access.leafIndex } };
  });

  // ------------------------------------------------------------ pairing + sessions
  const custodyRefusal = (e: unknown): never => {
    if (e instanceof AgentError && e.code === 'AGENT_DEVICE_NOT_ASSIGNED') throw new ApiError('API_DEVICE_NOT_ASSIGNED', undefined, { cause: e });
    if (e instanceof AgentError && e.code === 'AGENT_SESSION_KEY_TAKEN') throw new ApiError('API_SESSION_KEY_TAKEN', undefined, { cause: e });
    throw e;
  };

  docs.push({ method: 'post', url: '/v1/pairings', summary: 'a registered patient asks to be paired with a device: a one-time code (10 min) that the ward operator confirms at the bedside (POST /admin/assignments)', body: PAIRING_REQUEST_BODY, codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_CHAIN_UNAVAILABLE'] });
  app.post<{ Body: SignedRequest<MessageOf['PairingRequest']> }>('/v1/pairings', { schema: { body: PAIRING_REQUEST_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const patient = await checkSignedRequest(guard, 'PairingRequest', req.body);
    if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
    return { ...o.custody.requestPairing(patient, req.body.message.device), patient };
  });

  docs.push({ method: 'post', url: '/v1/sessions', summary: 'the patient the ward assigned the device to asks for a session ticket (signed by the ward authority, pushed to the device); a session key belongs to one patient forever', body: SESSION_REQUEST_BODY, codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_SESSION_INVALID', 'API_DEVICE_NOT_ASSIGNED', 'API_SESSION_KEY_TAKEN', 'API_CHAIN_UNAVAILABLE'] });
  app.post<{ Body: SignedRequest<MessageOf['SessionRequest']> }>('/v1/sessions', { schema: { body: SESSION_REQUEST_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const m = req.body.message;
    const patient = await checkSignedRequest(guard, 'SessionRequest', req.body);
    if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
    const now = nowSec();
    if (!isDeviceId(m.device) || m.exp <= m.nbf || m.exp <= now || m.exp - m.nbf > maxSessionSec) throw new ApiError('API_SESSION_INVALID');
    const pk = fromHex(m.pk.slice(2));
    const s = await o.custody.openSession(patient, { device: m.device, pk, nbf: m.nbf, exp: m.exp }).catch(custodyRefusal);
    return { device: m.device, kid: bytesToHex(s.kid), ticket: Buffer.from(s.ticket).toString('base64'), access: { leafIndex: s.leafIndex } };
  });

  docs.push({ method: 'post', url: '/v1/sessions/end', summary: 'the patient ends a session: the ticket is superseded by one expiring now', body: SESSION_END_BODY, codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_SESSION_NOT_FOUND', 'API_CHAIN_UNAVAILABLE'] });
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

  // ------------------------------------------------------------ emergency
  docs.push({ method: 'post', url: '/v1/emergency/escrow', summary: "a patient uploads its emergency profile (COSE_Encrypt0 alg 24 under K) and K HPKE-sealed to the ward's emergency key", body: ESCROW_UPLOAD_BODY, codes: ['API_BAD_REQUEST', 'API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_ESCROW_INVALID', 'API_CHAIN_UNAVAILABLE'] });
  app.post<{ Body: SignedRequest<MessageOf['EscrowUpload']> & { profile: string; enc: Hex; sealed: string } }>('/v1/emergency/escrow', { schema: { body: ESCROW_UPLOAD_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const m = req.body.message;
    const patient = await checkSignedRequest(guard, 'EscrowUpload', req.body);
    const profile = new Uint8Array(Buffer.from(req.body.profile, 'base64'));
    const enc = fromHex(req.body.enc.slice(2));
    const sealed = new Uint8Array(Buffer.from(req.body.sealed, 'base64'));
    if (bytesToHex(sha256(profile)) !== m.profileHash.toLowerCase() || bytesToHex(sha256(concatBytes(enc, sealed))) !== m.escrowHash.toLowerCase()) {
      throw new ApiError('API_BAD_REQUEST', 'escrow does not match the signed hashes');
    }
    if (!(await chainRead(() => chain.contracts.hasRole(patient, 'Patient')))) throw new ApiError('API_NOT_PATIENT');
    let k: Uint8Array;
    try {
      k = ward.openEmergency(hpke, enc, ESCROW_INFO, escrowAad(patient), sealed);
    } catch (e) {
      throw new ApiError('API_ESCROW_INVALID', undefined, { cause: e });
    }
    const valid = k.length === 32;
    k.fill(0);
    if (!valid) throw new ApiError('API_ESCROW_INVALID');
    qs.putEscrow(patient, profile, enc, sealed, core.clock.now());
    const access = await logAccess({ t: 'escrow', patient, ts: core.clock.now() });
    return { patient, stored: true, access: { leafIndex: access.leafIndex } };
  });

  docs.push({ method: 'post', url: '/v1/emergency/release', summary: 'an emergency clinician with an open break-glass window on-chain receives the escrowed profile and K re-sealed to its key', body: EMERGENCY_RELEASE_BODY, codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_EMERGENCY_CLINICIAN', 'API_RECIPIENT_KEY_MISMATCH', 'API_BREAK_GLASS_CLOSED', 'API_ESCROW_NOT_FOUND', 'API_CHAIN_UNAVAILABLE'] });
  app.post<{ Body: SignedRequest<MessageOf['EmergencyRelease']> }>('/v1/emergency/release', { schema: { body: EMERGENCY_RELEASE_BODY } }, async (req) => {
    const { guard, chain } = guardOf();
    const m = req.body.message;
    const clinician = await checkSignedRequest(guard, 'EmergencyRelease', req.body);
    const c = chain.contracts;
    const patient = m.patient.toLowerCase() as Address;
    if (!(await chainRead(() => c.hasRole(clinician, 'EmergencyClinician')))) throw new ApiError('API_NOT_EMERGENCY_CLINICIAN');
    const registered = await chainRead(() => c.registration(clinician));
    if (registered.pubKey.toLowerCase() !== m.recipientKey.toLowerCase()) throw new ApiError('API_RECIPIENT_KEY_MISMATCH');
    const until = await chainRead(() => c.emergencyAccessUntil(patient, clinician));
    if (until < nowSec()) throw new ApiError('API_BREAK_GLASS_CLOSED');
    const escrow = qs.escrow(patient);
    if (!escrow) throw new ApiError('API_ESCROW_NOT_FOUND');
    const events = await chainRead(() => c.breakGlassEvents({ patient }));
    const mine = events.filter((e) => e.clinician.toLowerCase() === clinician);
    const drill = mine.length > 0 && isDrillReason(mine[mine.length - 1]!.reasonHash);
    const k = ward.openEmergency(hpke, escrow.enc, ESCROW_INFO, escrowAad(patient), escrow.sealed);
    let resealed: { enc: Uint8Array; ciphertext: Uint8Array };
    try {
      resealed = hpke.seal(fromHex(m.recipientKey.slice(2)), RELEASE_INFO, releaseAad(patient, clinician), k, { rng });
    } finally {
      k.fill(0);
    }
    const access = await logAccess({ t: 'emergency-release', clinician, patient, drill, until, ts: core.clock.now() });
    return {
      patient,
      drill,
      until,
      profile: Buffer.from(escrow.profile).toString('base64'),
      enc: bytesToHex(resealed.enc),
      sealedKey: Buffer.from(resealed.ciphertext).toString('base64'),
      access: { leafIndex: access.leafIndex },
    };
  });

  // ------------------------------------------------------------ access events (the paper's Summary, provable)
  docs.push({ method: 'post', url: '/v1/access', summary: 'a patient reads the access events about itself (kind-2 leaves) with inclusion proofs and anchor references', body: ACCESS_QUERY_BODY, codes: ['API_BAD_SIGNATURE', 'API_EXPIRED', 'API_REPLAYED', 'API_RATE_LIMITED', 'API_NOT_PATIENT', 'API_CHAIN_UNAVAILABLE'] });
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

  docs.push({ method: 'get', url: '/openapi.json', summary: 'this description', codes: [] });
  app.get('/openapi.json', async () => buildOpenApi(docs));
}

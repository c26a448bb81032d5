import type { FastifyInstance } from 'fastify';
import { bytesToHex, type Address, type Hex } from 'viem';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex } from '../../../protocol/bytes.ts';
import { ApiError } from '../apiError.ts';
import { ESCROW_INFO, RELEASE_INFO, escrowAad, isDrillReason, releaseAad } from '../../../protocol/escrow.ts';
import { checkSignedRequest } from '../signedRequest.ts';
import type { MessageOf, SignedRequest } from '../../../protocol/api/typedData.ts';
import { EMERGENCY_RELEASE_BODY, ESCROW_UPLOAD_BODY } from '../schemas.ts';
import { chainRead, type RouteContext } from './context.ts';

/** The query API's emergency escrow and break-glass release (/v1/emergency/*); moved verbatim from registerQueryApi. */
export function registerEmergencyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { core, ward, rng, hpke, qs, nowSec, docs, guardOf, logAccess } = ctx;
  // ------------------------------------------------------------ emergency
  docs.push({
    method: 'post',
    url: '/v1/emergency/escrow',
    summary: "a patient uploads its emergency profile (COSE_Encrypt0 alg 24 under K) and K HPKE-sealed to the ward's emergency key",
    body: ESCROW_UPLOAD_BODY,
    codes: [
      'API_BAD_REQUEST',
      'API_BAD_SIGNATURE',
      'API_EXPIRED',
      'API_REPLAYED',
      'API_RATE_LIMITED',
      'API_NOT_PATIENT',
      'API_ESCROW_INVALID',
      'API_CHAIN_UNAVAILABLE',
    ],
  });
  app.post<{ Body: SignedRequest<MessageOf['EscrowUpload']> & { profile: string; enc: Hex; sealed: string } }>(
    '/v1/emergency/escrow',
    { schema: { body: ESCROW_UPLOAD_BODY } },
    async (req) => {
      const { guard, chain } = guardOf();
      const m = req.body.message;
      const patient = await checkSignedRequest(guard, 'EscrowUpload', req.body);
      const profile = new Uint8Array(Buffer.from(req.body.profile, 'base64'));
      const enc = fromHex(req.body.enc.slice(2));
      const sealed = new Uint8Array(Buffer.from(req.body.sealed, 'base64'));
      if (
        bytesToHex(sha256(profile)) !== m.profileHash.toLowerCase() ||
        bytesToHex(sha256(concatBytes(enc, sealed))) !== m.escrowHash.toLowerCase()
      ) {
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
    },
  );

  docs.push({
    method: 'post',
    url: '/v1/emergency/release',
    summary: 'an emergency clinician with an open break-glass window on-chain receives the escrowed profile and K re-sealed to its key',
    body: EMERGENCY_RELEASE_BODY,
    codes: [
      'API_BAD_SIGNATURE',
      'API_EXPIRED',
      'API_REPLAYED',
      'API_RATE_LIMITED',
      'API_NOT_EMERGENCY_CLINICIAN',
      'API_RECIPIENT_KEY_MISMATCH',
      'API_BREAK_GLASS_CLOSED',
      'API_ESCROW_NOT_FOUND',
      'API_CHAIN_UNAVAILABLE',
    ],
  });
  app.post<{ Body: SignedRequest<MessageOf['EmergencyRelease']> }>(
    '/v1/emergency/release',
    { schema: { body: EMERGENCY_RELEASE_BODY } },
    async (req) => {
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
    },
  );
}

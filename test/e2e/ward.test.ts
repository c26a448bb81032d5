import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { compareWithSent, EXPECTED_REFUSALS, runWardFlow, type WardFlowResult } from '../../scenarios/ward/index.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { leafHash, verifyInclusion } from '../../protocol/merkle/index.ts';
import { AnchoredRoots, verifyServedRecord } from '../../wallet/verifyRecords.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { LEAF_KIND } from '../../protocol/log/leafKinds.ts';
import { AgentClient } from '../../wallet/agentClient.ts';
import { agentRequest } from '../../wallet/agentHttp.ts';
import { WardCa } from '../../agent/tls/wardCa.ts';
import { seededRng } from '../../protocol/rng.ts';
import { tempDir } from '../support/services.ts';

/**
 * The ward demo's flow on real components (embedded anvil chain + contracts, aedes broker,
 * SQLite agent store), with the test's own checks made while the chain is still up.
 */
const dataDir = tempDir('vitalseal-e2e-');
const lines: string[] = [];
let result: WardFlowResult;
const extra: {
  independentlyVerified: number;
  served: number;
  tampered: string[];
  unanchored: string;
  openapi: Record<string, unknown>;
  accessLeaves: number;
  rateLimited: string | undefined;
  wrongCa: string | undefined;
  otherRefusals: Record<string, string | undefined>;
} = {
  independentlyVerified: 0,
  served: 0,
  tampered: [],
  unanchored: '',
  openapi: {},
  accessLeaves: 0,
  rateLimited: undefined,
  wrongCa: undefined,
  otherRefusals: {},
};

beforeAll(async () => {
  result = await runWardFlow({
    dataDir,
    reset: true,
    readingsPerDevice: 8,
    say: (l) => lines.push(l),
    scryptN: 1 << 12,
    logLevel: 'silent',
    rng: seededRng('e2e-ward'),
    beforeStop: async ({ agent, link, api, ca, clinicianRecords, wallets }) => {
      // every served record's proof, checked here directly against the root of the Ledger's Anchored event
      const reader = new ChainContracts(agent.anchoring!.embedded!.devClients(9), link.deployment);
      extra.served = clinicianRecords.length;
      for (const r of clinicianRecords) {
        expect(r.anchor).not.toBeNull();
        const ev = await reader.anchoredEvents(r.anchor!.logId, { treeSize: r.anchor!.treeSize });
        const root = fromHex(ev[ev.length - 1]!.root.slice(2));
        const env = new Uint8Array(Buffer.from(r.envelope, 'base64'));
        expect(toHex(sha256(env))).toBe(r.recordId);
        verifyInclusion(r.leafIndex, r.treeSize, leafHash(env), r.inclusionProof.map(fromHex), root);
        extra.independentlyVerified++;
      }
      // tampered and unanchored records are reported, not hidden
      const roots = new AnchoredRoots(reader, link.deployment.deployBlock);
      const exp = { chainId: link.deployment.chainId, ledger: link.deployment.ledger };
      const r0 = clinicianRecords[0]!;
      const env = Buffer.from(r0.envelope, 'base64');
      env[env.length - 1]! ^= 1;
      const badEnvelope: ServedRecord = { ...r0, envelope: env.toString('base64') };
      // the first proof hash with its first byte inverted (always a change: writing "ff" there was a no-op when it was already ff, 1 run in 256)
      const flipFirstByte = (h: string) => `${(Number.parseInt(h.slice(0, 2), 16) ^ 0xff).toString(16).padStart(2, '0')}${h.slice(2)}`;
      expect(r0.inclusionProof.length).toBeGreaterThan(0);
      const badProof: ServedRecord = { ...r0, inclusionProof: r0.inclusionProof.map((h, i) => (i === 0 ? flipFirstByte(h) : h)) };
      expect(badProof.inclusionProof[0]).not.toBe(r0.inclusionProof[0]);
      const badSize: ServedRecord = {
        ...r0,
        anchor: { ...r0.anchor!, treeSize: r0.anchor!.treeSize + 1000 },
        treeSize: r0.anchor!.treeSize + 1000,
      };
      for (const t of [badEnvelope, badProof]) extra.tampered.push((await verifyServedRecord(t, roots, exp)).status);
      extra.unanchored =
        (await verifyServedRecord({ ...r0, anchor: null }, roots, exp)).status +
        '/' +
        (await verifyServedRecord(badSize, roots, exp)).status;
      extra.openapi = (await agentRequest(new URL(`${api}/openapi.json`), { method: 'GET', ca })).json as Record<string, unknown>;
      // the API is HTTPS under the ward CA: a client trusting another CA is refused with a typed error, before any request
      const otherCa = (await WardCa.init(join(dataDir, 'other-ca'), { name: 'other ward' })).certPem;
      extra.wrongCa = await AgentClient.withCa(api, seededRng('wrong-ca'), otherCa)
        .ward()
        .then(
          () => 'answered',
          (e: { code?: string }) => e.code,
        );
      extra.accessLeaves = (
        agent.core.db.prepare(`SELECT COUNT(*) AS n FROM log_leaves WHERE kind = ${LEAF_KIND.accessEvent}`).get() as { n: number }
      ).n;
      // rate limit: a burst beyond the bucket from one requester
      const code = async (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: { apiCode?: string }) => e.apiCode,
        );
      const k = AgentClient.withCa(api, seededRng('others'), ca);
      extra.otherRefusals = {
        releaseToNonEmergency: await code(
          k.call(wallets.clinician, '/v1/emergency/release', 'EmergencyRelease', {
            patient: wallets.patient.address,
            recipientKey: wallets.clinician.vitalsealPublicKey,
          }),
        ),
        releaseToOtherKey: await code(
          k.call(wallets.emergency, '/v1/emergency/release', 'EmergencyRelease', {
            patient: wallets.patient.address,
            recipientKey: wallets.stranger.vitalsealPublicKey,
          }),
        ),
        sessionByNonPatient: await code(
          k.call(wallets.clinician, '/v1/sessions', 'SessionRequest', {
            device: 'oxi-01',
            pk: wallets.clinician.vitalsealPublicKey,
            nbf: 1,
            exp: 2,
          }),
        ),
        badSignature: await code(
          k
            .signed(wallets.clinician, 'RecordQuery', { patient: wallets.patient.address, device: '', fromLeaf: 0, limit: 1 })
            .then((r) => k.post('/v1/query/records', { ...r, message: { ...r.message, limit: 2 } })),
        ),
      };
      const c = AgentClient.withCa(api, seededRng('burst'), ca);
      const burst = await Promise.all(
        Array.from({ length: 60 }, () =>
          c.signed(wallets.patient, 'RecordQuery', { patient: wallets.patient.address, device: '', fromLeaf: 0, limit: 1 }),
        ),
      );
      const answers = await Promise.all(burst.map((b) => c.postRaw('/v1/query/records', b)));
      const limited = answers.find((r) => r.status === 429);
      extra.rateLimited = limited ? (limited.json as { error: { code: string } }).error.code : undefined;
    },
  });
}, 120_000);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ward end to end (embedded chain, aedes, SQLite)', () => {
  it('the authorized clinician decrypts exactly the plaintexts the devices sent', () => {
    expect(result.sent.length).toBe(4 * 8);
    expect(compareWithSent(result.sent, result.clinicianRead)).toEqual({ matched: result.sent.length, missing: 0, differing: 0 });
  });

  it('every served record verifies against the root anchored on-chain', () => {
    expect(result.clinicianRead.every((r) => r.check.status === 'verified')).toBe(true);
    expect(extra.independentlyVerified).toBe(extra.served);
    const blocks = new Set(result.anchors.map((a) => a.blockNumber));
    for (const r of result.clinicianRead) expect(blocks.has(r.check.block!)).toBe(true);
  });

  it('tampered and unanchored records are reported as such', () => {
    expect(extra.tampered).toEqual(['tampered', 'tampered']);
    expect(extra.unanchored).toBe('unanchored/unanchored');
  });

  it('assigns every device to the patient through operator-confirmed pairing codes', () => {
    expect(result.assignments).toEqual(
      result.sent.length > 0
        ? ['oxi-01', 'nibp-01', 'temp-01', 'cgm-01'].map((device) => ({
            device,
            patient: result.accounts['patient']!.toLowerCase(),
            via: 'pairing',
          }))
        : [],
    );
  });

  it('refuses unregistered, unauthorized, replayed, expired and revoked requests with their codes', () => {
    expect(result.refusals).toEqual(EXPECTED_REFUSALS);
  });

  it('refuses emergency releases, sessions and forged requests outside their rules', () => {
    expect(extra.otherRefusals).toEqual({
      releaseToNonEmergency: 'API_NOT_EMERGENCY_CLINICIAN',
      releaseToOtherKey: 'API_RECIPIENT_KEY_MISMATCH',
      sessionByNonPatient: 'API_NOT_PATIENT',
      badSignature: 'API_BAD_SIGNATURE',
    });
  });

  it('rate-limits a requester with a stable code', () => {
    expect(extra.rateLimited).toBe('API_RATE_LIMITED');
  });

  it('serves its API on HTTPS only to clients trusting the ward CA: another CA is WALLET_AGENT_UNTRUSTED', () => {
    expect(lines.some((l) => l.includes('HTTPS https://127.0.0.1:'))).toBe(true);
    expect(extra.wrongCa).toBe('WALLET_AGENT_UNTRUSTED');
  });

  it('logs every served request as an access leaf', () => {
    expect(extra.accessLeaves).toBeGreaterThan(5);
    expect(result.logAudit).toBe(true);
  });

  it('break-glass releases the emergency profile to the clinician and the patient sees it', () => {
    expect(result.breakGlass.profile.bloodType).toBe('A+');
    expect(result.breakGlass.drill).toBe(true);
    expect(result.breakGlass.patientSaw).toMatchObject({ kind: 'break-glass', drill: true });
  });

  it('the patient reads its access log (queries, sessions, the drill release) with proofs verified on-chain', () => {
    const kinds = new Set(result.accessLog.map((e) => e.kind));
    expect(kinds).toEqual(new Set(['assign', 'session', 'session-refused', 'query', 'escrow', 'emergency-release']));
    expect(result.accessLog.some((e) => e.kind === 'query' && e.requester === result.accounts['clinician'])).toBe(true);
    expect(result.accessLog.find((e) => e.kind === 'emergency-release')).toMatchObject({
      clinician: result.accounts['emergency'],
      drill: true,
    });
    expect(result.accessLog.every((e) => e.status === 'verified')).toBe(true);
  });

  it('a research disclosure opens exactly one reading', () => {
    expect(result.disclosure.opened.check.status).toBe('verified');
    expect(result.disclosure.otherReadingsTried).toBeGreaterThan(0);
    expect(result.disclosure.otherReadingsOpened).toBe(0);
  });

  it('describes the API in /openapi.json with the refusal codes', () => {
    const paths = extra.openapi.paths as Record<string, Record<string, { 'x-error-codes': string[] }>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/query/records', '/v1/sessions', '/v1/emergency/release']));
    expect(paths['/v1/query/records']!.post!['x-error-codes']).toEqual(
      expect.arrayContaining(['API_REPLAYED', 'API_EXPIRED', 'API_CONSENT_DENIED']),
    );
  });
});

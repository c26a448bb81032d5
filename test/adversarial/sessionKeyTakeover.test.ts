/**
 * Issue #15, defect 2 (high): session takeover by a former grantee. A clinician whose consent was
 * revoked kept the session key from the key share, registered a second account as a patient and
 * asked POST /v1/sessions for the victim's session public key: same kid, and the ticket row
 * (device, kid) changed owner, moving the victim's records to the attacker. Now a session key
 * belongs to its first patient forever: the request is refused with a typed error (on the
 * victim's device and on a device the attacker holds legitimately), the victim keeps its records,
 * and its access log shows each attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealReading } from '../../protocol/envelope/index.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { startSession } from '../../wallet/sessions.ts';
import { grantConsent, revokeConsent, sessionsCoveredBy } from '../../wallet/consent.ts';
import { importKeyShare, sealKeyShare } from '../../wallet/keyShare.ts';
import { contractsFor } from '../../wallet/chainLink.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import { LiveWard } from '../support/liveWard.ts';

const VICTIM_DEV = 'cgm-victim';
const OWN_DEV = 'cgm-attacker';
const READINGS = 6;
let ward: LiveWard;
let victim: Wallet;
let clinician: Wallet;
let secondAccount: Wallet;
let kid: string;
let sharedPk: string;
const nowSec = () => Math.floor(Date.now() / 1000);

async function assign(w: Wallet, dev: string): Promise<string> {
  const secret = (await ward.admin('POST', '/admin/devices', { id: dev })).body['secret'] as string;
  const p = await ward.call(w, '/v1/pairings', 'PairingRequest', { device: dev });
  if (!p.ok) throw new Error(p.code);
  expect((await ward.admin('POST', '/admin/assignments', { device: dev, code: p.body['code'] })).status).toBe(200);
  return secret;
}

async function recordCount(who: Wallet, patient: Wallet): Promise<number | string> {
  const r = await ward.call(who, '/v1/query/records', 'RecordQuery', { patient: patient.address, device: '', fromLeaf: 0, limit: 500 });
  return r.ok ? (r.body['records'] as unknown[]).length : r.code;
}

beforeAll(async () => {
  ward = await LiveWard.start('adversarial-key-takeover');
  victim = await ward.wallet('victim', 2, 'Patient');
  clinician = await ward.wallet('clinician', 4, 'Clinician');
  const secret = await assign(victim, VICTIM_DEV);
  kid = (await startSession(victim, ward.client(), { device: VICTIM_DEV, hpke: ward.hpke, rng: ward.rng, nowSec: nowSec() })).kid;
  const s = victim.sessions.find((x) => x.kid === kid)!;
  const dev = await ward.device(VICTIM_DEV, secret);
  for (let seq = 1; seq <= READINGS; seq++) {
    const ts = Date.now() - (READINGS - seq) * 1000;
    const env = sealReading({
      reading: { st: 'cgm', ts, v: [100 + seq], u: 'mg/dL' },
      header: { dev: VICTIM_DEV, seq, ts, st: 'cgm' },
      recipient: { publicKey: fromHex(s.pk), kid: fromHex(s.kid) },
      hpke: ward.hpke,
      rng: ward.rng,
    });
    await dev.client.publishAsync(`vs/v1/${VICTIM_DEV}/r`, Buffer.from(env), { qos: 1 });
  }
  // consent + key share to the clinician, then revocation: the clinician keeps the key material
  const pc = contractsFor(victim, ward.link);
  await grantConsent(pc, clinician.address, { kind: 'all' }, nowSec() + 3600);
  const reg = await ward.agent.anchoring!.embedded!.adminContracts.registration(clinician.address);
  importKeyShare(
    clinician,
    sealKeyShare(victim, sessionsCoveredBy(victim, { kind: 'all' }), clinician.address, reg.pubKey, ward.hpke, ward.rng),
    ward.hpke,
  );
  sharedPk = clinician.sessions.find((x) => x.kid === kid)!.pk;
  await revokeConsent(pc, clinician.address, { kind: 'all' });
  // the former grantee's second account: a patient of the ward with a device of its own
  secondAccount = await ward.wallet('second', 5, 'Patient');
  await assign(secondAccount, OWN_DEV);
}, 60_000);

afterAll(async () => {
  await ward?.stop();
});

describe("defect 2: a former grantee cannot re-register the victim's session key", () => {
  it('refuses the key on a device the attacker holds legitimately (409 API_SESSION_KEY_TAKEN)', async () => {
    const r = await ward.call(secondAccount, '/v1/sessions', 'SessionRequest', {
      device: OWN_DEV,
      pk: `0x${sharedPk}`,
      nbf: nowSec() - 60,
      exp: nowSec() + 3600,
    });
    expect(r).toMatchObject({ ok: false, code: 'API_SESSION_KEY_TAKEN', status: 409 });
  });

  it("refuses the key on the victim's own device", async () => {
    const r = await ward.call(secondAccount, '/v1/sessions', 'SessionRequest', {
      device: VICTIM_DEV,
      pk: `0x${sharedPk}`,
      nbf: nowSec() - 60,
      exp: nowSec() + 3600,
    });
    expect(r).toMatchObject({ ok: false, code: 'API_SESSION_KEY_TAKEN' });
  });

  it('leaves every record with the victim; the attacker is served none', async () => {
    expect(await recordCount(victim, victim)).toBe(READINGS);
    expect(await recordCount(secondAccount, secondAccount)).toBe(0);
    expect(await recordCount(secondAccount, victim)).toBe('API_CONSENT_DENIED');
    expect(await recordCount(clinician, victim)).toBe('API_CONSENT_DENIED');
  });

  it("shows every attempt in the victim's access log", async () => {
    const r = await ward.call(victim, '/v1/access', 'AccessQuery', { fromLeaf: 0, limit: 500 });
    if (!r.ok) throw new Error(r.code);
    const refused = (r.body['events'] as Array<{ event: Record<string, unknown> }>)
      .map((e) => e.event)
      .filter((e) => e['t'] === 'session-refused' && e['reason'] === 'key-taken');
    expect(refused).toHaveLength(2);
    expect(refused.every((e) => e['requester'] === secondAccount.address.toLowerCase() && e['kid'] === kid)).toBe(true);
    expect(refused.map((e) => e['device']).sort()).toEqual([OWN_DEV, VICTIM_DEV].sort());
  });

  it('the owner itself may re-register its key (a re-issue is not a conflict)', async () => {
    const s = victim.sessions.find((x) => x.kid === kid)!;
    const r = await ward.call(victim, '/v1/sessions', 'SessionRequest', {
      device: VICTIM_DEV,
      pk: `0x${s.pk}`,
      nbf: nowSec() - 60,
      exp: nowSec() + 1800,
    });
    expect(r.ok).toBe(true);
  });
});

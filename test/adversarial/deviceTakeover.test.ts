/**
 * Issue #15, defect 1 (critical): any registered patient could take over any device's stream.
 * Before the fix a self-registered stranger asked POST /v1/sessions for another patient's device,
 * the ward authority signed the ticket, the agent pushed it retained and the device sealed every
 * following reading to the stranger. Now only the patient the ward operator assigned the device to
 * (operator-confirmed pairing code) gets a session; every step here goes through the public
 * interfaces: signed API calls, the admin API with or without the operator's token, MQTT as the device.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealReading } from '../../protocol/envelope/index.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { startSession } from '../../wallet/sessions.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import type { Ticket } from '../../protocol/ticket/index.ts';
import type { MqttClient } from 'mqtt';
import { LiveWard } from '../support/liveWard.ts';
import { waitFor } from '../support/services.ts';

const DEV = 'oxi-takeover-1';
const SPARE = 'oxi-takeover-2';
let ward: LiveWard;
let victim: Wallet;
let attacker: Wallet;
let device: { client: MqttClient; tickets: Ticket[] };
let victimKid: string;
const nowSec = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pairAndConfirm(w: Wallet, dev: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const p = await ward.call(w, '/v1/pairings', 'PairingRequest', { device: dev });
  if (!p.ok) throw new Error(`pairing refused: ${p.code}`);
  return ward.admin('POST', '/admin/assignments', { device: dev, code: p.body['code'] });
}

async function sessionCode(w: Wallet, dev: string): Promise<string> {
  try {
    await startSession(w, ward.client(), { device: dev, hpke: ward.hpke, rng: ward.rng, nowSec: nowSec() });
    return 'granted';
  } catch (e) {
    return (e as { apiCode?: string }).apiCode ?? String(e);
  }
}

async function accessEvents(w: Wallet): Promise<Array<Record<string, unknown>>> {
  const r = await ward.call(w, '/v1/access', 'AccessQuery', { fromLeaf: 0, limit: 500 });
  if (!r.ok) throw new Error(r.code);
  return (r.body['events'] as Array<{ event: Record<string, unknown> }>).map((e) => e.event);
}

beforeAll(async () => {
  ward = await LiveWard.start('adversarial-takeover');
  victim = await ward.wallet('victim', 2, 'Patient');
  attacker = await ward.wallet('attacker', 3, 'Patient');
  const prov = await ward.admin('POST', '/admin/devices', { id: DEV });
  await ward.admin('POST', '/admin/devices', { id: SPARE });
  device = await ward.device(DEV, prov.body['secret'] as string);
  expect((await pairAndConfirm(victim, DEV)).status).toBe(200);
  victimKid = (await startSession(victim, ward.client(), { device: DEV, hpke: ward.hpke, rng: ward.rng, nowSec: nowSec() })).kid;
  await waitFor(() => device.tickets.length > 0, 5000, 'the victim ticket on the device');
}, 60_000);

afterAll(async () => {
  await ward?.stop();
});

describe("defect 1: a registered patient cannot take over another patient's device", () => {
  it('refuses a session on a device assigned to someone else; the device never sees a ticket for the attacker', async () => {
    expect(await sessionCode(attacker, DEV)).toBe('API_DEVICE_NOT_ASSIGNED');
    await sleep(300);
    expect(device.tickets.length).toBeGreaterThan(0);
    expect(device.tickets.every((t) => t.patient === victim.address.toLowerCase())).toBe(true);
  });

  it('refuses a session on a device nobody was assigned (the ward authority signs nothing)', async () => {
    expect(await sessionCode(attacker, SPARE)).toBe('API_DEVICE_NOT_ASSIGNED');
    expect(await sessionCode(victim, SPARE)).toBe('API_DEVICE_NOT_ASSIGNED');
  });

  it('cannot assign itself: the admin API needs the operator token, and a pairing code is bound to its device', async () => {
    const p = await ward.call(attacker, '/v1/pairings', 'PairingRequest', { device: DEV });
    expect(p.ok).toBe(true);
    const code = (p as { body: Record<string, unknown> }).body['code'] as string;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect((await ward.admin('POST', '/admin/assignments', { device: DEV, code }, 'not-the-token')).status).toBe(401);
    expect((await ward.admin('POST', '/admin/assignments', { device: DEV, patient: attacker.address }, '')).status).toBe(401);
    const elsewhere = await ward.admin('POST', '/admin/assignments', { device: SPARE, code });
    expect(elsewhere.status).toBe(404);
    expect((elsewhere.body['error'] as { code: string }).code).toBe('AGENT_PAIRING_NOT_FOUND');
    const guessed = await ward.admin('POST', '/admin/assignments', { device: DEV, code: '0000-0000' });
    expect(guessed.status).toBe(404);
    // the device is still the victim's
    expect((await ward.admin('GET', '/admin/assignments')).body['assignments']).toContainEqual(
      expect.objectContaining({ device: DEV, patient: victim.address.toLowerCase(), via: 'pairing' }),
    );
  });

  it("shows the refused attempts in the victim's access log", async () => {
    const refused = (await accessEvents(victim)).filter((e) => e['t'] === 'session-refused');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatchObject({ requester: attacker.address.toLowerCase(), device: DEV, reason: 'not-assigned' });
  });

  it('does not list device ids on the public /metrics (only on the admin metrics)', async () => {
    const s = victim.sessions.find((x) => x.kid === victimKid)!;
    const ts = Date.now() - 1000;
    const env = sealReading({
      reading: { st: 'spo2', ts, v: [97, 70], u: '%' },
      header: { dev: DEV, seq: 1, ts, st: 'spo2' },
      recipient: { publicKey: fromHex(s.pk), kid: fromHex(s.kid) },
      hpke: ward.hpke,
      rng: ward.rng,
    });
    await device.client.publishAsync(`vs/v1/${DEV}/r`, Buffer.from(env), { qos: 1 });
    const pub = await (await fetch(`${ward.api}/metrics`)).text();
    expect(pub).toContain('vitalseal_ingest_total');
    expect(pub).not.toContain(DEV);
    const res = await fetch(`${ward.api}/admin/metrics`, { headers: { authorization: `Bearer ${ward.agent.adminToken}` } });
    expect(await res.text()).toContain(`device="${DEV}"`);
    expect((await fetch(`${ward.api}/admin/metrics`)).status).toBe(401);
  });

  it("reassignment ends the previous patient's sessions and tells both patients", async () => {
    const before = device.tickets.length;
    const r = await ward.admin('POST', '/admin/assignments', { device: DEV, patient: attacker.address });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      device: DEV,
      patient: attacker.address.toLowerCase(),
      via: 'operator',
      sessionsEnded: 1,
      changed: true,
    });
    // the device gets the victim's session superseded by a ticket that has expired
    await waitFor(() => device.tickets.length > before, 5000, 'the superseding ticket');
    const last = device.tickets[device.tickets.length - 1]!;
    expect(Buffer.from(last.kid).toString('hex')).toBe(victimKid);
    expect(last.exp).toBeLessThanOrEqual(nowSec());
    const victimLog = await accessEvents(victim);
    expect(victimLog).toContainEqual(expect.objectContaining({ t: 'release', device: DEV, reason: 'reassigned', sessions: 1 }));
    // neither patient learns the other's address from these events
    expect(JSON.stringify(victimLog.filter((e) => e['t'] === 'release'))).not.toContain(attacker.address.toLowerCase().slice(2));
    const attackerLog = await accessEvents(attacker);
    expect(attackerLog).toContainEqual(expect.objectContaining({ t: 'assign', device: DEV, via: 'operator' }));
    expect(JSON.stringify(attackerLog.filter((e) => e['t'] === 'assign'))).not.toContain(victim.address.toLowerCase().slice(2));
    // the new patient gets sessions from now on, the previous one does not, and the old records stay the victim's
    expect(await sessionCode(victim, DEV)).toBe('API_DEVICE_NOT_ASSIGNED');
    expect(await sessionCode(attacker, DEV)).toBe('granted');
    const own = await ward.call(attacker, '/v1/query/records', 'RecordQuery', {
      patient: attacker.address,
      device: DEV,
      fromLeaf: 0,
      limit: 100,
    });
    expect(own.ok && (own.body['records'] as unknown[]).length).toBe(0);
    const theirs = await ward.call(attacker, '/v1/query/records', 'RecordQuery', {
      patient: victim.address,
      device: DEV,
      fromLeaf: 0,
      limit: 100,
    });
    expect(theirs).toMatchObject({ ok: false, code: 'API_CONSENT_DENIED' });
  });

  it("the previous patient cannot replace the device's retained ticket by ending its old session again", async () => {
    const before = device.tickets.length;
    const r = await ward.call(victim, '/v1/sessions/end', 'SessionEnd', { device: DEV, kid: `0x${victimKid}` });
    expect(r.ok).toBe(true);
    await sleep(300);
    expect(device.tickets.length).toBe(before);
    expect(device.tickets[device.tickets.length - 1]!.patient).toBe(attacker.address.toLowerCase());
  });

  it('release ends the sessions of the assigned patient; releasing again is 404', async () => {
    const r = await ward.admin('DELETE', `/admin/assignments/${DEV}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ device: DEV, sessionsEnded: 1 });
    expect(await accessEvents(attacker)).toContainEqual(expect.objectContaining({ t: 'release', device: DEV, reason: 'released' }));
    expect(await sessionCode(attacker, DEV)).toBe('API_DEVICE_NOT_ASSIGNED');
    expect((await ward.admin('DELETE', `/admin/assignments/${DEV}`)).status).toBe(404);
  });
});

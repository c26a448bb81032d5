import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVitalsealError } from '../../protocol/errors.ts';
import { openReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import type { TempKeyPair } from '../../protocol/keys/index.ts';
import { parseFaults } from '../../device-sim/faults/faultPlan.ts';
import type { FleetDevice } from '../../device-sim/fleet/fleetFile.ts';
import { runFleet } from '../../device-sim/fleet/fleetRunner.ts';
import type { ProfileName } from '../../device-sim/profiles/index.ts';
import type { DeviceReport } from '../../device-sim/report/fleetReport.ts';
import { authority, nowS, patientTicket, startTestAgent } from './helpers.ts';

/**
 * A small fleet against the real edge agent (embedded aedes broker, SQLite store) on
 * loopback, with seeded faults on; the report is checked against what the agent stored.
 */
const A = authority(3);
const node = createHpke('node');
let t: Awaited<ReturnType<typeof startTestAgent>>;
const keys = new Map<string, TempKeyPair>();

beforeAll(async () => {
  t = await startTestAgent();
});
afterAll(async () => {
  await t?.stop();
});

async function enrol(ids: string[], profiles: ProfileName[]): Promise<FleetDevice[]> {
  const out: FleetDevice[] = [];
  for (const [i, id] of ids.entries()) {
    const { secret } = t.agent.core.provisionDevice(id);
    const { ticket, key } = patientTicket(id, A, { nbf: nowS() - 7200, exp: nowS() + 7200 });
    keys.set(id, key);
    await t.agent.core.pushTicket(ticket); // retained on vs/v1/<id>/ticket
    out.push({ id, secret, profile: profiles[i % profiles.length]!, authorityPublicKey: A.publicKey });
  }
  return out;
}

const storedSeqs = (id: string): number[] => t.agent.core.store.recordsOfDevice(id, 0, 1_000_000).map((r) => r.seq);
const url = (): string => `mqtt://127.0.0.1:${t.agent.mqttAddress!.port}`;
const range = (d: DeviceReport): number[] => (d.lastSeq === null ? [] : Array.from({ length: d.lastSeq + 1 }, (_, i) => i));

describe('fleet against the real agent over MQTT', () => {
  it('transmission faults: the report equals what the agent counted and stored; corrupted copies are exactly the undecryptable ones', async () => {
    const devices = await enrol(['fa-1', 'fa-2', 'fa-3', 'fa-4'], ['pulse-oximeter', 'ecg-patch']);
    const { report } = await runFleet({
      devices,
      link: { kind: 'mqtt', url: url() },
      durationMs: 180_000,
      time: 'virtual',
      seed: 'fleet-a',
      backend: 'node',
      faults: parseFaults('drop=0.04,dup=0.04,corrupt=0.03,reorder=0.04,delay=0.04:3s'),
      ackTimeoutMs: 400,
      drainTimeoutMs: 20_000,
    });
    expect(report.drained).toBe(true);
    const f = report.totals;
    expect(f.acknowledged).toBe(f.measured);
    expect(f.measured).toBeGreaterThan(4 * 150);
    for (const d of report.devices) {
      const c = t.agent.core.store.getDevice(d.id)!;
      expect(Object.values(d.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
      // no loss: every sealed seq is stored exactly once
      const seqs = storedSeqs(d.id);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect([...seqs].sort((a, b) => a - b)).toEqual(range(d));
      // the device's numbers are the agent's numbers
      expect({ received: c.received, duplicates: c.duplicates, gaps: c.gaps, reorders: c.reorders, quarantined: c.quarantined }).toEqual({
        received: d.acknowledged,
        duplicates: d.duplicates,
        gaps: d.gaps,
        reorders: d.reorders,
        quarantined: 0,
      });
      expect(d.acks).toBe(c.received + c.duplicates);
      expect(d.transmissions).toBe(d.sent + d.retried);
      expect(d.latencyMs.n).toBe(d.acknowledged);
      expect(d.latencyMs.p99!).toBeGreaterThanOrEqual(d.latencyMs.p50!);
      // corruption (a flipped AEAD-tag byte) is invisible to TCP and the agent: only the patient's key tells
      const key = keys.get(d.id)!;
      const undecryptable: number[] = [];
      for (const r of t.agent.core.store.recordsOfDevice(d.id, 0, 1_000_000)) {
        try {
          const o = openReading(r.envelope, { secretKey: key.secretKey, hpke: node });
          expect(o.header.seq).toBe(r.seq);
        } catch (e) {
          expect(isVitalsealError(e, 'ENVELOPE_DECRYPT_FAILED')).toBe(true);
          undecryptable.push(r.seq);
        }
      }
      const corruptedFirstCopies = d.corruptedSeqs.filter((s) => undecryptable.includes(s));
      expect(undecryptable.sort((a, b) => a - b)).toEqual([...new Set(corruptedFirstCopies)].sort((a, b) => a - b));
      expect(undecryptable.length).toBeGreaterThan(0);
    }
  });

  it('link outages, reboots and a small drop-oldest ring: no acknowledged reading is lost and every gap is a counted drop', async () => {
    const devices = await enrol(['fb-1', 'fb-2', 'fb-3'], ['pulse-oximeter']);
    const wills: string[] = [];
    const onPublish = (packet: { topic: string; payload: Buffer | string }): void => {
      // {"state":"offline"} is only ever the last will, published by the broker for a device that vanished
      if (/^vs\/v1\/fb-\d\/status$/.test(packet.topic) && packet.payload.toString().includes('offline'))
        wills.push(packet.payload.toString());
    };
    t.agent.broker!.aedes.on('publish', onPublish);
    const { report } = await runFleet({
      devices,
      link: { kind: 'mqtt', url: url() },
      durationMs: 360_000,
      time: 'virtual',
      seed: 'fleet-b',
      backend: 'node',
      faults: parseFaults('drop=0.02,dup=0.02,link=0.01:60s,reboot=0.004:1s'),
      outboxCapacity: 16,
      outboxPolicy: 'drop-oldest',
      ackTimeoutMs: 400,
      drainTimeoutMs: 20_000,
    });
    t.agent.broker!.aedes.removeListener('publish', onPublish);
    expect(report.drained).toBe(true);
    // power loss and link outages drop the TCP connection without DISCONNECT: the broker publishes the last will
    expect(wills.length).toBeGreaterThan(0);
    expect(new Set(wills)).toEqual(new Set(['{"state":"offline"}']));
    expect(report.totals.reboots).toBeGreaterThan(0);
    expect(report.totals.linkLosses).toBeGreaterThan(0);
    expect(report.totals.droppedByPolicy).toBeGreaterThan(0);
    for (const d of report.devices) {
      const c = t.agent.core.store.getDevice(d.id)!;
      const stored = new Set(storedSeqs(d.id));
      const dropped = new Set(d.droppedSeqs);
      const missing = range(d).filter((s) => !stored.has(s));
      // every gap is accounted for by a counted drop …
      expect(missing.filter((s) => !dropped.has(s))).toEqual([]);
      // … and every counted drop is missing, unless it had been sent before being dropped
      expect(missing.length).toBeGreaterThanOrEqual(d.droppedSeqs.length - d.droppedAfterSend);
      // acknowledged readings are all stored (acknowledged = all sealed − dropped)
      expect(c.received).toBe(stored.size);
      expect(d.acknowledged).toBeLessThanOrEqual(stored.size);
      expect(d.acknowledged).toBeGreaterThanOrEqual(stored.size - d.droppedAfterSend);
      expect(d.gaps).toBeGreaterThanOrEqual(c.gaps);
      expect(d.gaps - c.gaps).toBeLessThanOrEqual(d.droppedAfterSend);
      expect(d.connects).toBeGreaterThan(1);
    }
    // seq never reused with other content
    expect(t.agent.core.store.quarantineCounts()['AGENT_SEQ_REPLAY'] ?? 0).toBe(0);
  });

  it('refuses bad tickets and says why on vs/v1/<dev>/status', async () => {
    const B = authority(4);
    const seen = new Map<string, unknown[]>();
    const broker = t.agent.broker!;
    const onPublish = (packet: { topic: string; payload: Buffer | string }): void => {
      const m = /^vs\/v1\/(.+)\/status$/.exec(packet.topic);
      if (m) seen.set(m[1]!, [...(seen.get(m[1]!) ?? []), JSON.parse(packet.payload.toString())]);
    };
    broker.aedes.on('publish', onPublish);
    const valid = { nbf: nowS() - 60, exp: nowS() + 3600 };
    const devs: FleetDevice[] = [];
    const mk = (id: string, extra: Partial<FleetDevice>): void => {
      const { secret } = t.agent.core.provisionDevice(id);
      devs.push({ id, secret, profile: 'thermometer', authorityPublicKey: A.publicKey, periodMs: 200, ...extra });
    };
    mk('tk-sig', {});
    await t.agent.core.pushTicket(patientTicket('tk-sig', B, valid).ticket); // the agent accepts any signer; the device does not
    mk('tk-dev', { ticket: patientTicket('tk-other', A, valid).ticket });
    mk('tk-exp', { ticket: patientTicket('tk-exp', A, { nbf: nowS() - 7200, exp: nowS() - 3600 }).ticket });
    mk('tk-nyv', { ticket: patientTicket('tk-nyv', A, { nbf: nowS() + 3600, exp: nowS() + 7200 }).ticket });
    const okTicket = patientTicket('tk-ok', A, valid).ticket;
    mk('tk-ok', { ticket: okTicket }); // loaded at provisioning …
    await t.agent.core.pushTicket(okTicket); // … and known to the agent (else it quarantines the readings: unknown kid)
    const { report } = await runFleet({
      devices: devs,
      link: { kind: 'mqtt', url: url() },
      durationMs: 1500,
      time: 'real',
      rampMs: 0,
      seed: 'tickets',
      backend: 'node',
      drainTimeoutMs: 5000,
    });
    broker.aedes.removeListener('publish', onPublish);
    const expected: Record<string, string> = {
      'tk-sig': 'TICKET_BAD_SIGNATURE',
      'tk-dev': 'TICKET_WRONG_DEVICE',
      'tk-exp': 'TICKET_EXPIRED',
      'tk-nyv': 'TICKET_NOT_YET_VALID',
    };
    for (const [id, code] of Object.entries(expected)) {
      const d = report.devices.find((x) => x.id === id)!;
      expect(seen.get(id)).toContainEqual({ state: 'error', code });
      expect(d.ticketRefusals).toEqual({ [code]: 1 });
      expect(d.measured).toBe(0);
      expect(d.notMeasured.noTicket).toBeGreaterThan(0);
      expect(storedSeqs(id)).toEqual([]);
    }
    const ok = report.devices.find((x) => x.id === 'tk-ok')!;
    expect(seen.get('tk-ok')?.[0]).toMatchObject({ state: 'online', boot: 1 });
    expect(ok.acknowledged).toBeGreaterThan(3);
    expect(storedSeqs('tk-ok')).toHaveLength(ok.acknowledged);
  });
});

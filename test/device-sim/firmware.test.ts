import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { DeviceFirmware, type FirmwareEvent, type FirmwareOptions } from '../../device-sim/firmware/device.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { VirtualScheduler } from '../../device-sim/time/virtualScheduler.ts';
import { LoopbackHub } from '../../device-sim/transport/loopbackLink.ts';
import { authority, patientTicket } from './helpers.ts';

const START = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const S = START / 1000;
const A = authority(1);
const B = authority(2);
const node = createHpke('node');

interface Rig {
  sched: VirtualScheduler;
  hub: LoopbackHub;
  fw: DeviceFirmware;
  events: FirmwareEvent[];
  advance(ms: number): Promise<void>;
}

function rig(id: string, o: Partial<FirmwareOptions> & { pin?: boolean; profile?: keyof typeof PROFILES } = {}): Rig {
  const sched = new VirtualScheduler(START);
  const hub = new LoopbackHub(sched, 2);
  const events: FirmwareEvent[] = [];
  const fw = new DeviceFirmware({
    provisioning: {
      id,
      profile: PROFILES[o.profile ?? 'pulse-oximeter'],
      ...(o.pin === false ? {} : { authorityPublicKey: A.publicKey }),
      ...(o.provisioning ?? {}),
    },
    scheduler: sched,
    storage: o.storage ?? new MemoryNvm(),
    link: (dev, ev) => hub.link(dev.id, ev),
    seed: o.seed ?? 'fw-test',
    runStartMs: START,
    backend: o.backend ?? 'node',
    ackTimeoutMs: 1000,
    onEvent: (e) => events.push(e),
    ...o,
  });
  const advance = async (ms: number): Promise<void> => {
    const end = sched.now() + ms;
    while (sched.now() < end) {
      sched.runUntil(Math.min(end, sched.now() + 250));
      await new Promise((r) => setImmediate(r));
    }
  };
  return { sched, hub, fw, events, advance };
}

const statuses = (r: Rig) => r.hub.device(r.fw.id).statuses;
const sealed = (r: Rig) => r.events.filter((e): e is Extract<FirmwareEvent, { kind: 'sealed' }> => e.kind === 'sealed');

describe('firmware model', () => {
  it('refuses bad tickets with the reason on its status, then takes a valid one', async () => {
    const valid = { nbf: S - 60, exp: S + 3600 };
    const cases: Array<[string, Uint8Array, string, boolean?]> = [
      ['t-sig', patientTicket('t-sig', B, valid).ticket, 'TICKET_BAD_SIGNATURE'],
      ['t-dev', patientTicket('someone-else', A, valid).ticket, 'TICKET_WRONG_DEVICE'],
      ['t-exp', patientTicket('t-exp', A, { nbf: S - 7200, exp: S - 3600 }).ticket, 'TICKET_EXPIRED'],
      ['t-nyv', patientTicket('t-nyv', A, { nbf: S + 3600, exp: S + 7200 }).ticket, 'TICKET_NOT_YET_VALID'],
      ['t-nokey', patientTicket('t-nokey', A, valid).ticket, 'SIM_NO_AUTHORITY_KEY', false],
      ['t-junk', new Uint8Array([0xd2, 0x84, 1, 2]), 'TICKET_MALFORMED'],
    ];
    for (const [id, ticket, code, pin] of cases) {
      const r = rig(id, { pin: pin ?? true });
      r.hub.pushTicket(id, ticket);
      r.fw.start();
      await r.advance(5000);
      expect(r.fw.state.kind).toBe('provisioned');
      expect(statuses(r)).toContainEqual({ state: 'error', code });
      expect(r.fw.stats.ticketRefusals).toEqual({ [code]: 1 });
      expect(r.fw.stats.measured).toBe(0);
      expect(r.fw.stats.notMeasured.noTicket).toBeGreaterThanOrEqual(4);
      // the same ticket again (retained, on reconnect) is not re-reported
      r.hub.disconnect(id);
      await r.advance(5000);
      expect(r.fw.stats.ticketRefusals).toEqual({ [code]: 1 });
      if (pin === false) continue;
      r.hub.pushTicket(id, patientTicket(id, A, valid).ticket);
      await r.advance(3000);
      expect(r.fw.stats.ticketsAccepted).toBe(1);
      expect(['sleeping', 'ticketed']).toContain(r.fw.state.kind);
      expect(statuses(r).some((s) => s.state === 'ticketed')).toBe(true);
      expect(r.fw.stats.measured).toBeGreaterThanOrEqual(2);
    }
  });

  it('same seed ⇒ the same envelopes byte for byte; every reading opens with the patient key, a fresh ek each', async () => {
    const { ticket, key } = patientTicket('det-1', A, { nbf: S - 60, exp: S + 3600 });
    const run = async (seed: string, backend: 'noble' | 'node') => {
      const r = rig('det-1', {
        seed,
        backend,
        provisioning: { id: 'det-1', profile: PROFILES['pulse-oximeter'], authorityPublicKey: A.publicKey, ticket },
      });
      r.fw.start();
      await r.advance(8000);
      return sealed(r).map((e) => e.envelope);
    };
    const a = await run('seed-A', 'noble');
    const b = await run('seed-A', 'node');
    const c = await run('seed-B', 'node');
    expect(a.length).toBeGreaterThanOrEqual(7);
    expect(a.map(toHex)).toEqual(b.map(toHex)); // and the backends agree
    expect(c.map(toHex)).not.toEqual(a.map(toHex));
    const eks = new Set<string>();
    a.forEach((env, i) => {
      const opened = openReading(env, { secretKey: key.secretKey, hpke: node });
      expect(opened.header).toMatchObject({ dev: 'det-1', seq: i, st: 'spo2' });
      expect(opened.reading.v).toHaveLength(2);
      eks.add(toHex(decodeEnvelope(env).enc));
    });
    expect(eks.size).toBe(a.length);
  });

  it('session mode: one ek per ticket, hs = the HPKE sequence number, readings still open', async () => {
    const { ticket, key } = patientTicket('ses-1', A, { nbf: S - 60, exp: S + 3600 });
    const r = rig('ses-1', {
      mode: 'session',
      provisioning: { id: 'ses-1', profile: PROFILES['ecg-patch'], authorityPublicKey: A.publicKey, ticket },
    });
    r.fw.start();
    await r.advance(6000);
    const envs = sealed(r).map((e) => e.envelope);
    expect(envs.length).toBeGreaterThanOrEqual(5);
    expect(new Set(envs.map((e) => toHex(decodeEnvelope(e).enc))).size).toBe(1);
    envs.forEach((env, i) => {
      const o = openReading(env, { secretKey: key.secretKey, hpke: node });
      expect(o.header.hs).toBe(i);
      expect(o.reading.v).toHaveLength(250);
    });
  });

  it('stop-measuring: a full ring skips measurements (counted), everything kept is delivered when the link returns', async () => {
    const { ticket } = patientTicket('ring-1', A, { nbf: S - 60, exp: S + 3600 });
    const r = rig('ring-1', {
      outboxCapacity: 5,
      outboxPolicy: 'stop-measuring',
      provisioning: { id: 'ring-1', profile: PROFILES['pulse-oximeter'], authorityPublicKey: A.publicKey, ticket },
    });
    r.hub.available = false;
    r.fw.start();
    await r.advance(10_000);
    expect(r.fw.stats.measured).toBe(5);
    expect(r.fw.stats.notMeasured.outboxFull).toBeGreaterThanOrEqual(4);
    expect(r.fw.stats.droppedByPolicy).toBe(r.fw.stats.notMeasured.outboxFull);
    expect(r.fw.stats.connectFailures).toBeGreaterThan(2);
    r.hub.available = true;
    await r.advance(60_000);
    expect(r.fw.pending).toBe(0);
    const stored = [...r.hub.device('ring-1').stored.keys()].sort((x, y) => x - y);
    expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i)); // no seq skipped
  });

  it('drop-oldest: every reading missing at the receiver is a counted drop', async () => {
    const { ticket } = patientTicket('ring-2', A, { nbf: S - 60, exp: S + 3600 });
    const r = rig('ring-2', {
      outboxCapacity: 4,
      outboxPolicy: 'drop-oldest',
      provisioning: { id: 'ring-2', profile: PROFILES['pulse-oximeter'], authorityPublicKey: A.publicKey, ticket },
    });
    r.hub.available = false;
    r.fw.start();
    await r.advance(10_000);
    r.hub.available = true;
    await r.advance(60_000);
    const stored = new Set(r.hub.device('ring-2').stored.keys());
    const missing = Array.from({ length: r.fw.seq }, (_, i) => i).filter((s) => !stored.has(s));
    expect(missing.length).toBeGreaterThan(3);
    expect(missing).toEqual(r.fw.stats.droppedSeqs);
    // gaps as the agent counts them: skipped seqs above the first one it received
    const first = Math.min(...stored);
    expect(r.fw.stats.sequence.gaps).toBe(missing.filter((s) => s > first).length);
  });

  it('stops sealing when the ticket expires or is used up, and says why', async () => {
    const exp = rig('exp-1', {
      provisioning: {
        id: 'exp-1',
        profile: PROFILES['pulse-oximeter'],
        authorityPublicKey: A.publicKey,
        ticket: patientTicket('exp-1', A, { nbf: S - 60, exp: S + 5 }).ticket,
      },
    });
    exp.fw.start();
    await exp.advance(10_000);
    expect(exp.fw.stats.measured).toBeGreaterThanOrEqual(4);
    expect(exp.fw.stats.measured).toBeLessThanOrEqual(6);
    expect(statuses(exp)).toContainEqual({ state: 'error', code: 'TICKET_EXPIRED' });
    expect(exp.fw.state.kind).toBe('provisioned');

    const cap = rig('cap-1', {
      provisioning: {
        id: 'cap-1',
        profile: PROFILES['pulse-oximeter'],
        authorityPublicKey: A.publicKey,
        ticket: patientTicket('cap-1', A, { nbf: S - 60, exp: S + 3600, maxReadings: 3 }).ticket,
      },
    });
    cap.fw.start();
    await cap.advance(10_000);
    expect(cap.fw.stats.measured).toBe(3);
    expect(statuses(cap)).toContainEqual({ state: 'error', code: 'SIM_TICKET_EXHAUSTED' });
  });

  it('a reboot loses RAM only: seq continues, the ticket stays, unacknowledged readings are replayed', async () => {
    const { ticket } = patientTicket('rb-1', A, { nbf: S - 60, exp: S + 3600 });
    const r = rig('rb-1', { provisioning: { id: 'rb-1', profile: PROFILES['pulse-oximeter'], authorityPublicKey: A.publicKey, ticket } });
    r.fw.start();
    await r.advance(5000);
    r.hub.available = false;
    r.hub.disconnect('rb-1');
    await r.advance(3000);
    const before = r.fw.seq;
    const pending = r.fw.pending;
    expect(pending).toBeGreaterThan(0);
    r.fw.reboot(200);
    expect(r.fw.state.kind).toBe('off');
    r.hub.available = true;
    await r.advance(5000);
    expect(r.fw.stats.reboots).toBe(1);
    expect(r.fw.stats.replayedAtBoot).toBe(pending);
    const seqs = sealed(r).map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.filter((s) => s >= before).length).toBeGreaterThan(0);
    expect(r.fw.pending).toBe(0);
    const eks = sealed(r).map((e) => toHex(decodeEnvelope(e.envelope).enc));
    expect(new Set(eks).size).toBe(eks.length); // the ephemeral-key stream is reseeded per boot, never replayed
  });
});

/**
 * A device's refusal of a ticket, counted by the agent (issue #20; docs/PROTOCOL.md §7.3, §8.4, §9.6;
 * agent/deviceStatus.ts): a real agent, the reference simulator given a v2 ticket that certifies another
 * identity key (the operator registered the wrong one) refuses it with SIM_IDENTITY_KEY_MISMATCH in its
 * status, and the agent counts it in vitalseal_device_ticket_refusals_total{code}, warns naming device and
 * code, and shows the device's last report (and the idk it reported) in the admin device view — over
 * MQTT (embedded broker), over a serial line (socat pty pair) and through an external broker (mosquitto).
 *
 * Adversarial: a device reports only about itself (the broker's ACL closes a publish on another
 * device's status topic; a bound serial line drops a status frame naming another device); oversize,
 * non-UTF-8, deeply nested or malformed statuses are counted as malformed and change nothing; thousands
 * of invented codes all count as `other` (the label set stays fixed); the agent keeps working.
 */
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { TICKET_REFUSAL_CODES } from '../../agent/deviceStatus.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical } from '../../protocol/cbor/index.ts';
import { encodeFrame, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { statusTopic } from '../../protocol/topics.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { identityPublicKeyOf } from '../../device-sim/firmware/identityKey.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { realScheduler } from '../../device-sim/time/realScheduler.ts';
import { MqttLink } from '../../device-sim/transport/mqttLink.ts';
import { SerialLink } from '../../device-sim/transport/serialLink.ts';
import { SerialPort } from 'serialport';
import { startMosquitto, startPtyPair, tempDir, waitFor } from '../support/services.ts';
import { serialFrameTotal, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';

const hpke = createHpke('node');
const PATIENT = `0x${'cd'.repeat(20)}`;
const lines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  }),
);
let wired: Awaited<ReturnType<typeof startPtyPair>>;
let raw: Awaited<ReturnType<typeof startPtyPair>>;
let agent: RunningAgent;
let api: string;
const clients: MqttClient[] = [];
const firmwares: DeviceFirmware[] = [];

beforeAll(async () => {
  wired = await startPtyPair();
  raw = await startPtyPair();
  const config = parseAgentConfig({
    dataDir: tempDir('vitalseal-refusals-'),
    mqtt: { port: 0 },
    http: { port: 0 },
    logLevel: 'info',
    serial: [`${wired.a}=wired-1`, `${raw.a}=wired-raw`],
  });
  agent = await startAgent(config, { defaultMetrics: false, logger });
  api = `http://127.0.0.1:${agent.httpAddress.port}`;
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const f of firmwares) await f.shutdown().catch(() => undefined);
  await agent?.stop();
  await wired?.stop();
  await raw?.stop();
});

async function refusals(a: RunningAgent = agent): Promise<Record<string, number>> {
  return Object.fromEntries((await a.core.metrics.ticketRefusals.get()).values.map((v) => [String(v.labels.code), v.value]));
}
async function statusResults(a: RunningAgent = agent): Promise<Record<string, number>> {
  return Object.fromEntries((await a.core.metrics.deviceStatus.get()).values.map((v) => [String(v.labels.result), v.value]));
}
const badStatusFrames = (): Promise<number> => serialFrameTotal(agent, 'bad_status');
async function admin(path: string): Promise<Record<string, unknown>> {
  const r = await fetch(api + path, { headers: { authorization: `Bearer ${agent.adminToken}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as Record<string, unknown>;
}
const warningsFor = (device: string) => lines.filter((l) => l['level'] === 40 && l['device'] === device);

/** The reference simulator on MQTT or on the wired pty. */
function simulator(dev: string, secret: string | undefined, link: 'mqtt' | 'serial'): { fw: DeviceFirmware; storage: MemoryNvm } {
  const storage = new MemoryNvm();
  const fw = new DeviceFirmware({
    provisioning: {
      id: dev,
      profile: PROFILES['pulse-oximeter'],
      periodMs: 200,
      ...(secret !== undefined ? { secret } : {}),
      authorityPublicKey: agent.ward.authorityPublicKey,
    },
    scheduler: realScheduler(),
    storage,
    link: (d, ev) =>
      link === 'mqtt'
        ? new MqttLink({ url: `mqtt://127.0.0.1:${agent.mqttAddress!.port}`, deviceId: d.id, secret: d.secret! }, ev)
        : new SerialLink({ path: wired.b, deviceId: d.id }, ev),
    seed: `refusals/${dev}`,
    runStartMs: Date.now(),
    backend: 'node',
    ackTimeoutMs: 2000,
  });
  firmwares.push(fw);
  return { fw, storage };
}

/** The operator registered the wrong identity key and the patient opened a session: a v2 ticket certifying another key. */
async function ticketWithWrongIdk(dev: string, n: number): Promise<void> {
  agent.custody.registerIdentityKey(dev, hpke.generateKeyPair(seededRng(`refusals/wrong/${dev}`)).publicKey);
  await agent.custody.assign(dev, PATIENT, 'operator');
  const now = Math.floor(Date.now() / 1000);
  await agent.custody.openSession(PATIENT, {
    device: dev,
    pk: hpke.generateKeyPair(seededRng(`refusals/session/${dev}/${n}`)).publicKey,
    nbf: now - 60,
    exp: now + 3600,
  });
}

describe('a device refusing a ticket, counted by a real agent', () => {
  it('over MQTT: the simulator refuses a v2 ticket for another idk (SIM_IDENTITY_KEY_MISMATCH): counter 1, a warning, the admin view; the right key then works', async () => {
    const dev = 'oxi-mismatch';
    const { secret } = agent.core.provisionDevice(dev);
    const { fw, storage } = simulator(dev, secret, 'mqtt');
    fw.start();
    await waitFor(() => agent.core.deviceStatus.reported(dev)?.idk !== undefined, 10_000, 'the online status with idk');
    const realIdk = identityPublicKeyOf(storage.loadState()!)!;
    expect(agent.core.deviceStatus.reported(dev)!.idk!.idk).toBe(realIdk);
    const before = await refusals();
    expect(before['SIM_IDENTITY_KEY_MISMATCH']).toBe(0);

    await ticketWithWrongIdk(dev, 1);
    await waitFor(async () => (await refusals())['SIM_IDENTITY_KEY_MISMATCH'] === 1, 10_000, 'the refusal counted');
    expect(fw.stats.ticketRefusals).toEqual({ SIM_IDENTITY_KEY_MISMATCH: 1 });
    expect(agent.core.store.recordsOfDevice(dev)).toEqual([]);
    // the public /metrics carries the code only, never the device
    const text = await (await fetch(`${api}/metrics`)).text();
    expect(text).toContain('vitalseal_device_ticket_refusals_total{code="SIM_IDENTITY_KEY_MISMATCH"} 1');
    expect(text).not.toContain(dev);
    // a warning naming device and code, no key material
    expect(warningsFor(dev)).toHaveLength(1);
    expect(warningsFor(dev)[0]).toMatchObject({ code: 'SIM_IDENTITY_KEY_MISMATCH', via: 'mqtt' });
    expect(JSON.stringify(lines)).not.toContain(realIdk);
    // the operator's views: the last report, and the idk the device reports next to the registered one
    const devices = (await admin('/admin/devices')).devices as Array<{ id: string; reported: Record<string, unknown> | null }>;
    expect(devices.find((d) => d.id === dev)!.reported).toMatchObject({
      state: 'error',
      lastError: { code: 'SIM_IDENTITY_KEY_MISMATCH' },
      idk: { idk: realIdk },
    });
    const identity = await admin(`/admin/devices/${dev}/identity`);
    expect(identity).toMatchObject({ reported: { idk: realIdk } });
    expect((identity.keys as Array<{ idk: string }>)[0]!.idk).not.toBe(realIdk);

    // the operator registers the key the device reports; the next session's ticket is adopted, readings flow
    agent.custody.registerIdentityKey(dev, fromHex(realIdk));
    const now = Math.floor(Date.now() / 1000);
    await agent.custody.openSession(PATIENT, {
      device: dev,
      pk: hpke.generateKeyPair(seededRng(`refusals/session/${dev}/2`)).publicKey,
      nbf: now - 60,
      exp: now + 3600,
    });
    await waitFor(() => agent.core.store.recordsOfDevice(dev).length >= 3, 15_000, 'readings under the right ticket');
    await waitFor(() => agent.core.deviceStatus.reported(dev)?.state === 'ticketed', 5000, 'the ticketed status');
    expect((await refusals())['SIM_IDENTITY_KEY_MISMATCH']).toBe(1);
    await fw.shutdown();
  }, 60_000);

  it('over a serial line (socat pty): the same refusal, reported in a status frame, counted', async () => {
    const dev = 'wired-1';
    agent.core.provisionDevice(dev);
    const before = (await refusals())['SIM_IDENTITY_KEY_MISMATCH']!;
    const { fw, storage } = simulator(dev, undefined, 'serial');
    fw.start();
    await waitFor(() => agent.core.deviceStatus.reported(dev)?.idk !== undefined, 10_000, 'the status frame with idk');
    expect(agent.core.deviceStatus.reported(dev)!.idk!.idk).toBe(identityPublicKeyOf(storage.loadState()!));
    await ticketWithWrongIdk(dev, 1);
    await waitFor(async () => (await refusals())['SIM_IDENTITY_KEY_MISMATCH'] === before + 1, 10_000, 'the serial refusal counted');
    expect(fw.stats.ticketRefusals).toEqual({ SIM_IDENTITY_KEY_MISMATCH: 1 });
    expect(warningsFor(dev)[0]).toMatchObject({ code: 'SIM_IDENTITY_KEY_MISMATCH', via: 'serial' });
    expect(agent.core.deviceStatus.reported(dev)).toMatchObject({ state: 'error', lastError: { code: 'SIM_IDENTITY_KEY_MISMATCH' } });
    await fw.shutdown();
  }, 60_000);
});

describe('adversarial statuses', () => {
  function connect(dev: string, secret: string): Promise<MqttClient> {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
        clientId: dev,
        username: dev,
        password: secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  }

  it('MQTT: oversize, non-UTF-8, nested and malformed statuses are counted as malformed; 500 invented codes all count as other; a status on another device’s topic closes the connection and changes nothing there', async () => {
    const { secret } = agent.core.provisionDevice('evil-a');
    agent.core.provisionDevice('victim-b');
    const c = await connect('evil-a', secret);
    const r0 = await statusResults();
    const k0 = await refusals();
    const bad = [
      Buffer.from(JSON.stringify({ state: 'error', code: 'TICKET_EXPIRED', pad: 'x'.repeat(7000) })), // under maxPacketBytes, over the status cap
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      Buffer.from(`${'['.repeat(400)}${']'.repeat(400)}`),
      Buffer.from('{"state":"error","code":"TICKET_EXPIRED"'),
      Buffer.from(JSON.stringify({ state: 'hacked', code: 'TICKET_EXPIRED' })),
      Buffer.from(JSON.stringify({ state: 'error', code: 'x'.repeat(100) })),
    ];
    for (const p of bad) await c.publishAsync(statusTopic('evil-a'), p, { qos: 1 });
    for (let i = 0; i < 500; i++)
      await c.publishAsync(statusTopic('evil-a'), Buffer.from(JSON.stringify({ state: 'error', code: `EVIL_CODE_${i}` })), { qos: 1 });
    await waitFor(async () => (await refusals())['other'] === k0['other']! + 500, 10_000, 'the invented codes counted');
    const r1 = await statusResults();
    expect(r1['malformed']).toBe(r0['malformed']! + bad.length);
    expect(r1['error']).toBe(r0['error']! + 500);
    const k1 = await refusals();
    expect(Object.keys(k1).sort()).toEqual([...TICKET_REFUSAL_CODES, 'other'].sort()); // no new series
    for (const code of TICKET_REFUSAL_CODES) expect(k1[code]).toBe(k0[code]);
    // the warnings for the invented codes name the device; a code change is logged at once, but only bounded text
    expect(warningsFor('evil-a').every((l) => typeof l['code'] === 'string' && (l['code'] as string).length <= 64)).toBe(true);

    // another device's status topic: the ACL refuses it and closes the connection
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(statusTopic('victim-b'), Buffer.from(JSON.stringify({ state: 'error', code: 'TICKET_BAD_SIGNATURE' })), { qos: 1 });
    await closed;
    expect(agent.core.deviceStatus.reported('victim-b')).toBeUndefined();
    expect((await refusals())['TICKET_BAD_SIGNATURE']).toBe(k0['TICKET_BAD_SIGNATURE']);
    expect(agent.core.deviceStatus.reported('evil-a')!.lastError!.code).toBe('EVIL_CODE_499');

    // the agent is unharmed: healthy, and the device can reconnect and report
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    const c2 = await connect('evil-a', secret);
    await c2.publishAsync(statusTopic('evil-a'), Buffer.from('{"state":"online","seq":1}'), { qos: 1 });
    await waitFor(() => agent.core.deviceStatus.reported('evil-a')?.state === 'online', 5000, 'the honest status');
  }, 60_000);

  it('serial (bound line): a status frame naming another device is dropped; a malformed one is counted; one without dev is the bound device’s', async () => {
    agent.core.provisionDevice('wired-raw');
    agent.core.provisionDevice('other-dev');
    const port = new SerialPort({ path: raw.b, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    try {
      const status = (entries: Array<[string, string | number]>) => encodeFrame(FRAME_TYPE.status, encodeCanonical(new Map(entries)));
      const k0 = await refusals();
      const r0 = await statusResults();
      await writeDrained(
        port,
        status([
          ['dev', 'other-dev'],
          ['state', 'error'],
          ['code', 'TICKET_EXPIRED'],
        ]),
      );
      await writeDrained(
        port,
        status([
          ['dev', 'wired-raw'],
          ['state', 'bogus'],
        ]),
      );
      await writeDrained(
        port,
        status([
          ['dev', 'wired-raw'],
          ['state', 'error'],
          ['code', 'TICKET_WRONG_DEVICE'],
        ]),
      );
      await writeDrained(
        port,
        status([
          ['state', 'error'],
          ['code', 'NOT_A_TICKET_CODE'],
        ]),
      );
      await waitFor(async () => (await refusals())['other'] === k0['other']! + 1, 10_000, 'the bound line’s statuses');
      const k1 = await refusals();
      expect(k1['TICKET_WRONG_DEVICE']).toBe(k0['TICKET_WRONG_DEVICE']! + 1);
      expect(k1['TICKET_EXPIRED']).toBe(k0['TICKET_EXPIRED']); // other-dev's frame was dropped
      expect(agent.core.deviceStatus.reported('other-dev')).toBeUndefined();
      expect((await statusResults())['malformed']).toBe(r0['malformed']! + 1);
      expect(agent.core.deviceStatus.reported('wired-raw')).toMatchObject({ state: 'error', lastError: { code: 'NOT_A_TICKET_CODE' } });
    } finally {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
  }, 30_000);

  it('serial: a status frame with a float where §8.4 has an integer (seq 7.0) is refused whole (§2.2) and counted as a bad status frame; seq 8 as an integer is kept', async () => {
    agent.core.provisionDevice('wired-raw');
    const port = new SerialPort({ path: raw.b, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    try {
      const head = encodeCanonical(
        new Map([
          ['dev', 'wired-raw'],
          ['state', 'online'],
        ]),
      );
      expect(head[0]).toBe(0xa2);
      // the same map with a third entry "seq": 7.0 as a CBOR float64 (encodeCanonical would write the integer 7)
      const floatSeq = new Uint8Array([0xa3, ...head.subarray(1), 0x63, 0x73, 0x65, 0x71, 0xfb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0]);
      expect(decodeStrict(floatSeq, { floats: 'anywhere' })).toEqual(
        new Map<string, string | number>([
          ['dev', 'wired-raw'],
          ['state', 'online'],
          ['seq', 7],
        ]),
      );
      const before = await badStatusFrames();
      await writeDrained(port, encodeFrame(FRAME_TYPE.status, floatSeq));
      await writeDrained(
        port,
        encodeFrame(
          FRAME_TYPE.status,
          encodeCanonical(
            new Map<string, string | number>([
              ['dev', 'wired-raw'],
              ['state', 'online'],
              ['seq', 8],
            ]),
          ),
        ),
      );
      // frames are handled in order: once seq 8 is recorded, the float frame was judged before it
      await waitFor(async () => agent.core.deviceStatus.reported('wired-raw')?.seq === 8, 10_000, 'the integer status');
      expect(await badStatusFrames()).toBe(before + 1);
    } finally {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
  }, 30_000);
});

describe('through an external broker (mosquitto)', () => {
  it('a status on vs/v1/<dev>/status counts the refusal for a device the agent issued a ticket for; an unknown device is dropped', async () => {
    const broker = await startMosquitto();
    const ward = new WardFixture('refusals-external');
    const ext = await startAgent(
      parseAgentConfig({
        dataDir: tempDir('vitalseal-refusals-ext-'),
        mode: 'external',
        external: { url: broker.url, clientId: 'agent-refusals' },
        http: { port: 0 },
        logLevel: 'silent',
      }),
      { defaultMetrics: false, authorityPublicKey: ward.authorityPublic },
    );
    const c = await mqtt.connectAsync(broker.url, { clientId: 'ext-1', protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await ext.core.pushTicket(ward.ticketFor('ext-1'));
      await c.publishAsync(statusTopic('ext-1'), Buffer.from('{"state":"error","code":"TICKET_BAD_SIGNATURE"}'), { qos: 1 });
      await c.publishAsync(statusTopic('ext-ghost'), Buffer.from('{"state":"error","code":"TICKET_BAD_SIGNATURE"}'), { qos: 1 });
      await waitFor(async () => (await refusals(ext))['TICKET_BAD_SIGNATURE'] === 1, 10_000, 'the external refusal');
      await waitFor(async () => (await statusResults(ext))['unknown_device'] === 1, 10_000, 'the unknown device');
      expect(ext.core.deviceStatus.reported('ext-1')).toMatchObject({ state: 'error', lastError: { code: 'TICKET_BAD_SIGNATURE' } });
      expect(ext.core.deviceStatus.reported('ext-ghost')).toBeUndefined();
      expect(toHex(ext.core.store.latestTicket('ext-1')!).length).toBeGreaterThan(0);
    } finally {
      await c.endAsync();
      await ext.stop();
      await broker.stop();
    }
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { connect as netConnect } from 'node:net';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { encodeCanonical } from '../../protocol/cbor/index.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { verifyInclusion } from '../../protocol/merkle/index.ts';
import { verifyTreeHead } from '../../protocol/treeHead.ts';
import { openReading } from '../../protocol/envelope/index.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const ward = new WardFixture('embedded-test');
let agent: RunningAgent;
let url: string;
let httpBase: string;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

function connectDevice(dev: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: dev,
      username: dev,
      password: secrets.get(dev) ?? 'nope',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: { topic: `vs/v1/${dev}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: false },
      ...extra,
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => reject(e));
  });
}

function publish(c: MqttClient, topic: string, payload: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, Buffer.from(payload), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

beforeAll(async () => {
  const config = parseAgentConfig({ dataDir: tempDir(), mqtt: { port: 0, maxPacketBytes: 16_384 }, http: { port: 0 }, logLevel: 'silent' });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  url = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
  httpBase = `http://127.0.0.1:${agent.httpAddress.port}`;
  for (const dev of ['dev-a', 'dev-b', 'dev-q']) {
    secrets.set(dev, agent.core.provisionDevice(dev).secret);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

describe('embedded broker: authentication (MQTT-3.1.3 / CONNACK return codes)', () => {
  it('refuses a wrong password with CONNACK 4 and counts it', async () => {
    await expect(connectDevice('dev-a', { password: 'wrong' })).rejects.toThrow(/Bad username or password/i);
  });
  it('refuses an unknown device', async () => {
    await expect(connectDevice('ghost')).rejects.toThrow(/Bad username or password/i);
  });
  it('refuses a client id that differs from the username (CONNACK 5)', async () => {
    await expect(connectDevice('dev-a', { clientId: 'dev-b' })).rejects.toThrow(/Not authorized/i);
  });
  it("refuses a last will outside the device's status topic", async () => {
    await expect(
      connectDevice('dev-a', { will: { topic: 'vs/v1/dev-b/status', payload: Buffer.from('x'), qos: 0, retain: false } }),
    ).rejects.toThrow(/Not authorized/i);
  });
  it('counts every refusal in /metrics', async () => {
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    expect(text).toMatch(/vitalseal_mqtt_auth_failures_total\{reason="bad_credentials"\} 2/);
    expect(text).toMatch(/vitalseal_mqtt_auth_failures_total\{reason="bad_client_id"\} 1/);
    expect(text).toMatch(/vitalseal_mqtt_auth_failures_total\{reason="bad_will"\} 1/);
  });
});

describe('embedded broker: topic ACL', () => {
  it("disconnects a device that publishes under another device's id", async () => {
    const c = await connectDevice('dev-a');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('vs/v1/dev-b/r', Buffer.from(ward.seal('dev-b', 1)), { qos: 1 });
    await closed;
    expect(agent.core.store.recordsOfDevice('dev-b')).toHaveLength(0);
  });
  it('refuses a subscription to another device ticket topic (SUBACK 0x80) and grants its own', async () => {
    const c = await connectDevice('dev-a');
    const qosOf = (topic: string): Promise<number> =>
      new Promise((resolve) => c.subscribe(topic, { qos: 1 }, (err, granted) => resolve(err ? 128 : (granted?.[0]?.qos ?? -1))));
    expect(await qosOf('vs/v1/dev-b/ticket')).toBe(128);
    expect(await qosOf('vs/v1/+/r')).toBe(128);
    expect(await qosOf('vs/v1/dev-a/ticket')).toBe(1);
  });
  it('delivers the retained session ticket to its device', async () => {
    const c = await connectDevice('dev-a');
    const got = new Promise<Buffer>((resolve) => c.once('message', (_t, p) => resolve(p)));
    await c.subscribeAsync('vs/v1/dev-a/ticket', { qos: 1 });
    const { decodeTicket } = await import('../../protocol/ticket/index.ts');
    const t = decodeTicket(new Uint8Array(await got));
    expect(t.dev).toBe('dev-a');
    expect(toHex(t.kid)).toBe(toHex(ward.patient.kid));
  });
});

describe('embedded broker: durable ingest', () => {
  it('stores a reading before PUBACK, with a verifiable inclusion proof and signed tree head', async () => {
    const c = await connectDevice('dev-a');
    const env = ward.seal('dev-a', 1, { value: 95 });
    await publish(c, 'vs/v1/dev-a/r', env);
    const rows = agent.core.store.recordsOfDevice('dev-a');
    expect(rows).toHaveLength(1); // committed by the time PUBACK arrived
    const id = toHex(rows[0]!.recordId);
    const res = (await (await fetch(`${httpBase}/v1/records/${id}`)).json()) as {
      leafIndex: number;
      treeSize: number;
      inclusionProof: string[];
      root: string;
      envelope: string;
    };
    const leaf = agent.core.store.leafHashes(res.leafIndex, 1)[0]!;
    verifyInclusion(res.leafIndex, res.treeSize, leaf, res.inclusionProof.map(fromHex), fromHex(res.root));
    const sth = (await (await fetch(`${httpBase}/v1/log/sth`)).json()) as { sth: string; publicKey: string; root: string; size: number };
    const head = verifyTreeHead(new Uint8Array(Buffer.from(sth.sth, 'base64')), fromHex(sth.publicKey));
    expect(toHex(head.root)).toBe(sth.root);
    // the patient (not the agent) can open what was stored
    const opened = openReading(new Uint8Array(Buffer.from(res.envelope, 'base64')), { secretKey: ward.patient.secretKey, hpke: ward.hpke });
    expect(opened.reading.v).toEqual([95, 72]);
  });

  it('acknowledges a redelivered duplicate, stores it once and counts it', async () => {
    const c = await connectDevice('dev-b');
    const env = ward.seal('dev-b', 10);
    await publish(c, 'vs/v1/dev-b/r', env);
    await publish(c, 'vs/v1/dev-b/r', env);
    expect(agent.core.store.recordsOfDevice('dev-b')).toHaveLength(1);
    expect(agent.core.ingestor.deviceCounters('dev-b')!.duplicates).toBe(1);
  });

  it('accounts gaps and reorders per device', async () => {
    const c = await connectDevice('dev-b');
    await publish(c, 'vs/v1/dev-b/r', ward.seal('dev-b', 13)); // 11, 12 missing
    await publish(c, 'vs/v1/dev-b/r', ward.seal('dev-b', 11)); // late
    const counters = agent.core.ingestor.deviceCounters('dev-b')!;
    expect(counters.maxSeq).toBe(13);
    expect(counters.reorders).toBe(1);
    expect(counters.gaps).toBe(1);
  });

  it('commits concurrent publishers in group commits without loss', async () => {
    const devs = ['dev-a', 'dev-b'];
    const cs = await Promise.all(devs.map((d) => connectDevice(d)));
    const before = agent.core.store.recordCount();
    await Promise.all(
      cs.map((c, i) => Promise.all(Array.from({ length: 200 }, (_, k) => publish(c, `vs/v1/${devs[i]}/r`, ward.seal(devs[i]!, 1000 + k))))),
    );
    expect(agent.core.store.recordCount()).toBe(before + 400);
    expect(agent.core.health().records).toBe(before + 400); // the O(1) counter /healthz serves
    expect(agent.core.auditLog().ok).toBe(true);
  });
});

describe('embedded broker: quarantine (acknowledged, stored with a reason, counted, never fatal)', () => {
  const cases: Array<[string, () => Uint8Array]> = [
    ['ENVELOPE_TOO_LARGE', () => new Uint8Array(5000).fill(0x41)],
    ['ENVELOPE_NOT_CBOR', () => new Uint8Array([0xff, 0x00, 0x01])],
    ['ENVELOPE_BAD_TAG', () => new Uint8Array([0xd8, 0x60, 0x80])], // tag 96 (COSE_Encrypt), not 16
    ['ENVELOPE_BAD_STRUCTURE', () => encodeCanonical([1, 2])],
    ['ENVELOPE_UNKNOWN_ALG', () => mutateProtectedAlg(ward.seal('dev-q', 1))],
    ['ENVELOPE_BAD_HEADER', () => encodeCanonical([new Uint8Array([0xa0]), new Map(), new Uint8Array(16)])],
    ['AGENT_DEVICE_MISMATCH', () => ward.seal('dev-a', 77)],
    ['AGENT_UNKNOWN_KID', () => ward.seal('dev-q', 2, { kid: new Uint8Array(16).fill(7) })],
    ['AGENT_TS_OUT_OF_RANGE', () => ward.seal('dev-q', 3, { ts: Date.now() + 3_600_000 })],
  ];
  for (const [reason, make] of cases) {
    it(reason, async () => {
      const c = await connectDevice('dev-q');
      const before = agent.core.store.quarantineCounts()[reason] ?? 0;
      await publish(c, 'vs/v1/dev-q/r', make());
      expect(agent.core.store.quarantineCounts()[reason]).toBe(before + 1);
      expect(c.connected).toBe(true);
    });
  }
  it('AGENT_SEQ_REPLAY: a different envelope reusing a stored seq', async () => {
    const c = await connectDevice('dev-q');
    await publish(c, 'vs/v1/dev-q/r', ward.seal('dev-q', 50));
    await publish(c, 'vs/v1/dev-q/r', ward.seal('dev-q', 50, { value: 1 }));
    expect(agent.core.store.quarantineCounts().AGENT_SEQ_REPLAY).toBe(1);
    expect(agent.core.store.recordsOfDevice('dev-q').filter((r) => r.seq === 50)).toHaveLength(1);
  });
  it('reports quarantine by reason in /metrics and the admin API', async () => {
    const text = await (await fetch(`${httpBase}/metrics`)).text();
    expect(text).toMatch(/vitalseal_quarantine_total\{reason="AGENT_UNKNOWN_KID"\} 1/);
    const res = await fetch(`${httpBase}/admin/quarantine`, { headers: { authorization: `Bearer ${agent.adminToken}` } });
    const body = (await res.json()) as { counts: Record<string, number> };
    expect(body.counts.ENVELOPE_NOT_CBOR).toBe(1);
    expect((await fetch(`${httpBase}/admin/quarantine`)).status).toBe(401);
  });
  it('closes a connection whose packet exceeds maxPacketBytes before buffering it', async () => {
    const c = await connectDevice('dev-q');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('vs/v1/dev-q/r', Buffer.alloc(20_000, 1), { qos: 1 });
    await closed;
    const health = (await (await fetch(`${httpBase}/healthz`)).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
  });
  it('survives raw garbage on the MQTT port', async () => {
    await new Promise<void>((resolve) => {
      const s = netConnect(agent.mqttAddress!.port, '127.0.0.1', () => s.end(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3])));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    const c = await connectDevice('dev-q');
    await publish(c, 'vs/v1/dev-q/r', ward.seal('dev-q', 60));
    expect(agent.core.store.recordsOfDevice('dev-q').some((r) => r.seq === 60)).toBe(true);
  });
});

describe('device status', () => {
  it('marks a device offline when its last will fires', async () => {
    const c = await connectDevice('dev-b');
    const { waitFor } = await import('../support/services.ts');
    await waitFor(() => agent.core.store.getDevice('dev-b')!.online === true, 5000, 'online');
    c.stream.destroy(); // ungraceful: the will is published
    await waitFor(() => agent.core.store.getDevice('dev-b')!.online === false, 5000, 'offline');
  });
});

/** Replaces the protected header's alg 42 by 43 (same length), keeping the CBOR valid. */
function mutateProtectedAlg(env: Uint8Array): Uint8Array {
  const out = env.slice();
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i] === 0x01 && out[i + 1] === 0x18 && out[i + 2] === 42) {
      out[i + 2] = 43;
      return out;
    }
  }
  throw new Error('alg not found');
}

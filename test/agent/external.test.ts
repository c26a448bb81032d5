/**
 * External broker mode against a real mosquitto (private instance, on-disk persistence):
 * devices publish anonymously to mosquitto on vs/v1/<dev>/r (QoS 1); the agent is a
 * persistent-session (clean=false) QoS 1 subscriber that PUBACKs only after its commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { toHex } from '../../protocol/bytes.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import type { IngestItem } from '../../agent/ingest/types.ts';
import { startMosquitto, tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const ward = new WardFixture('external-test');
const DEVICES = ['dev-a', 'dev-b', 'dev-q'];
let broker: Awaited<ReturnType<typeof startMosquitto>>;
let dataDir: string;
let agent: RunningAgent | undefined;
const clients: MqttClient[] = [];

async function start(): Promise<RunningAgent> {
  const config = parseAgentConfig({
    dataDir,
    mode: 'external',
    external: { url: broker.url, clientId: 'agent-x' },
    http: { port: 0 },
    logLevel: 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  return agent;
}

async function stop(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.stop();
}

async function device(dev: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, { clientId: dev, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
  clients.push(c);
  return c;
}

async function publish(c: MqttClient, dev: string, payload: Uint8Array): Promise<void> {
  await c.publishAsync(`vs/v1/${dev}/r`, Buffer.from(payload), { qos: 1 });
}

function seqsOf(a: RunningAgent, dev: string): number[] {
  return a.core.store.recordsOfDevice(dev, 0, 100_000).map((r) => r.seq);
}

async function outcomes(a: RunningAgent): Promise<Record<string, number>> {
  const m = await a.core.metrics.ingested.get();
  const out: Record<string, number> = {};
  for (const v of m.values) if (v.labels.source === 'external') out[String(v.labels.outcome)] = v.value;
  return out;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

beforeAll(async () => {
  broker = await startMosquitto();
  dataDir = tempDir();
  const a = await start();
  for (const dev of DEVICES) await a.core.pushTicket(ward.ticketFor(dev));
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await stop().catch(() => undefined);
  await broker?.stop();
});

describe('external broker (mosquitto): ingest', () => {
  it('publishes the session ticket retained on the broker', async () => {
    const c = await device('dev-a-ticket-reader');
    const got = new Promise<Buffer>((resolve) => c.once('message', (_t, p) => resolve(p)));
    await c.subscribeAsync('vs/v1/dev-a/ticket', { qos: 1 });
    const t = decodeTicket(new Uint8Array(await got));
    expect(t.dev).toBe('dev-a');
    expect(toHex(t.kid)).toBe(toHex(ward.patient.kid));
  });

  it('stores readings published to mosquitto exactly once', async () => {
    const a = agent!;
    const c = await device('dev-a');
    await Promise.all(range(1, 51).map((seq) => publish(c, 'dev-a', ward.seal('dev-a', seq))));
    await waitFor(() => seqsOf(a, 'dev-a').length >= 50, 15_000, '50 readings stored');
    await new Promise((r) => setTimeout(r, 200)); // nothing more arrives
    expect(seqsOf(a, 'dev-a')).toEqual(range(1, 51));
    expect(a.core.store.recordsOfDevice('dev-a')[0]!.source).toBe('external');
    expect(a.core.auditLog().ok).toBe(true);
  });

  it('acknowledges a duplicate, stores it once and counts it', async () => {
    const a = agent!;
    const c = await device('dev-b');
    const env = ward.seal('dev-b', 1);
    await publish(c, 'dev-b', env);
    await publish(c, 'dev-b', env);
    await waitFor(() => (a.core.ingestor.deviceCounters('dev-b')?.duplicates ?? 0) === 1, 10_000, 'duplicate counted');
    // the device counter moves when the reading is judged, the outcome metric when its group commit is answered
    await waitFor(async () => (await outcomes(a)).duplicate === 1, 10_000, 'duplicate answered');
    expect(seqsOf(a, 'dev-b')).toEqual([1]);
    expect((await outcomes(a)).duplicate).toBe(1);
  });

  it('quarantines bad input with a stable reason and keeps going', async () => {
    const a = agent!;
    const c = await device('dev-q');
    await publish(c, 'dev-q', new Uint8Array([0xff, 0x00, 0x01])); // not CBOR
    await publish(c, 'dev-q', ward.seal('dev-a', 900)); // another device's reading on dev-q's topic
    await publish(c, 'dev-q', ward.seal('dev-q', 2, { kid: new Uint8Array(16).fill(7) })); // unknown kid
    await publish(c, 'dev-q', ward.seal('dev-q', 3));
    await waitFor(() => seqsOf(a, 'dev-q').includes(3), 10_000, 'valid reading after bad ones');
    expect(a.core.store.quarantineCounts()).toEqual({ ENVELOPE_NOT_CBOR: 1, AGENT_DEVICE_MISMATCH: 1, AGENT_UNKNOWN_KID: 1 });
    expect(seqsOf(a, 'dev-a')).not.toContain(900);
    expect((await outcomes(a)).quarantined).toBe(3);
  });
});

describe('external broker (mosquitto): persistent session across agent restarts', () => {
  it('receives exactly once what was published while the agent was down', async () => {
    await stop();
    const c = await device('dev-a');
    await Promise.all(range(51, 251).map((seq) => publish(c, 'dev-a', ward.seal('dev-a', seq))));
    const a = await start(); // same dataDir and clientId: mosquitto delivers the queued readings
    await waitFor(() => seqsOf(a, 'dev-a').length >= 250, 20_000, 'queued readings');
    await new Promise((r) => setTimeout(r, 300));
    expect(seqsOf(a, 'dev-a')).toEqual(range(1, 251));
    expect(a.core.ingestor.deviceCounters('dev-a')).toMatchObject({ maxSeq: 250, received: 250, gaps: 0, duplicates: 0 });
    expect(a.core.auditLog()).toMatchObject({ ok: true, size: a.core.store.recordCount() });
  });

  it('keeps the queued readings through a mosquitto restart while the agent is down', async () => {
    await stop();
    const c = await device('dev-b');
    await Promise.all(range(2, 102).map((seq) => publish(c, 'dev-b', ward.seal('dev-b', seq))));
    await broker.restart(); // mosquitto saves its persistence file on a clean stop
    const a = await start();
    await waitFor(() => seqsOf(a, 'dev-b').length >= 101, 20_000, 'readings queued across the broker restart');
    await new Promise((r) => setTimeout(r, 300));
    expect(seqsOf(a, 'dev-b')).toEqual(range(1, 102));
    expect(a.core.ingestor.deviceCounters('dev-b')).toMatchObject({ received: 101, duplicates: 1 });
    expect(a.core.auditLog().ok).toBe(true);
  });

  it('sends no PUBACK to the broker before the commit: an uncommitted reading is redelivered', async () => {
    let a = agent!;
    await a.core.pushTicket(ward.ticketFor('dev-h'));
    const ingestor = a.core.ingestor;
    const held: IngestItem[] = [];
    ingestor.submit = (item) => void held.push(item); // this agent never commits
    const c = await device('dev-h');
    await publish(c, 'dev-h', ward.seal('dev-h', 1));
    await waitFor(() => held.length === 1, 10_000, 'reading handed to the ingestor');
    await stop(); // the reading was neither committed nor acknowledged to mosquitto
    a = await start();
    await waitFor(() => seqsOf(a, 'dev-h').includes(1), 10_000, 'redelivered reading');
    expect(a.core.ingestor.deviceCounters('dev-h')).toMatchObject({ received: 1, duplicates: 0 });
  });

  it('stores every reading exactly once when the agent stops mid-stream', { timeout: 90_000 }, async () => {
    let a = agent!;
    const c = await device('dev-m');
    await a.core.pushTicket(ward.ticketFor('dev-m'));
    const envs = range(1, 601).map((seq) => ward.seal('dev-m', seq));
    await Promise.all(envs.map((e) => publish(c, 'dev-m', e))); // mosquitto has them all
    await waitFor(() => seqsOf(a, 'dev-m').length >= 20, 20_000, 'ingest under way');
    await stop();
    a = await start();
    const storedAtStop = seqsOf(a, 'dev-m').length;
    await waitFor(() => seqsOf(a, 'dev-m').length >= 600, 60_000, 'the rest after the restart');
    await new Promise((r) => setTimeout(r, 300));
    expect(storedAtStop).toBeLessThan(600); // it really stopped mid-stream
    expect(seqsOf(a, 'dev-m')).toEqual(range(1, 601));
    const counters = a.core.ingestor.deviceCounters('dev-m')!;
    expect(counters.received).toBe(600);
    // readings committed while the stop cut the link were redelivered: acknowledged and counted, not stored again
    expect(counters.duplicates).toBe((await outcomes(a)).duplicate ?? 0);
    expect(a.core.auditLog().ok).toBe(true);
  });

  it('a duplicate and a quarantined reading still work after the restart', async () => {
    const a = agent!;
    const c = await device('dev-q');
    const env = ward.seal('dev-q', 10);
    await publish(c, 'dev-q', env);
    await publish(c, 'dev-q', env);
    await publish(c, 'dev-q', ward.seal('dev-q', 10, { value: 1 })); // another envelope reusing seq 10
    await publish(c, 'dev-q', ward.seal('dev-q', 11));
    await waitFor(() => seqsOf(a, 'dev-q').includes(11), 10_000, 'dev-q seq 11');
    expect(seqsOf(a, 'dev-q')).toEqual([3, 10, 11]);
    expect(a.core.store.quarantineCounts().AGENT_SEQ_REPLAY).toBe(1);
    // at least the second publish of env; mosquitto → agent is at-least-once (QoS 1), and a redelivery after
    // the agent's reconnect on this loaded machine is one more duplicate (seen: 2 in 1 of 3 runs): stored once either way
    expect(a.core.ingestor.deviceCounters('dev-q')!.duplicates).toBeGreaterThanOrEqual(1);
  });
});

/**
 * The MQTT-only broken firmware variants (device-sim/firmware/bugs.ts) against a real MQTT broker
 * (aedes on a loopback port): what the broker sees of the correct simulator and of each variant
 * (the CONNECT's clean flag and last will, the QoS of reading publishes).
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readingTopic, statusTopic } from '../../protocol/topics.ts';
import type { FirmwareBugName } from '../../device-sim/firmware/bugs.ts';
import { runFleet } from '../../device-sim/fleet/fleetRunner.ts';
import { authority, nowS, patientTicket } from './helpers.ts';

interface Seen {
  clean?: boolean | undefined;
  willTopic?: string | undefined;
  willPayload?: string | undefined;
  willQos?: number | undefined;
  readingQos: number[];
}

describe('MQTT broken firmware variants, as a broker sees them', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  const seen = new Map<string, Seen>();
  const of = (id: string): Seen => {
    let s = seen.get(id);
    if (!s) seen.set(id, (s = { readingQos: [] }));
    return s;
  };

  beforeAll(async () => {
    aedes = await Aedes.createBroker({
      preConnect: (_client, packet, cb) => {
        const s = of(packet.clientId);
        s.clean = packet.clean;
        if (packet.will) {
          s.willTopic = packet.will.topic;
          s.willPayload = Buffer.from(packet.will.payload).toString();
          s.willQos = packet.will.qos;
        }
        cb(null, true);
      },
    });
    aedes.on('publish', (packet, client) => {
      if (client && packet.topic === readingTopic(client.id)) of(client.id).readingQos.push(packet.qos);
    });
    server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
  });

  async function run(id: string, bug: FirmwareBugName | undefined): Promise<Seen> {
    const A = authority(13);
    const { ticket } = patientTicket(id, A, { nbf: nowS() - 60, exp: nowS() + 3600 });
    const { report } = await runFleet({
      devices: [{ id, profile: 'pulse-oximeter', secret: 'pw', authorityPublicKey: A.publicKey, ticket, periodMs: 100 }],
      link: { kind: 'mqtt', url },
      durationMs: 800,
      time: 'real',
      seed: 'bugs-mqtt',
      backend: 'node',
      drainTimeoutMs: 3000,
      ...(bug ? { firmwareBug: bug } : {}),
    });
    expect(report.devices[0]!.acknowledged).toBeGreaterThan(2);
    return of(id);
  }

  it('the correct simulator: clean session, last will {"state":"offline"} QoS 1 on its status topic, readings QoS 1', async () => {
    const s = await run('mq-ok', undefined);
    expect(s.clean).toBe(true);
    expect(s.willTopic).toBe(statusTopic('mq-ok'));
    expect(JSON.parse(s.willPayload!)).toEqual({ state: 'offline' });
    expect(s.willQos).toBe(1);
    expect(s.readingQos.length).toBeGreaterThan(2);
    expect(new Set(s.readingQos)).toEqual(new Set([1]));
  });

  it('publish-qos0: readings published with QoS 0', async () => {
    const s = await run('mq-qos0', 'publish-qos0');
    expect(s.readingQos.length).toBeGreaterThan(2);
    expect(new Set(s.readingQos)).toEqual(new Set([0]));
  });

  it('no-last-will: no will in the CONNECT', async () => {
    const s = await run('mq-nowill', 'no-last-will');
    expect(s.clean).toBe(true);
    expect(s.willTopic).toBeUndefined();
  });

  it('persistent-session: clean session = false', async () => {
    const s = await run('mq-persist', 'persistent-session');
    expect(s.clean).toBe(false);
    expect(s.willTopic).toBe(statusTopic('mq-persist'));
  });
});

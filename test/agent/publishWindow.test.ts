import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

// agent/broker/publishWindow.ts: while a device's readings wait for their commit, aedes reads the
// connection on — up to mqtt.maxInflightPerDevice of them — and PUBACKs keep the PUBLISH order.
// Commits are held deterministically by a second connection owning SQLite's write lock.

const ward = new WardFixture('window-test');
const WINDOW = 8;
let agent: RunningAgent;
let dataDir: string;
let client: MqttClient;

beforeAll(async () => {
  dataDir = tempDir();
  const config = parseAgentConfig({ dataDir, mqtt: { port: 0, maxInflightPerDevice: WINDOW }, http: { port: 0 }, logLevel: 'silent' });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  const secret = agent.core.provisionDevice('dev-w').secret;
  await agent.core.pushTicket(ward.ticketFor('dev-w'));
  client = await new Promise<MqttClient>((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
      clientId: 'dev-w',
      username: 'dev-w',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
});

afterAll(async () => {
  client?.end(true);
  await agent?.stop();
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('publish window (embedded broker)', () => {
  it('reads a connection on while its readings wait for their commit, stops at the window, and PUBACKs in PUBLISH order', async () => {
    const lock = new Database(join(dataDir, 'agent.sqlite'));
    lock.pragma('busy_timeout = 5000');
    const acked: number[] = [];
    const all: Array<Promise<void>> = [];
    const publish = (seq: number): void => {
      all.push(
        new Promise<void>((resolve, reject) =>
          client.publish('vs/v1/dev-w/r', Buffer.from(ward.seal('dev-w', seq)), { qos: 1 }, (err) => {
            if (err) return reject(err);
            acked.push(seq);
            resolve();
          }),
        ),
      );
    };
    const ingestor = agent.core.ingestor;
    lock.exec('BEGIN IMMEDIATE'); // every group commit now waits for this lock
    try {
      // three in one socket read: aedes alone would read no further until two of them are answered
      const stream = (client as unknown as { stream: { cork(): void; uncork(): void } }).stream;
      stream.cork();
      for (let seq = 1; seq <= 3; seq++) publish(seq);
      process.nextTick(() => stream.uncork());
      await until(() => ingestor.pending === 3);
      // then one at a time: each is read and submitted while all earlier ones still wait
      for (let seq = 4; seq <= WINDOW; seq++) {
        publish(seq);
        await until(() => ingestor.pending === seq);
      }
      // WINDOW readings wait: the client is paused, the next publish stays in the socket
      publish(WINDOW + 1);
      await new Promise((r) => setTimeout(r, 300));
      expect(ingestor.pending).toBe(WINDOW);
      expect(acked).toEqual([]);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    await Promise.all(all);
    expect(acked).toEqual(Array.from({ length: WINDOW + 1 }, (_, i) => i + 1));
    expect(agent.core.store.recordsOfDevice('dev-w').map((r) => r.seq)).toEqual(acked);
    expect(ingestor.pending).toBe(0);
  });
});

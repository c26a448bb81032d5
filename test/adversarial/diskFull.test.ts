/**
 * Issue #15 defect 7: a full disk (or a failing fdatasync) must be visible, and recovery automatic.
 * The disk is played by fault injection on the writer thread's own connection — a real SQLITE_FULL
 * from `PRAGMA max_page_count`, and an fdatasync of the WAL that fails with ENOSPC — and everything
 * else is observed from outside: a device publishing over MQTT (no PUBACK while commits fail, its
 * resend acknowledged and stored after), GET /healthz (503 with the reason code, then 200), /metrics,
 * and the agent's JSON log (an error-level line with the cause, no payload bytes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Writable } from 'node:stream';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import type { StoreFault } from '../../agent/store/storeFault.ts';
import { tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const ward = new WardFixture('disk-full-adversarial');
const DEV = 'dev-disk';
let agent: RunningAgent;
let url: string;
let httpBase: string;
let secret: string;
const logLines: Array<Record<string, unknown>> = [];
const rawLog: string[] = [];
const clients: MqttClient[] = [];

function connectDevice(): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: DEV,
      username: DEV,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => reject(e));
  });
}

/** Publishes at QoS 1: 'acked' on PUBACK, 'refused' if the agent closes the connection instead, 'timeout' after 5 s. */
function publish(c: MqttClient, payload: Uint8Array): Promise<'acked' | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), 5000);
    const finish = (r: 'acked' | 'refused' | 'timeout'): void => {
      clearTimeout(t);
      resolve(r);
    };
    c.once('close', () => finish('refused'));
    c.publish(`vs/v1/${DEV}/r`, Buffer.from(payload), { qos: 1 }, (err) => finish(err ? 'refused' : 'acked'));
  });
}

async function health(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${httpBase}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  const esc = `${name}${labels}`.replace(/[{}"=.]/g, (ch) => `\\${ch}`);
  const m = new RegExp(`^${esc} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

const stored = (): number[] => agent.core.store.recordsOfDevice(DEV, 0, 100_000).map((r) => r.seq);

let nextSeq = 1;

/**
 * The attack-free scenario of a disk filling up: the device publishes until the agent stops
 * acknowledging (every acknowledged reading must be stored), the operator sees why, space returns,
 * the device resends what was not acknowledged and it is stored.
 */
async function fillAndRecover(fault: StoreFault, code: string): Promise<void> {
  const acked: number[] = [];
  let c = await connectDevice();
  expect(await publish(c, ward.seal(DEV, nextSeq))).toBe('acked');
  acked.push(nextSeq++);
  expect((await health()).status).toBe(200);

  agent.core.injectStoreFault(fault);
  // publish until the agent stops acknowledging (a full database still takes what fits in its pages)
  let refused: { seq: number; envelope: Uint8Array } | undefined;
  for (let i = 0; i < 400 && refused === undefined; i++) {
    const seq = nextSeq++;
    const envelope = ward.seal(DEV, seq);
    const r = await publish(c, envelope);
    if (r === 'acked') acked.push(seq);
    else refused = { seq, envelope };
  }
  expect(refused, 'the agent kept acknowledging on a full disk').toBeDefined();
  const failedSeq = refused!.seq;

  // while commits fail: /healthz 503 with the reason, the metrics show it, an error-level log line says why
  const h = await health();
  expect(h.status).toBe(503);
  expect(h.body).toMatchObject({ ok: false, error: code });
  expect(await metric('vitalseal_store_healthy')).toBe(0);
  expect(await metric('vitalseal_store_commit_failures_total', `{code="${code}"}`)).toBeGreaterThanOrEqual(1);
  const errorLine = logLines.find((l) => l.level === 50 && l.code === code);
  expect(errorLine, `an error-level log line with code ${code}`).toBeDefined();
  expect(String(errorLine!.cause)).toMatch(code === 'STORE_FULL' ? /SQLITE_FULL|full/ : /ENOSPC/);
  const payloadHex = Buffer.from(refused!.envelope.subarray(0, 24)).toString('hex');
  const payloadB64 = Buffer.from(refused!.envelope.subarray(0, 24)).toString('base64').slice(0, 24);
  expect(rawLog.join('\n')).not.toContain(payloadHex);
  expect(rawLog.join('\n')).not.toContain(payloadB64);

  // the device's resend while the disk is still full is not acknowledged either
  if (!c.connected) c = await connectDevice();
  expect(await publish(c, refused!.envelope)).not.toBe('acked');
  expect((await health()).status).toBe(503);

  // space returns: the device's resend is acknowledged and stored, /healthz is 200 again
  agent.core.injectStoreFault({ kind: 'none' });
  if (!c.connected) c = await connectDevice();
  expect(await publish(c, refused!.envelope)).toBe('acked');
  acked.push(failedSeq);
  expect(stored()).toEqual(expect.arrayContaining(acked)); // nothing acknowledged is lost
  expect(stored()).toContain(failedSeq);
  await waitFor(async () => (await health()).status === 200, 5000, '/healthz 200 after recovery');
  expect(await metric('vitalseal_store_healthy')).toBe(1);
  expect(await publish(c, ward.seal(DEV, nextSeq))).toBe('acked');
  expect(stored()).toContain(nextSeq++);
  expect(logLines.some((l) => l.level === 30 && /succeed/.test(String(l.msg)))).toBe(true);
  c.end(true);
}

describe.each(['thread', 'inline'] as const)('a full disk is visible and recovers by itself (defect 7), %s writer', (writer) => {
  beforeAll(async () => {
    logLines.length = 0;
    rawLog.length = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          rawLog.push(line);
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        }
        cb();
      },
    });
    const config = parseAgentConfig({ dataDir: tempDir(), mqtt: { port: 0 }, http: { port: 0 }, ingest: { writer }, logLevel: 'info' });
    agent = await startAgent(config, {
      defaultMetrics: false,
      authorityPublicKey: ward.authorityPublic,
      logger: pino({ level: 'info' }, sink),
    });
    url = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
    httpBase = `http://127.0.0.1:${agent.httpAddress.port}`;
    secret = agent.core.provisionDevice(DEV).secret;
    await agent.core.pushTicket(ward.ticketFor(DEV));
  });

  afterAll(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await agent?.stop();
  });

  it('SQLITE_FULL: no PUBACK, /healthz 503 STORE_FULL, metric and error log; after space returns the resend is stored and /healthz is 200', async () => {
    await fillAndRecover({ kind: 'disk-full' }, 'STORE_FULL');
  });

  it('failed fdatasync (ENOSPC): no PUBACK, /healthz 503 STORE_SYNC_FAILED, metric and error log; after the fault clears the resend is stored and /healthz is 200', async () => {
    logLines.length = 0;
    await fillAndRecover({ kind: 'sync-fails', code: 'ENOSPC' }, 'STORE_SYNC_FAILED');
  });

  it('keeps the log consistent through both failures', () => {
    expect(agent.core.auditLog()).toMatchObject({ ok: true });
    expect(agent.core.health().records).toBe(agent.core.store.recordCount());
  });
});

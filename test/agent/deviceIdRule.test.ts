/**
 * The device-id rule (protocol/deviceId.ts) gives the same verdict at every entry point: one table
 * of valid and invalid ids goes through the envelope header (seal and decode), session tickets,
 * MQTT topics and the embedded broker (provisioning, CONNECT, publish), the admin API, the signed
 * API's JSON schemas, the simulator's fleet file and a serial line (a real pty pair: reading and
 * status frames, and the `path=<device>` binding).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { SerialPort } from 'serialport';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { parseSerialSpec } from '../../agent/serial/serialIngress.ts';
import { parseFleetFile } from '../../device-sim/fleet/fleetFile.ts';
import { decodeStrict, encodeCanonical, isCborMap } from '../../protocol/cbor/index.ts';
import { DEVICE_ID_MAX_LENGTH, DEVICE_ID_PATTERN, isDeviceId } from '../../protocol/deviceId.ts';
import { assembleEnvelope } from '../../protocol/envelope/assemble.ts';
import { decodeEnvelope, tryDecodeCanonicalEnvelope } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, decodeAck, encodeAck, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { parseTopic, readingTopic, statusTopic, ticketTopic } from '../../protocol/topics.ts';
import { startPtyPair, tempDir, waitFor } from '../support/services.ts';
import { serialFrameTotal, takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';

/** [id, valid]: the same table for every entry point. */
const TABLE: ReadonlyArray<readonly [string, boolean]> = [
  ['oxi-01', true],
  ['a', true],
  ['A.b_c-1', true],
  ['0', true],
  ['x'.repeat(64), true],
  ['9-._', true],
  ['x'.repeat(65), false],
  ['', false],
  ['a:b', false],
  ['-x', false],
  ['.x', false],
  ['_x', false],
  ['a/b', false],
  ['a+b', false],
  ['a#b', false],
  ['é', false],
  ['oxi-é', false],
  ['ox i', false],
  ['a\u0000b', false],
  ['a\nb', false],
];
const label = (id: string): string => JSON.stringify(id);

const ward = new WardFixture('device-id-rule');
let agent: RunningAgent;
let pty: Awaited<ReturnType<typeof startPtyPair>>;
let port: SerialPort;
let httpBase: string;
let mqttUrl: string;
const inbox: Frame[] = [];
const decoder = new FrameDecoder();
const clients: MqttClient[] = [];

/** An envelope whose protected header names `dev`, built by hand (sealReading refuses an invalid id). */
function envelopeNaming(dev: string, seq: number): Uint8Array {
  const valid = decodeEnvelope(ward.seal('template', seq));
  const protectedBytes = encodeCanonical(
    new Map<string | number, string | number>([
      [1, 42],
      ['dev', dev],
      ['seq', seq],
      ['ts', valid.header.ts],
      ['st', 'spo2'],
    ]),
  );
  return assembleEnvelope(protectedBytes, valid.kid, valid.enc, valid.ciphertext);
}

function cborMap(body: Uint8Array): Map<unknown, unknown> {
  const m = decodeStrict(body, { maxBytes: 512 });
  if (!isCborMap(m)) throw new Error('not a CBOR map');
  return m;
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(httpBase + path, {
    method,
    headers: { authorization: `Bearer ${agent.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code };
}

async function signedApi(path: string, message: Record<string, unknown>): Promise<string | undefined> {
  const common = { requester: `0x${'11'.repeat(20)}`, nonce: `0x${'22'.repeat(32)}`, expiry: Math.floor(Date.now() / 1000) + 60 };
  const res = await fetch(httpBase + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: { ...common, ...message }, signature: `0x${'33'.repeat(65)}` }),
  });
  return ((await res.json()) as { error?: { code: string } }).error?.code;
}

/** Connects as `dev`; resolves with the client, rejects on any refusal or a closed connection. */
function connect(dev: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(mqttUrl, {
      clientId: dev,
      username: dev,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: { topic: statusTopic(dev), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: false },
    });
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => reject(e));
    c.once('close', () => reject(new Error('connection closed')));
  });
}

const write = (bytes: Uint8Array): Promise<void> => writeDrained(port, bytes);
const nextFrame = (timeoutMs?: number): Promise<Frame> => takeFrame(inbox, undefined, timeoutMs);

const badStatusCount = (): Promise<number> => serialFrameTotal(agent, 'bad_status');

beforeAll(async () => {
  pty = await startPtyPair();
  const config = parseAgentConfig({
    dataDir: tempDir(),
    mode: 'embedded',
    mqtt: { port: 0 },
    serial: [pty.a],
    http: { port: 0 },
    logLevel: 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  httpBase = `http://127.0.0.1:${agent.httpAddress.port}`;
  mqttUrl = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
  port = new SerialPort({ path: pty.b, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('data', (chunk: Buffer) => {
    for (const r of decoder.push(chunk)) if (r.ok) inbox.push(r.frame);
  });
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  await agent?.stop();
  await pty?.stop();
});

describe('the device-id rule: one table, the same verdict at every entry point', () => {
  it('the table agrees with the rule itself (and the rule is ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$)', () => {
    expect(DEVICE_ID_PATTERN).toBe('^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
    expect(DEVICE_ID_MAX_LENGTH).toBe(64);
    for (const [id, valid] of TABLE) expect(isDeviceId(id), label(id)).toBe(valid);
    expect(isDeviceId(42)).toBe(false);
    expect(isDeviceId(undefined)).toBe(false);
  });

  it('envelope header: sealReading seals exactly the valid ids; decodeEnvelope and the fast path refuse the others (ENVELOPE_BAD_HEADER)', () => {
    for (const [id, valid] of TABLE) {
      if (valid) {
        const env = ward.seal(id, 1);
        expect(decodeEnvelope(env).header.dev, label(id)).toBe(id);
        expect(tryDecodeCanonicalEnvelope(env)?.header.dev, label(id)).toBe(id);
        expect(decodeEnvelope(envelopeNaming(id, 1)).header.dev, label(id)).toBe(id);
      } else {
        expect(
          codeOf(() => ward.seal(id, 1)),
          label(id),
        ).toBe('ENVELOPE_BAD_HEADER');
        expect(
          codeOf(() => decodeEnvelope(envelopeNaming(id, 1))),
          label(id),
        ).toBe('ENVELOPE_BAD_HEADER');
        expect(tryDecodeCanonicalEnvelope(envelopeNaming(id, 1)), label(id)).toBeNull();
      }
    }
  });

  it('session ticket: issued and decoded for exactly the valid ids (TICKET_MALFORMED otherwise)', () => {
    for (const [id, valid] of TABLE) {
      const code = codeOf(() => decodeTicket(ward.ticketFor(id)));
      expect(code, label(id)).toBe(valid ? undefined : 'TICKET_MALFORMED');
    }
  });

  it('MQTT topics: parseTopic accepts the reading, ticket and status topics of exactly the valid ids', () => {
    for (const [id, valid] of TABLE) {
      expect(parseTopic(readingTopic(id)), label(id)).toEqual(valid ? { device: id, kind: 'r' } : null);
      expect(parseTopic(ticketTopic(id)), label(id)).toEqual(valid ? { device: id, kind: 'ticket' } : null);
      expect(parseTopic(statusTopic(id)), label(id)).toEqual(valid ? { device: id, kind: 'status' } : null);
    }
  });

  it('admin API and embedded broker: a valid id is provisioned (POST /admin/devices), connects, publishes a reading that is stored, is assigned and released (POST, DELETE /admin/assignments); an invalid one is refused at each step', async () => {
    let seq = 0;
    for (const [id, valid] of TABLE) {
      seq++;
      const provisioned = await fetch(`${httpBase}/admin/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agent.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      const body = (await provisioned.json()) as { id?: string; secret?: string; error?: { code: string } };
      const assigned = await admin('POST', '/admin/assignments', { device: id, patient: 'patient-ref-1' });
      if (valid) {
        expect(provisioned.status, label(id)).toBe(200);
        expect(body.id).toBe(id);
        expect(assigned.status, label(id)).toBe(200);
        expect(await admin('DELETE', `/admin/assignments/${encodeURIComponent(id)}`), label(id)).toEqual({ status: 200, code: undefined });
        await agent.core.pushTicket(ward.ticketFor(id));
        const c = await connect(id, body.secret!);
        await new Promise<void>((resolve, reject) =>
          c.publish(readingTopic(id), Buffer.from(ward.seal(id, seq)), { qos: 1 }, (err) => (err ? reject(err) : resolve())),
        );
        await waitFor(() => agent.core.store.recordsOfDevice(id).some((r) => r.seq === seq), 5000, `reading of ${label(id)} stored`);
        c.end(true);
      } else {
        expect([provisioned.status, body.error?.code], label(id)).toEqual([400, 'AGENT_BAD_REQUEST']);
        expect([assigned.status, assigned.code], label(id)).toEqual([400, 'AGENT_BAD_REQUEST']);
        if (id !== '')
          expect(await admin('DELETE', `/admin/assignments/${encodeURIComponent(id)}`), label(id)).toEqual({
            status: 400,
            code: 'AGENT_BAD_REQUEST',
          });
        if (id !== '')
          expect(await admin('DELETE', `/admin/devices/${encodeURIComponent(id)}`), label(id)).toEqual({
            status: 400,
            code: 'AGENT_BAD_REQUEST',
          });
        expect(
          codeOf(() => agent.core.provisionDevice(id)),
          label(id),
        ).toBe('AGENT_BAD_REQUEST'); // the core behind the route, too
        // the id cannot be provisioned; a device claiming it anyway is refused at CONNECT
        await expect(connect(id, 'any-secret'), label(id)).rejects.toThrow();
      }
    }
    expect(agent.core.auditLog()).toMatchObject({ ok: true });
  });

  it('signed API schemas: /v1/sessions, /v1/pairings, /v1/sessions/end and /v1/query/records refuse exactly the invalid ids before any signature or chain check', async () => {
    for (const [id, valid] of TABLE) {
      const codes = [
        await signedApi('/v1/sessions', { device: id, pk: `0x${'44'.repeat(32)}`, nbf: 1, exp: 2 }),
        await signedApi('/v1/pairings', { device: id }),
        await signedApi('/v1/sessions/end', { device: id, kid: `0x${'55'.repeat(16)}` }),
        // '' is RecordQuery's "all devices"; every other id follows the rule
        ...(id === ''
          ? []
          : [await signedApi('/v1/query/records', { patient: `0x${'66'.repeat(20)}`, device: id, fromLeaf: 0, limit: 10 })]),
      ];
      for (const code of codes) {
        // a valid id passes the schema and reaches the handler, which needs a chain this agent has not
        expect(code, label(id)).toBe(valid ? 'API_CHAIN_UNAVAILABLE' : 'AGENT_BAD_REQUEST');
      }
    }
    expect(await signedApi('/v1/query/records', { patient: `0x${'66'.repeat(20)}`, device: '', fromLeaf: 0, limit: 10 })).toBe(
      'API_CHAIN_UNAVAILABLE',
    );
  });

  it('fleet file: parseFleetFile loads exactly the valid ids (SIM_FLEET_FILE_INVALID otherwise)', () => {
    for (const [id, valid] of TABLE) {
      const code = codeOf(() => parseFleetFile(JSON.stringify({ version: 1, devices: [{ id, secret: 's' }] }), tempDir()));
      expect(code, label(id)).toBe(valid ? undefined : 'SIM_FLEET_FILE_INVALID');
    }
  });

  it('serial ack body (what a device decodes): encodeAck / decodeAck accept exactly the valid ids (FRAME_BAD_BODY otherwise)', () => {
    for (const [id, valid] of TABLE) {
      const handBuilt = encodeCanonical(
        new Map<string, string | number>([
          ['dev', id],
          ['seq', 1],
        ]),
      );
      expect(
        codeOf(() => encodeAck({ dev: id, seq: 1 })),
        label(id),
      ).toBe(valid ? undefined : 'FRAME_BAD_BODY');
      expect(
        codeOf(() => decodeAck(handBuilt)),
        label(id),
      ).toBe(valid ? undefined : 'FRAME_BAD_BODY');
    }
  });

  it('serial line binding: `path=<device>` binds exactly the valid ids (CONFIG_INVALID otherwise)', () => {
    for (const [id, valid] of TABLE) {
      if (valid) expect(parseSerialSpec(`/dev/ttyX=${id}`), label(id)).toEqual({ path: '/dev/ttyX', device: id });
      else
        expect(
          codeOf(() => parseSerialSpec(`/dev/ttyX=${id}`)),
          label(id),
        ).toBe('CONFIG_INVALID');
    }
  });

  it('serial ingress over a pty pair: a reading frame is acknowledged {dev, seq} for a valid id and answered ENVELOPE_BAD_HEADER otherwise; a status frame gets the ticket or is dropped as bad_status', async () => {
    let seq = 1000;
    for (const [id, valid] of TABLE) {
      seq++;
      if (valid) {
        await agent.core.pushTicket(ward.ticketFor(id));
        await write(encodeFrame(FRAME_TYPE.reading, ward.seal(id, seq)));
        const f = await nextFrame();
        expect(f.type, label(id)).toBe(FRAME_TYPE.ack);
        expect(decodeAck(f.body), label(id)).toEqual({ dev: id, seq });
        await write(
          encodeFrame(
            FRAME_TYPE.status,
            encodeCanonical(
              new Map([
                ['dev', id],
                ['state', 'online'],
              ]),
            ),
          ),
        );
        const t = await nextFrame();
        expect(t.type, label(id)).toBe(FRAME_TYPE.ticket);
        expect(decodeTicket(t.body).dev, label(id)).toBe(id);
      } else {
        await write(encodeFrame(FRAME_TYPE.reading, envelopeNaming(id, seq)));
        const f = await nextFrame();
        expect(f.type, label(id)).toBe(FRAME_TYPE.error);
        expect(Object.fromEntries(cborMap(f.body)), label(id)).toEqual({ code: 'ENVELOPE_BAD_HEADER' });
        const before = await badStatusCount();
        await write(
          encodeFrame(
            FRAME_TYPE.status,
            encodeCanonical(
              new Map([
                ['dev', id],
                ['state', 'online'],
              ]),
            ),
          ),
        );
        await waitFor(async () => (await badStatusCount()) === before + 1, 5000, `status of ${label(id)} refused`);
        expect(agent.core.store.getDevice(id), label(id)).toBeUndefined();
      }
    }
    expect(inbox).toEqual([]);
  });
});

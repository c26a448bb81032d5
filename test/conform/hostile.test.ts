/**
 * A misbehaving device never hangs or crashes the kit (issue #18): over a real pty pair a "device"
 * that sends line noise, broken frames and a flood of garbage envelopes, then falls silent; over the
 * kit's MQTT broker one that floods garbage readings and then sends an oversize packet. Every
 * selected case ends with a verdict (fail, with evidence) within its time limit, and the kit's
 * observation log stays within its bounds.
 */
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { ConformKit, TestAuthority } from '../../conform/index.ts';
import { startPtyPair } from '../support/services.ts';

const BOUNDS = { resendBoundMs: 1000, readingTimeoutMs: 1000, linkTimeoutMs: 1500, backoffCapMs: 1000 };
const CASES = 'STAT-01,ENV-01,PT-01,RTX-01,FRM-03,TKT-02,OBX-01,MQ-08';

describe('a hostile device cannot hang or crash the kit', () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  beforeAll(async () => {
    pty = await startPtyPair();
  });
  afterAll(async () => {
    await pty?.stop();
  });

  it('serial: noise, broken frames, a flood, then silence — every case fails with evidence, in bounded time', async () => {
    const kit = new ConformKit({
      deviceId: 'hostile-1',
      link: { kind: 'serial', path: pty.a },
      authority: TestAuthority.generate(seededRng('hostile')),
      rng: seededRng('hostile-kit'),
      cases: CASES,
      bounds: BOUNDS,
      caseTimeoutMs: 4000,
    });
    await kit.start();
    const dev = new SerialPort({ path: pty.b, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((res, rej) => dev.open((e) => (e ? rej(e) : res())));
    // closing the flooding end cancels its queued writes (serialport's poller: Error "Canceled"): expected here,
    // anything else is not (an 'error' with no listener was an uncaught exception that failed a clean-clone run)
    const portErrors: string[] = [];
    dev.on('error', (e: Error) => void (e.message === 'Canceled' || portErrors.push(e.message)));
    const rng = seededRng('noise');
    let stop = false;
    const flood = (async () => {
      for (let i = 0; i < 400 && !stop; i++) {
        const junk = rng(200);
        const frame = encodeFrame(FRAME_TYPE.reading, rng(64)); // a well-framed reading that is no envelope
        const status = encodeFrame(FRAME_TYPE.status, rng(20)); // a status body that is no CBOR map
        dev.write(Buffer.concat([Buffer.from(junk), Buffer.from(frame), Buffer.from(status), Buffer.alloc(6000, 0x41), Buffer.of(0)]));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const started = Date.now();
    const { report } = await kit.run();
    stop = true;
    await flood;
    await kit.stop();
    await new Promise<void>((res) => {
      const t = setTimeout(res, 2000); // a close whose queued writes were cancelled may not call back
      dev.close(() => (clearTimeout(t), res()));
    });
    const wall = Date.now() - started;
    expect(portErrors).toEqual([]);
    const ran = report.cases.filter((c) => c.verdict !== 'n/a');
    expect(ran.length).toBeGreaterThanOrEqual(6);
    for (const c of ran) {
      expect(c.verdict, c.id).toBe('fail');
      expect(c.evidence!.expected.length, c.id).toBeGreaterThan(0);
    }
    expect(wall).toBeLessThan(CASES.split(',').length * 4000 + 5000);
    expect(report.observed.badFrames + report.observed.readings).toBeGreaterThan(100);
    expect(kit.observations.size).toBeLessThanOrEqual(20_000);
  }, 60_000);

  it('MQTT: garbage readings, a bad status, an oversize packet — the kit closes the connection and fails the cases', async () => {
    const kit = new ConformKit({
      deviceId: 'hostile-2',
      link: { kind: 'mqtt', port: 0, host: '127.0.0.1' },
      authority: TestAuthority.generate(seededRng('hostile-2')),
      rng: seededRng('hostile-kit-2'),
      cases: CASES,
      bounds: BOUNDS,
      caseTimeoutMs: 4000,
    });
    await kit.start();
    const url = `mqtt://127.0.0.1:${kit.mqttPort}`;
    const c = mqtt.connect(url, { clientId: 'hostile-2', username: 'hostile-2', password: 'x', protocolVersion: 4, reconnectPeriod: 0 });
    c.on('error', () => undefined);
    await new Promise<void>((res) => c.once('connect', () => res()));
    const rng = seededRng('mqtt-noise');
    for (let i = 0; i < 300; i++) c.publish('vs/v1/hostile-2/r', Buffer.from(rng(100)), { qos: 1 });
    c.publish('vs/v1/hostile-2/status', Buffer.from('{"state": "<b>bogus</b>"'), { qos: 1 });
    c.publish('vs/v1/other/r', Buffer.from('x'), { qos: 1 });
    // a raw client announcing a 200 MB PUBLISH: refused before anything is buffered
    const raw = connect(kit.mqttPort!, '127.0.0.1');
    raw.on('error', () => undefined);
    const closed = new Promise<void>((res) => raw.once('close', () => res()));
    raw.write(Buffer.of(0x10, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 0x68, 0x6f, 0x73, 0x74));
    raw.write(Buffer.of(0x32, 0xff, 0xff, 0xff, 0x7f));
    const { report } = await kit.run();
    await closed;
    c.end(true);
    await kit.stop();
    const ran = report.cases.filter((x) => x.verdict !== 'n/a');
    expect(ran.length).toBeGreaterThanOrEqual(6);
    for (const x of ran) expect(x.verdict, `${x.id}: ${JSON.stringify(x.evidence)}`).toBe('fail');
    const env = report.cases.find((x) => x.id === 'ENV-01')!;
    expect(env.evidence!.received).toMatch(/nothing at all|readings|reading/);
  }, 60_000);
});

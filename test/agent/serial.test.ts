/**
 * Serial ingress over a real pseudo-terminal pair (socat): the agent opens one end, the test
 * plays the wired device on the other with `serialport` and the protocol's framing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { FRAME_TYPE, FrameDecoder, cobsEncode, crc32, decodeAck, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { decodeStrict, encodeCanonical, isCborMap } from '../../protocol/cbor/index.ts';
import { toHex } from '../../protocol/bytes.ts';
import type { IngestItem } from '../../agent/ingest/types.ts';
import { startPtyPair, tempDir, waitFor } from '../support/services.ts';
import { takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';

const ward = new WardFixture('serial-test');
const DEV = 'dev-s';
let pty: Awaited<ReturnType<typeof startPtyPair>>;
let agent: RunningAgent;
let port: SerialPort;
const decoder = new FrameDecoder();
const inbox: Frame[] = [];
/** For each ack frame: was the acknowledged reading in the store when the ack arrived? */
const storedWhenAcked = new Map<number, boolean>();
let pushedTicket: Uint8Array;

function onData(chunk: Buffer): void {
  for (const r of decoder.push(chunk)) {
    if (!r.ok) throw new Error(`agent sent a bad frame: ${r.error.code}`);
    if (r.frame.type === FRAME_TYPE.ack) {
      const { dev, seq } = decodeAck(r.frame.body);
      // checked synchronously, the moment the ack is read off the line
      storedWhenAcked.set(
        seq,
        agent.core.store.recordsOfDevice(dev, seq, 1).some((x) => x.seq === seq),
      );
    }
    inbox.push(r.frame);
  }
}

const write = (bytes: Uint8Array): Promise<void> => writeDrained(port, bytes);

/** Waits for the next frame of `type` (frames of other types before it are skipped). */
const next = (type: number, timeoutMs?: number): Promise<Frame> => takeFrame(inbox, type, timeoutMs);

/** A well-formed COBS frame whose CRC-32 is off by one bit. */
function frameWithWrongCrc(type: number, body: Uint8Array): Uint8Array {
  const raw = new Uint8Array(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  new DataView(raw.buffer).setUint32(1 + body.length, (crc32(raw.subarray(0, 1 + body.length)) ^ 1) >>> 0, true);
  return Buffer.concat([cobsEncode(raw), new Uint8Array([0])]);
}

function cborMap(body: Uint8Array): Map<unknown, unknown> {
  const m = decodeStrict(body, { maxBytes: 512 });
  if (!isCborMap(m)) throw new Error('not a CBOR map');
  return m;
}

async function serialCounts(): Promise<Record<string, number>> {
  const m = await agent.core.metrics.serialFrames.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels.result), v.value]));
}

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
  pushedTicket = ward.ticketFor(DEV);
  await agent.core.pushTicket(pushedTicket);
  port = new SerialPort({ path: pty.b, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('data', onData);
});

afterAll(async () => {
  if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  await agent?.stop();
  await pty?.stop();
});

describe('serial ingress over a pty pair', () => {
  it('answers a status frame {dev, state} with the device ticket', async () => {
    await write(
      encodeFrame(
        FRAME_TYPE.status,
        encodeCanonical(
          new Map([
            ['dev', DEV],
            ['state', 'online'],
          ]),
        ),
      ),
    );
    const f = await next(FRAME_TYPE.ticket);
    expect(toHex(f.body)).toBe(toHex(pushedTicket));
    await waitFor(() => agent.core.store.getDevice(DEV)?.online === true, 2000, 'device online');
  });

  it('acknowledges a reading {dev, seq} only after it is in the store', async () => {
    await write(encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 1)));
    const ack = decodeAck((await next(FRAME_TYPE.ack)).body);
    expect(ack).toEqual({ dev: DEV, seq: 1 });
    expect(storedWhenAcked.get(1)).toBe(true);
    expect(agent.core.store.recordsOfDevice(DEV)[0]).toMatchObject({ seq: 1, source: 'serial' });
  });

  it('sends no ack while the reading is not committed', async () => {
    const ingestor = agent.core.ingestor;
    const submit = ingestor.submit.bind(ingestor);
    const held: IngestItem[] = [];
    ingestor.submit = (item) => void held.push(item); // hold the commit
    try {
      await write(encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 60)));
      await waitFor(() => held.length === 1, 5000, 'reading submitted');
      await new Promise((r) => setTimeout(r, 300));
      expect(inbox.filter((f) => f.type === FRAME_TYPE.ack)).toEqual([]);
    } finally {
      ingestor.submit = submit;
    }
    for (const item of held) submit(item);
    expect(decodeAck((await next(FRAME_TYPE.ack)).body)).toEqual({ dev: DEV, seq: 60 });
    expect(storedWhenAcked.get(60)).toBe(true);
  });

  it('acknowledges a burst of readings in one write, each after its commit', async () => {
    const frames = Array.from({ length: 40 }, (_, i) => encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 2 + i)));
    await write(Buffer.concat(frames));
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(decodeAck((await next(FRAME_TYPE.ack)).body).seq);
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 2 + i));
    expect(seqs.every((s) => storedWhenAcked.get(s) === true)).toBe(true);
    expect(agent.core.store.recordsOfDevice(DEV)).toHaveLength(42); // seqs 1, 60 and 2..41
  });

  it('counts garbage and bad-CRC frames between frames and keeps the link working', async () => {
    const before = await serialCounts();
    const badCrc = frameWithWrongCrc(FRAME_TYPE.reading, ward.seal(DEV, 100));
    const noise = new Uint8Array([0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00]); // a run that is not a frame
    const tooShort = new Uint8Array([0x02, 0x02, 0x00]);
    await write(
      Buffer.concat([
        noise,
        badCrc,
        encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 101)),
        tooShort,
        new Uint8Array(9000).fill(0x41),
        new Uint8Array([0]),
      ]),
    );
    await write(encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 102)));
    const acks = [decodeAck((await next(FRAME_TYPE.ack)).body).seq, decodeAck((await next(FRAME_TYPE.ack)).body).seq];
    expect(acks).toEqual([101, 102]);
    const after = await serialCounts();
    const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
    expect(delta('FRAME_BAD_CRC')).toBe(1);
    expect(delta('FRAME_BAD_COBS')).toBe(1); // the noise
    expect(delta('FRAME_TOO_SHORT')).toBe(1);
    expect(delta('FRAME_OVERSIZE')).toBe(1);
    expect(delta('reading')).toBe(2);
    const seqs = agent.core.store.recordsOfDevice(DEV, 100).map((r) => r.seq);
    expect(seqs).toEqual([101, 102]); // the corrupted reading was dropped, not stored
    // the metric is exported with the port label
    const text = await (await fetch(`http://127.0.0.1:${agent.httpAddress.port}/metrics`)).text();
    expect(text).toMatch(/vitalseal_serial_frames_total\{port="[^"]+",result="FRAME_BAD_CRC"\} 1/);
  });

  it('answers a quarantined reading with an error frame {code, seq}', async () => {
    await write(encodeFrame(FRAME_TYPE.reading, ward.seal(DEV, 200, { kid: new Uint8Array(16).fill(9) })));
    const err = cborMap((await next(FRAME_TYPE.error)).body);
    expect(Object.fromEntries(err)).toEqual({ code: 'AGENT_UNKNOWN_KID', seq: 200 });
    await write(encodeFrame(FRAME_TYPE.reading, new Uint8Array([0xff, 0x00, 0x01])));
    const err2 = cborMap((await next(FRAME_TYPE.error)).body);
    expect(Object.fromEntries(err2)).toEqual({ code: 'ENVELOPE_NOT_CBOR' }); // no seq when the envelope is unreadable
    expect(agent.core.store.quarantineCounts()).toMatchObject({ AGENT_UNKNOWN_KID: 1, ENVELOPE_NOT_CBOR: 1 });
    expect(agent.core.store.recordsOfDevice(DEV, 200)).toHaveLength(0);
  });

  it('acknowledges a resent reading again and stores it once', async () => {
    const env = ward.seal(DEV, 300);
    await write(encodeFrame(FRAME_TYPE.reading, env));
    expect(decodeAck((await next(FRAME_TYPE.ack)).body)).toEqual({ dev: DEV, seq: 300 });
    await write(encodeFrame(FRAME_TYPE.reading, env));
    expect(decodeAck((await next(FRAME_TYPE.ack)).body)).toEqual({ dev: DEV, seq: 300 });
    expect(agent.core.store.recordsOfDevice(DEV, 300)).toHaveLength(1);
    expect(agent.core.ingestor.deviceCounters(DEV)!.duplicates).toBe(1);
  });

  it('sends a newly pushed ticket down the line of the device it serves', async () => {
    // a re-issue of the session (same patient and key: a key belongs to one patient forever), valid a day longer
    const fresh = ward.ticketFor(DEV, { exp: Math.floor(Date.now() / 1000) + 2 * 86_400 });
    await agent.core.pushTicket(fresh);
    const f = await next(FRAME_TYPE.ticket);
    expect(toHex(f.body)).toBe(toHex(fresh));
  });

  it('keeps the log consistent', () => {
    expect(agent.core.auditLog()).toMatchObject({ ok: true, size: agent.core.store.recordCount() });
  });
});

/**
 * Fuzz of the kit's receive path (issue #18: "the kit never crashes on device input"): random and
 * mutated byte streams through the serial receiver (FrameDecoder → frames → envelope intake and
 * status parsing), random MQTT payloads through the envelope intake and the status parser, random
 * chunks through the MQTT packet guard. Nothing throws out, and what the kit keeps stays bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { encodeFrame, FRAME_TYPE, maxEncodedFrameLength } from '../../protocol/framing/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { sealReading } from '../../protocol/envelope/index.ts';
import { envelopeStructureProblems, inspectReading, parseMqttStatus, parseSerialStatus } from '../../conform/intake.ts';
import { Observations } from '../../conform/observations.ts';
import { MqttPacketGuard } from '../../conform/transports/mqttPacketGuard.ts';
import { SerialReceiver } from '../../conform/transports/serialReceiver.ts';
import { runs } from '../support/fuzz.ts';

const hpke = createHpke('node');
const key = tempKeyPairGen('fuzz-patient', seededRng('conform-fuzz-key'), hpke);
const KID = toHex(key.kid);

function validEnvelope(seq: number): Uint8Array {
  return sealReading({
    reading: { st: 'spo2', ts: 1_767_225_600_000 + seq, v: [97, 60], u: '%,bpm' },
    header: { dev: 'fuzz-dev', seq, ts: 1_767_225_600_000 + seq, st: 'spo2' },
    recipient: { publicKey: key.publicKey, kid: key.kid },
    rng: seededRng(`eph-${seq}`),
    hpke,
  });
}

const statusBody = encodeCanonical(
  new Map<string, CborValue>([
    ['dev', 'fuzz-dev'],
    ['state', 'online'],
    ['seq', 3],
  ]),
);
const SEEDS = [encodeFrame(FRAME_TYPE.reading, validEnvelope(1)), encodeFrame(FRAME_TYPE.status, statusBody)];

function host(limits: { maxEvents: number; maxReadingBytes: number }) {
  const observations = new Observations(() => 0, limits);
  let index = 0;
  return {
    deviceId: 'fuzz-dev',
    observations,
    intake(bytes: Uint8Array) {
      const r = inspectReading(bytes, {
        index: index++,
        at: 0,
        keys: (k) => (k === KID ? key.secretKey : undefined),
        hpke,
        recordId: (b) => String(b.length),
      });
      observations.add({ kind: 'reading', reading: r });
      return r;
    },
    knowsKid: (k: string) => k === KID,
  };
}

/** A valid frame with a few bytes replaced (never the delimiter), or random bytes, or a valid frame. */
const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(fc.constantFrom(...SEEDS), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }))
    .map(([f, edits]) => {
      const m = Uint8Array.from(f);
      for (const [i, b] of edits) m[i % (m.length - 1)] = b;
      return m;
    }),
  fc.constantFrom(...SEEDS),
);

describe('the kit receive path never throws on device input', () => {
  it('seed check: a valid reading frame and status frame go through the receiver', () => {
    const h = host({ maxEvents: 100, maxReadingBytes: 1 << 20 });
    const rx = new SerialReceiver(h);
    const got = rx.push(Uint8Array.from([...SEEDS[0]!, ...SEEDS[1]!]));
    expect(got.map((a) => a.kind)).toEqual(['reading', 'status']);
    const r = got[0]!.kind === 'reading' ? got[0]!.reading : undefined;
    expect(r?.reading?.v).toEqual([97, 60]);
    expect(h.observations.statuses(0)[0]!.status.state).toBe('online');
  });

  it('serial: random and mutated streams in random chunks; memory stays bounded', () => {
    const h = host({ maxEvents: 200, maxReadingBytes: 64 * 1024 });
    const rx = new SerialReceiver(h);
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
        for (const c of chunks) rx.push(c);
        expect(rx.pendingBytes).toBeLessThanOrEqual(maxEncodedFrameLength());
        expect(h.observations.size).toBeLessThanOrEqual(200);
      }),
      { numRuns: runs(500) },
    );
    // a flood: 3000 valid reading frames keep at most the limits
    const frame = SEEDS[0]!;
    for (let i = 0; i < 3000; i++) rx.push(frame);
    expect(h.observations.size).toBeLessThanOrEqual(200);
    expect(h.observations.dropped).toBeGreaterThan(0);
  });

  it('envelope intake, structure probe and status parsers: random bytes and mutated envelopes', () => {
    const env = validEnvelope(2);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 5000 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }).map((edits) => {
        const m = Uint8Array.from(env);
        for (const [i, b] of edits) m[i % m.length] = b;
        return m;
      }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const r = inspectReading(bytes, { index: 0, at: 0, keys: () => key.secretKey, hpke, recordId: () => 'x' });
        expect(r.decodeError !== undefined || r.header !== undefined).toBe(true);
        expect(Array.isArray(envelopeStructureProblems(bytes))).toBe(true);
        expect(Array.isArray(parseSerialStatus(bytes).problems)).toBe(true);
        expect(Array.isArray(parseMqttStatus(bytes).problems)).toBe(true);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('MQTT status payloads: any JSON value or text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        const s = parseMqttStatus(new TextEncoder().encode(text));
        expect(Array.isArray(s.problems)).toBe(true);
      }),
      { numRuns: runs(2000) },
    );
  });

  it('MQTT packet guard: any chunking of any stream; a huge announced length is refused', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }), (chunks) => {
        const g = new MqttPacketGuard(8192);
        for (const c of chunks) {
          const p = g.scan(c);
          expect(p === undefined || typeof p === 'string').toBe(true);
        }
      }),
      { numRuns: runs(2000) },
    );
    expect(new MqttPacketGuard(8192).scan(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f))).toBe('packet too large');
    expect(new MqttPacketGuard(8192).scan(Uint8Array.of(0x30, 0x05, 1, 2, 3, 4, 5, 0xc0, 0x00))).toBeUndefined();
  });
});

import { outcome } from './fuzzInputs.ts';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../../protocol/bytes.ts';
import { VitalsealError, type ErrorCode } from '../../protocol/errors.ts';
import { DEVICE_ID_REGEX } from '../../protocol/deviceId.ts';
import {
  DEFAULT_MAX_BODY,
  FRAME_TYPE,
  FrameDrop,
  FrameDecoder,
  cobsDecode,
  cobsEncode,
  cobsMaxEncodedLength,
  crc32,
  decodeAck,
  decodeFrame,
  encodeAck,
  encodeFrame,
  frameTypeName,
  isFrameType,
  maxEncodedFrameLength,
  tryDecodeFrame,
  type FrameResult,
  type FrameType,
} from '../../protocol/framing/index.ts';
import { runs } from '../support/fuzz.ts';

// ---------------------------------------------------------------- helpers

const FRAME_CODES: ErrorCode[] = ['FRAME_BAD_COBS', 'FRAME_BAD_CRC', 'FRAME_OVERSIZE', 'FRAME_TOO_SHORT', 'FRAME_UNKNOWN_TYPE'];
const TYPES = Object.values(FRAME_TYPE) as FrameType[];

/** Frame bytes without the trailing delimiter. */
const stripDelimiter = (wire: Uint8Array): Uint8Array => wire.subarray(0, wire.length - 1);

/** Builds a COBS frame with arbitrary type and CRC (for error cases encodeFrame refuses to make). */
function rawFrame(type: number, body: Uint8Array, crc?: number): Uint8Array {
  const head = concatBytes(new Uint8Array([type]), body);
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc ?? crc32(head), true);
  return cobsEncode(concatBytes(head, tail));
}

function expectWellFormed(results: FrameResult[]): void {
  const bad = results.filter((r) =>
    r.ok ? !isFrameType(r.frame.type) || !(r.frame.body instanceof Uint8Array) : !(r instanceof FrameDrop) || !FRAME_CODES.includes(r.code),
  );
  expect(bad).toEqual([]);
  const drop = results.find((r) => !r.ok);
  if (drop && !drop.ok) {
    expect(drop.error).toBeInstanceOf(VitalsealError);
    expect(drop.error.code).toBe(drop.code);
  }
}

function feedInChunks(decoder: FrameDecoder, stream: Uint8Array, cuts: number[]): FrameResult[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const results: FrameResult[] = [];
  let prev = 0;
  for (const p of [...points, stream.length]) {
    results.push(...decoder.push(stream.subarray(prev, p)));
    prev = p;
  }
  return results;
}

/** Cheap bulk bytes (xorshift32): fast-check draws each byte separately, which dominates the fuzz time. */
function pseudoBytes(seed: number, length: number, zeroEvery: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = zeroEvery > 0 && (x >>> 24) % zeroEvery === 0 ? 0 : x & 0xff;
  }
  return out;
}
const bulkBytes = (maxLength: number) =>
  fc.tuple(fc.integer(), fc.nat(maxLength), fc.constantFrom(0, 4, 16, 256)).map(([seed, len, z]) => pseudoBytes(seed, len, z));

const frameArb = fc.record({
  type: fc.constantFrom(...TYPES),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 600 }),
    fc.uint8Array({ maxLength: 16 }).map((b) => b.map((x) => (x < 128 ? 0 : x))), // zero-heavy
  ),
});

// ---------------------------------------------------------------- CRC-32

describe('CRC-32 (IEEE 802.3, as zlib)', () => {
  it('known answers', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(utf8('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it('agrees with zlib on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(crc32(data)).toBe(zlibCrc32(data));
      }),
      { numRuns: runs(500) },
    );
  });
});

// ---------------------------------------------------------------- COBS

describe('COBS', () => {
  const seq = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  // Examples of Cheshire & Baker's COBS (as listed on Wikipedia's "Consistent Overhead Byte Stuffing").
  const examples: Array<[string, number[], number[]]> = [
    ['1', [0x00], [0x01, 0x01]],
    ['2', [0x00, 0x00], [0x01, 0x01, 0x01]],
    ['3', [0x00, 0x11, 0x00], [0x01, 0x02, 0x11, 0x01]],
    ['4', [0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    ['5', [0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    ['6', [0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
    ['7', seq(0x01, 0xfe), [0xff, ...seq(0x01, 0xfe)]],
    ['8', [0x00, ...seq(0x01, 0xfe)], [0x01, 0xff, ...seq(0x01, 0xfe)]],
    ['9', seq(0x01, 0xff), [0xff, ...seq(0x01, 0xfe), 0x02, 0xff]],
    ['10', [...seq(0x02, 0xff), 0x00], [0xff, ...seq(0x02, 0xff), 0x01, 0x01]],
    ['11', [...seq(0x03, 0xff), 0x00, 0x01], [0xfe, ...seq(0x03, 0xff), 0x02, 0x01]],
    ['empty', [], [0x01]],
  ];

  it.each(examples)('paper example %s', (_name, data, encoded) => {
    expect(Array.from(cobsEncode(new Uint8Array(data)))).toEqual(encoded);
    expect(Array.from(cobsDecode(new Uint8Array(encoded)))).toEqual(data);
  });

  it('accepts the non-canonical trailing 0x01 after a full block', () => {
    expect(Array.from(cobsDecode(new Uint8Array([0xff, ...seq(0x01, 0xfe), 0x01])))).toEqual(seq(0x01, 0xfe));
  });

  it('round trips, never emits 0x00 and stays within the length bound', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1200 }),
          fc.uint8Array({ maxLength: 1200 }).map((b) => b.map((x) => (x === 0 ? 1 : x))),
          fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x < 200 ? 0 : x))),
        ),
        (data) => {
          const enc = cobsEncode(data);
          expect(enc.includes(0)).toBe(false);
          expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(data.length));
          expect(toHex(cobsDecode(enc))).toBe(toHex(data));
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it('rejects malformed input with FRAME_BAD_COBS', () => {
    for (const bad of [[], [0x00], [0x03, 0x11], [0x02, 0x00], [0x01, 0x00, 0x01], [0xff, 0x01]]) {
      expect(outcome(() => cobsDecode(new Uint8Array(bad)))).toBe('FRAME_BAD_COBS');
    }
  });
});

// ---------------------------------------------------------------- frames

describe('frames', () => {
  it('types', () => {
    expect(FRAME_TYPE).toEqual({ ticket: 1, reading: 2, ack: 3, status: 4, error: 5 });
    expect(TYPES.map(frameTypeName)).toEqual(['ticket', 'reading', 'ack', 'status', 'error']);
    expect([0, 6, 0xff, 1.5].some(isFrameType)).toBe(false);
  });

  it('has the documented layout', () => {
    // type 0x04, body "hi", CRC-32 LE over 04 68 69, then COBS and 0x00.
    const crc = crc32(new Uint8Array([0x04, 0x68, 0x69]));
    const raw = [0x04, 0x68, 0x69, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24];
    expect(toHex(encodeFrame(FRAME_TYPE.status, utf8('hi')))).toBe(
      toHex(concatBytes(cobsEncode(new Uint8Array(raw)), new Uint8Array([0]))),
    );
  });

  it('round trip', () => {
    fc.assert(
      fc.property(frameArb, ({ type, body }) => {
        const wire = encodeFrame(type, body);
        expect(wire[wire.length - 1]).toBe(0);
        expect(stripDelimiter(wire).includes(0)).toBe(false);
        const frame = decodeFrame(stripDelimiter(wire));
        expect(frame.type).toBe(type);
        expect(toHex(frame.body)).toBe(toHex(body));
      }),
      { numRuns: runs(1000) },
    );
    const big = new Uint8Array(DEFAULT_MAX_BODY).fill(7);
    const wire = encodeFrame(FRAME_TYPE.reading, big);
    expect(wire.length - 1).toBeLessThanOrEqual(maxEncodedFrameLength());
    expect(decodeFrame(stripDelimiter(wire)).body).toEqual(big);
  });

  it('decodeFrame errors', () => {
    expect(outcome(() => decodeFrame(new Uint8Array(0)))).toBe('FRAME_BAD_COBS');
    expect(outcome(() => decodeFrame(new Uint8Array([0x05, 1, 2, 3, 4])))).toBe('FRAME_TOO_SHORT');
    expect(outcome(() => decodeFrame(new Uint8Array([0x02, 0x11, 0x00])))).toBe('FRAME_BAD_COBS');
    expect(outcome(() => decodeFrame(rawFrame(0x02, utf8('x'), 0x12345678)))).toBe('FRAME_BAD_CRC');
    expect(outcome(() => decodeFrame(rawFrame(0x09, utf8('x'))))).toBe('FRAME_UNKNOWN_TYPE');
    expect(outcome(() => decodeFrame(rawFrame(0x00, utf8('x'))))).toBe('FRAME_UNKNOWN_TYPE');
    expect(outcome(() => decodeFrame(rawFrame(0x01, new Uint8Array(DEFAULT_MAX_BODY + 1).fill(1))))).toBe('FRAME_OVERSIZE');
    expect(outcome(() => decodeFrame(rawFrame(0x01, new Uint8Array(11)), { maxBody: 10 }))).toBe('FRAME_OVERSIZE');
    expect(outcome(() => decodeFrame(rawFrame(0x01, new Uint8Array(10)), { maxBody: 10 }))).toBe('ok');
    expect(outcome(() => decodeFrame(new Uint8Array(maxEncodedFrameLength() + 1).fill(1)))).toBe('FRAME_OVERSIZE');
    const r = tryDecodeFrame(rawFrame(0x02, utf8('x'), 1));
    expect(!r.ok && r.error.code).toBe('FRAME_BAD_CRC');
  });

  it('encodeFrame refuses unknown types and oversize bodies', () => {
    expect(outcome(() => encodeFrame(9 as FrameType, new Uint8Array(1)))).toBe('FRAME_UNKNOWN_TYPE');
    expect(outcome(() => encodeFrame(FRAME_TYPE.reading, new Uint8Array(DEFAULT_MAX_BODY + 1)))).toBe('FRAME_OVERSIZE');
    expect(outcome(() => encodeFrame(FRAME_TYPE.reading, new Uint8Array(21), { maxBody: 20 }))).toBe('FRAME_OVERSIZE');
  });

  it('every single-bit error in a frame is detected', () => {
    const wire = stripDelimiter(encodeFrame(FRAME_TYPE.reading, utf8('heart rate 72 bpm, spo2 98%')));
    for (let bit = 0; bit < wire.length * 8; bit++) {
      const bad = wire.slice();
      bad[bit >> 3] = bad[bit >> 3]! ^ (1 << (bit & 7));
      expect(outcome(() => decodeFrame(bad))).not.toBe('ok');
    }
  });
});

// ---------------------------------------------------------------- ack body

describe('ack body', () => {
  it('is the deterministic CBOR map {dev, seq}', () => {
    const body = encodeAck({ dev: 'd1', seq: 7 });
    expect(toHex(body)).toBe('a2636465766264316373657107');
    expect(decodeAck(body)).toEqual({ dev: 'd1', seq: 7 });
    const wire = encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: 'oxi-0001', seq: 2 ** 40 }));
    expect(decodeAck(decodeFrame(stripDelimiter(wire)).body)).toEqual({ dev: 'oxi-0001', seq: 2 ** 40 });
  });

  it('round trips', () => {
    fc.assert(
      fc.property(fc.stringMatching(DEVICE_ID_REGEX), fc.maxSafeNat(), (dev, seq) => {
        expect(decodeAck(encodeAck({ dev, seq }))).toEqual({ dev, seq });
      }),
      { numRuns: runs(300) },
    );
  });

  it('rejects bad bodies with FRAME_BAD_BODY', () => {
    for (const hex of [
      '', // empty
      'a2636465766264316373657120', // seq -1
      'a163646576626431', // no seq
      'a3636465766264316373657107616101', // extra key
      'a2636465766063736571 07'.replace(' ', ''), // empty dev
      'a2636465760163736571 07'.replace(' ', ''), // dev not a string
      'a26364657662643163736571fb3ff8000000000000', // seq 1.5
      '82626431 07'.replace(' ', ''), // array
      'a2636465766264316373657107ff', // trailing byte
      'a263646576626431', // truncated
      'a26364657663613a626373657107', // dev "a:b" is not a device id
    ]) {
      expect(
        outcome(() => decodeAck(fromHex(hex))),
        hex,
      ).toBe('FRAME_BAD_BODY');
    }
    for (const ack of [
      { dev: '', seq: 1 },
      { dev: 'd', seq: -1 },
      { dev: 'd', seq: 0.5 },
      { dev: 'x'.repeat(65), seq: 1 },
      { dev: 'a:b', seq: 1 },
      { dev: '-x', seq: 1 },
    ]) {
      expect(outcome(() => encodeAck(ack))).toBe('FRAME_BAD_BODY');
    }
  });

  it('never throws anything but FRAME_BAD_BODY on random bodies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (body) => {
        const got = outcome(() => decodeAck(body));
        expect(['ok', 'FRAME_BAD_BODY']).toContain(got);
      }),
      { numRuns: runs(2000) },
    );
  });
});

// ---------------------------------------------------------------- stream decoder

describe('FrameDecoder', () => {
  const frames = [
    { type: FRAME_TYPE.ticket, body: utf8('ticket') },
    { type: FRAME_TYPE.reading, body: new Uint8Array([0, 0, 1, 0, 2]) },
    { type: FRAME_TYPE.ack, body: encodeAck({ dev: 'd1', seq: 1 }) },
    { type: FRAME_TYPE.status, body: new Uint8Array(0) },
    { type: FRAME_TYPE.error, body: new Uint8Array(700).fill(0x55) },
  ];
  const stream = concatBytes(...frames.map((f) => encodeFrame(f.type, f.body)));
  const okFrames = (rs: FrameResult[]) => rs.flatMap((r) => (r.ok ? [{ type: r.frame.type, body: toHex(r.frame.body) }] : []));
  const expected = frames.map((f) => ({ type: f.type, body: toHex(f.body) }));

  it('decodes a stream in one chunk, byte by byte and in random splits', () => {
    expect(okFrames(new FrameDecoder().push(stream))).toEqual(expected);
    const d = new FrameDecoder();
    const byByte: FrameResult[] = [];
    for (const b of stream) byByte.push(...d.push(new Uint8Array([b])));
    expect(okFrames(byByte)).toEqual(expected);
    expect(byByte.every((r) => r.ok)).toBe(true);
    expect(d.counters).toEqual({ frames: 5, badCobs: 0, badCrc: 0, oversize: 0, tooShort: 0, unknownType: 0 });
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
        expect(okFrames(feedInChunks(new FrameDecoder(), stream, cuts))).toEqual(expected);
      }),
      { numRuns: runs(300) },
    );
  });

  it('ignores empty runs, drops garbage, and resynchronises at the next 0x00', () => {
    const d = new FrameDecoder();
    const garbage = new Uint8Array([0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x42]);
    const rs = d.push(concatBytes(new Uint8Array([0, 0, 0]), garbage, new Uint8Array([0]), stream, new Uint8Array([0, 0])));
    expect(okFrames(rs)).toEqual(expected);
    expect(rs.filter((r) => !r.ok)).toHaveLength(1);
    expect(d.counters.frames).toBe(5);
    expect(d.counters.badCobs + d.counters.badCrc + d.counters.tooShort + d.counters.unknownType).toBe(1);
  });

  it('drops a truncated frame and keeps the next one', () => {
    const d = new FrameDecoder();
    const first = encodeFrame(FRAME_TYPE.reading, utf8('a reading that gets cut'));
    const truncated = first.subarray(0, 10);
    const rs = d.push(concatBytes(truncated, new Uint8Array([0]), encodeFrame(FRAME_TYPE.ack, utf8('ok'))));
    expect(rs).toHaveLength(2);
    expect(rs[0]!.ok).toBe(false);
    expect(rs[1]!.ok && toHex(rs[1]!.frame.body)).toBe(toHex(utf8('ok')));
    // A frame cut at the end of the stream stays pending.
    expect(d.push(truncated)).toEqual([]);
    expect(d.pendingBytes).toBe(10);
    d.reset();
    expect(d.pendingBytes).toBe(0);
  });

  it('counts each kind of bad frame', () => {
    const d = new FrameDecoder({ maxBody: 32 });
    const rs = d.push(
      concatBytes(
        rawFrame(0x02, utf8('x'), 0xdeadbeef),
        new Uint8Array([0]), // bad CRC
        rawFrame(0x07, utf8('x')),
        new Uint8Array([0]), // unknown type
        new Uint8Array([0x05, 0x11, 0x22, 0x33, 0x44, 0]), // too short (decodes to 4 bytes)
        new Uint8Array([0x05, 0x11, 0]), // bad COBS: block runs past the end
        rawFrame(0x02, new Uint8Array(33).fill(1)),
        new Uint8Array([0]), // body over maxBody, run within the COBS bound
        new Uint8Array(1000).fill(9),
        new Uint8Array([0]), // oversize run
        encodeFrame(FRAME_TYPE.status, utf8('fine')),
      ),
    );
    expect(rs.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'FRAME_BAD_CRC',
      'FRAME_UNKNOWN_TYPE',
      'FRAME_TOO_SHORT',
      'FRAME_BAD_COBS',
      'FRAME_OVERSIZE',
      'FRAME_OVERSIZE',
      'ok',
    ]);
    expect(d.counters).toEqual({ frames: 1, badCobs: 1, badCrc: 1, oversize: 2, tooShort: 1, unknownType: 1 });
  });

  it('discards an endless oversize run with bounded memory, reporting it once', () => {
    const d = new FrameDecoder();
    const noise = new Uint8Array(64 * 1024).fill(0xaa);
    const results: FrameResult[] = [];
    for (let i = 0; i < 16; i++) {
      results.push(...d.push(noise));
      expect(d.pendingBytes).toBeLessThanOrEqual(maxEncodedFrameLength());
    }
    expect(results.map((r) => !r.ok && r.error.code)).toEqual(['FRAME_OVERSIZE']);
    results.push(...d.push(concatBytes(new Uint8Array([0]), encodeFrame(FRAME_TYPE.ticket, utf8('t')))));
    expect(results.at(-1)!.ok).toBe(true);
    expect(d.counters.oversize).toBe(1);
    expect(d.counters.frames).toBe(1);
  });

  it('accepts a maximal frame and honours a configured limit', () => {
    const max = encodeFrame(FRAME_TYPE.reading, new Uint8Array(DEFAULT_MAX_BODY).fill(3));
    expect(okFrames(new FrameDecoder().push(max))).toHaveLength(1);
    const small = new FrameDecoder({ maxBody: 100 });
    const rs = small.push(concatBytes(max, encodeFrame(FRAME_TYPE.reading, new Uint8Array(100).fill(3))));
    expect(rs.map((r) => r.ok)).toEqual([false, true]);
    expect(small.counters.oversize).toBe(1);
  });
});

// ---------------------------------------------------------------- fuzz

describe('fuzz: only typed errors or results, never another exception or hang', () => {
  const validWire = fc
    .record({ type: fc.constantFrom(...TYPES), body: fc.oneof(fc.uint8Array({ maxLength: 48 }), bulkBytes(300)) })
    .map(({ type, body }) => encodeFrame(type, body));

  /** A valid frame (delimiter removed) with random edits: bit flips, byte sets, inserts, deletes, truncation. */
  const mutatedFrame = fc
    .tuple(
      validWire,
      fc.array(fc.tuple(fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'), fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([wire, edits]) => {
      let b = Array.from(stripDelimiter(wire));
      for (const [op, at, v] of edits) {
        const i = b.length === 0 ? 0 : at % b.length;
        if (op === 'flip' && b.length > 0) b[i] = b[i]! ^ (1 << (v & 7));
        else if (op === 'set' && b.length > 0) b[i] = v;
        else if (op === 'insert') b.splice(i, 0, v);
        else if (op === 'delete') b.splice(i, 1);
        else if (op === 'truncate') b = b.slice(0, i);
      }
      return new Uint8Array(b);
    });

  const randomBytes = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => b.map((x) => (x === 0 ? 1 : x))),
    bulkBytes(3000),
  );

  const checkDecode = (input: Uint8Array): void => {
    const got = outcome(() => decodeFrame(input));
    if (got !== 'ok') expect(FRAME_CODES).toContain(got);
  };

  it('decodeFrame: 10,000 random inputs', () => {
    fc.assert(fc.property(randomBytes, checkDecode), { numRuns: runs(10_000) });
  });

  it('decodeFrame: 10,000 mutated frames', () => {
    fc.assert(fc.property(mutatedFrame, checkDecode), { numRuns: runs(10_000) });
  });

  it('FrameDecoder: 10,000 random streams in random chunks', () => {
    fc.assert(
      fc.property(randomBytes, fc.array(fc.nat(), { maxLength: 8 }), (stream, cuts) => {
        const d = new FrameDecoder({ maxBody: 256 });
        const rs = feedInChunks(d, stream, cuts);
        expectWellFormed(rs);
        const c = d.counters;
        expect(c.frames + c.badCobs + c.badCrc + c.oversize + c.tooShort + c.unknownType).toBe(rs.length);
        expect(d.pendingBytes).toBeLessThanOrEqual(maxEncodedFrameLength(256));
      }),
      { numRuns: runs(10_000) },
    );
  });

  it('FrameDecoder: 10,000 mutated streams, and a valid frame after a 0x00 is always recovered', () => {
    fc.assert(
      fc.property(
        fc.array(mutatedFrame, { minLength: 1, maxLength: 3 }),
        validWire,
        fc.array(fc.nat(), { maxLength: 8 }),
        (mutated, good, cuts) => {
          const stream = concatBytes(...mutated.flatMap((m) => [m, new Uint8Array([0])]), good);
          const d = new FrameDecoder();
          const rs = feedInChunks(d, stream, cuts);
          expectWellFormed(rs);
          const last = rs.at(-1);
          expect(last?.ok).toBe(true);
          if (last?.ok) expect(toHex(encodeFrame(last.frame.type, last.frame.body))).toBe(toHex(good));
        },
      ),
      { numRuns: runs(10_000) },
    );
  });
});

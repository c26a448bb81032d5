/**
 * Serial framing seen from the device (docs/PROTOCOL.md §8): its frames are well-formed; bad frames
 * from the gateway are dropped without harm and the device resynchronises at the next 0x00; ack and
 * error frames are handled as §8.6 says. Not applicable over MQTT.
 */
import { encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { cobsEncode, crc32, encodeAck, encodeFrame, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { Observation } from '../observations.ts';
import { listSome, waitForSeq, withholdNextReading } from './common.ts';

const onlySerial = (ctx: ConformContext): string | undefined => (ctx.serial ? undefined : 'serial only (the device is on MQTT)');

/** A frame with a wrong CRC: the CRC of the frame flipped in its last bit. */
function badCrcFrame(type: number, body: Uint8Array): Uint8Array {
  const raw = new Uint8Array(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  new DataView(raw.buffer).setUint32(1 + body.length, (crc32(raw.subarray(0, 1 + body.length)) ^ 1) >>> 0, true);
  return Uint8Array.from([...cobsEncode(raw), 0]);
}

/** A frame of any type byte (encodeFrame refuses unknown types). */
function rawFrame(type: number, body: Uint8Array): Uint8Array {
  const raw = new Uint8Array(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  new DataView(raw.buffer).setUint32(1 + body.length, crc32(raw.subarray(0, 1 + body.length)), true);
  return Uint8Array.from([...cobsEncode(raw), 0]);
}

/**
 * Withholds the ack of the next reading, sends `before(seq)` (junk or a frame the device must
 * ignore), then `answer(seq)`. `expectResend`: the device must send the reading again (the frames
 * were not a valid ack); otherwise it must not (the valid ack after the junk was taken).
 */
async function frameCase(
  ctx: ConformContext,
  o: { send: (seq: number) => Uint8Array[]; expectResend: boolean; what: string },
): Promise<CaseOutcome> {
  const { target } = await withholdNextReading(ctx);
  const seq = target.header!.seq;
  const mark = ctx.observations.mark;
  for (const bytes of o.send(seq)) await ctx.serial!.sendRaw(bytes);
  const wait = o.expectResend ? ctx.bounds.resendBoundMs : ctx.quietWaitMs();
  const resend = await waitForSeq(ctx, seq, mark, wait);
  const alive = o.expectResend || (await ctx.readings(1, { since: mark, filter: (r) => r.header?.seq !== seq })).length > 0;
  if (o.expectResend && !resend) return fail(`${o.what}: the device ignores it and resends seq ${seq}`, `no resend within ${wait} ms`);
  if (!o.expectResend && resend)
    return fail(`${o.what}: the ack after it is taken, seq ${seq} not resent`, `seq ${seq} resent after ${resend.at - target.at} ms`);
  if (!alive) return fail('the device keeps sending', `no new reading after ${o.what}: ${ctx.silenceSummary(mark)}`);
  return pass({
    expected: o.what,
    received: o.expectResend ? `seq ${seq} resent after ${resend!.at - target.at} ms` : `seq ${seq} not resent within ${wait} ms`,
  });
}

const ack = (ctx: ConformContext, seq: number): Uint8Array => encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: ctx.deviceId, seq }));

export const FRAMING_CASES: ConformCase[] = [
  {
    id: 'FRM-01',
    title: "The device's frames are well-formed: COBS, CRC-32, a known type",
    section: '§8.1–§8.3',
    group: 'framing',
    applies: onlySerial,
    async run(ctx) {
      await ctx.sample(3);
      // before the kit's own link actions (a closed port cuts frames)
      const cut = ctx.observations.since(0).find((e) => e.kind === 'kit')?.n ?? Number.POSITIVE_INFINITY;
      const bad = ctx.observations.since(0).filter((e): e is Observation & { kind: 'bad-frame' } => e.kind === 'bad-frame' && e.n < cut);
      if (bad.length > 0) return fail('every frame decodes', `${bad.length} frames dropped: ${listSome(bad, (b) => b.code)}`);
      return pass({ expected: 'well-formed frames', received: 'no frame dropped' });
    },
  },
  {
    id: 'FRM-02',
    title: 'The device sends only reading (0x02) and status (0x04) frames',
    section: '§8.4',
    group: 'framing',
    applies: onlySerial,
    async run(ctx) {
      await ctx.sample(3);
      const odd = ctx.observations.since(0).filter((e): e is Observation & { kind: 'unexpected-frame' } => e.kind === 'unexpected-frame');
      if (odd.length > 0)
        return fail(
          'frame types 0x02 and 0x04 only',
          listSome(odd, (f) => `type 0x${f.type.toString(16)}`),
        );
      return pass({ expected: 'reading and status frames', received: 'nothing else' });
    },
  },
  {
    id: 'FRM-03',
    title: 'An ack frame with a bad CRC is dropped (the reading is resent)',
    section: '§8.3, §8.5',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'an ack with a bad CRC',
        expectResend: true,
        send: (seq) => [badCrcFrame(FRAME_TYPE.ack, encodeAck({ dev: ctx.deviceId, seq }))],
      }),
  },
  {
    id: 'FRM-04',
    title: 'After a frame with bad COBS the device resynchronises at the next 0x00',
    section: '§8.2, §8.5',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'bad COBS (code byte past the end) then a valid ack',
        expectResend: false,
        send: (seq) => [Uint8Array.of(0x09, 1, 2, 0), ack(ctx, seq)],
      }),
  },
  {
    id: 'FRM-05',
    title: 'An oversize run is discarded up to the next 0x00; the frame after it is taken',
    section: '§8.1, §8.5',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: '5000 bytes without a delimiter, then a valid ack',
        expectResend: false,
        send: (seq) => [Uint8Array.from({ length: 5000 }, (_, i) => (i % 255) + 1), Uint8Array.of(0), ack(ctx, seq)],
      }),
  },
  {
    id: 'FRM-06',
    title: 'Garbage between frames does not hurt: the next frame is taken',
    section: '§8.5',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'random bytes (with 0x00s) then a valid ack',
        expectResend: false,
        send: (seq) => [ctx.random(300), Uint8Array.of(0, 0), ack(ctx, seq)],
      }),
  },
  {
    id: 'FRM-07',
    title: 'An ack naming another device is ignored',
    section: '§8.6',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'an ack {dev: another device, seq}',
        expectResend: true,
        send: (seq) => [
          encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: ctx.deviceId === 'conform-other' ? 'conform-other-2' : 'conform-other', seq })),
        ],
      }),
  },
  {
    id: 'FRM-08',
    title: 'An ack with a malformed body (an extra key) is ignored',
    section: '§8.4',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'an ack body {dev, seq, x}',
        expectResend: true,
        send: (seq) => [
          encodeFrame(
            FRAME_TYPE.ack,
            encodeCanonical(
              new Map<string, CborValue>([
                ['dev', ctx.deviceId],
                ['seq', seq],
                ['x', 1],
              ]),
            ),
          ),
        ],
      }),
  },
  {
    id: 'FRM-09',
    title: 'An error frame naming a reading drops it from the outbox: it is not resent',
    section: '§8.6, §8.7',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'an error frame {code: AGENT_TS_OUT_OF_RANGE, seq}',
        expectResend: false,
        send: (seq) => [
          encodeFrame(
            FRAME_TYPE.error,
            encodeCanonical(
              new Map<string, CborValue>([
                ['code', 'AGENT_TS_OUT_OF_RANGE'],
                ['seq', seq],
              ]),
            ),
          ),
        ],
      }),
  },
  {
    id: 'FRM-10',
    title: 'A frame of an unknown type is ignored; the next frame is taken',
    section: '§8.4, §8.5',
    group: 'framing',
    applies: onlySerial,
    run: (ctx) =>
      frameCase(ctx, {
        what: 'a frame of type 0x07, then a valid ack',
        expectResend: false,
        send: (seq) => [rawFrame(0x07, Uint8Array.of(0xa0)), ack(ctx, seq)],
      }),
  },
];

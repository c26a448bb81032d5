/**
 * device-c's serial framing (docs/PROTOCOL.md §8) against test/vectors/vitalseal/frames.json,
 * byte for byte: CRC-32, COBS both ways, frame encode and decode, the stream receiver, the ack and
 * error bodies and the status body; then the C stream receiver against the TypeScript FrameDecoder
 * on noisy streams (same frames, same drop codes, same counters).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { encodeCanonical } from '../../protocol/cbor/index.ts';
import { FrameDecoder, decodeAck, encodeAck, encodeFrame, type FrameType } from '../../protocol/framing/index.ts';
import { Sfc32 } from '../../fuzz/mutate.ts';
import { runs } from '../support/fuzz.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { runDeviceKat } from './deviceKat.ts';

interface Positive {
  name: string;
  type: number;
  body: string;
  crc32: string;
  raw: string;
  cobs: string;
  wire: string;
  decodedBody?: { dev?: string; seq?: number; code?: string };
}
interface Negative {
  name: string;
  decoder: 'decodeFrame' | 'decodeAck';
  encoded: string;
  wire: string;
  error: string;
}
const V = JSON.parse(readFileSync(new URL('../vectors/vitalseal/frames.json', import.meta.url), 'utf8')) as {
  positive: Positive[];
  negative: Negative[];
};
const hexArg = (h: string): string => (h === '' ? '-' : h);

describe.skipIf(skipDeviceC)(`device-c frames: frames.json byte for byte ${skipDeviceCReason}`, () => {
  it('CRC-32 check value and every positive vector: crc, COBS, encode, decode, stream, bodies', () => {
    const cmds: string[] = ['crc 313233343536373839'];
    const expected: string[] = ['2639f4cb']; // CRC-32("123456789") = 0xCBF43926, sent little endian (§8.3)
    for (const v of V.positive) {
      cmds.push(`crc ${v.raw.slice(0, -8) || '-'}`);
      expected.push(v.crc32);
      cmds.push(`cobs ${v.raw}`);
      expected.push(v.cobs);
      cmds.push(`unCobs ${v.cobs}`);
      expected.push(v.raw);
      cmds.push(`encode ${v.type} ${hexArg(v.body)}`);
      expected.push(v.wire);
      cmds.push(`decode ${v.cobs}`);
      expected.push(`ok ${v.type} ${v.body}`);
      cmds.push(`stream ${v.wire}`);
      expected.push(`ok ${v.type} ${v.body}\nend frames=1 badCobs=0 badCrc=0 oversize=0 tooShort=0 unknownType=0 pending=0`);
      if (v.type === 3) {
        cmds.push(`ack ${v.body}`);
        expected.push(`ok ${v.decodedBody!.dev} ${v.decodedBody!.seq}`);
      }
      if (v.type === 5) {
        cmds.push(`error ${v.body}`);
        expected.push(`ok ${v.decodedBody!.code} ${v.decodedBody!.seq ?? '-'}`);
      }
    }
    const got = runDeviceKat(cmds);
    for (let i = 0; i < cmds.length; i++) expect(got[i], cmds[i]!.slice(0, 60)).toBe(expected[i]);
    expect(V.positive.length).toBeGreaterThanOrEqual(8);
  });

  it('every negative vector is refused with its code (decodeFrame, or decodeAck after a good frame)', () => {
    const cmds: string[] = [];
    const expected: string[] = [];
    for (const v of V.negative) {
      if (v.decoder === 'decodeFrame') {
        cmds.push(`decode ${v.encoded}`);
        expected.push(v.error);
        cmds.push(`stream ${v.wire}`);
        expect(v.wire.endsWith('00')).toBe(true);
        expected.push(v.error);
      } else {
        const [ok, type, body] = runDeviceKat([`decode ${v.encoded}`])[0]!.split(' ');
        expect([ok, type]).toEqual(['ok', '3']);
        cmds.push(`ack ${body ?? '-'}`);
        expected.push(v.error);
      }
    }
    const got = runDeviceKat(cmds);
    for (let i = 0; i < cmds.length; i++) {
      // a stream answers with the drop code, then its counters
      expect(got[i]!.split('\n')[0], cmds[i]!.slice(0, 60)).toBe(expected[i]);
    }
  });

  it('seq as a float (5.0) is not the integer 5 (§2.2): an ack with it is refused by C and by decodeAck; an error body’s seq is ignored by C', () => {
    const f64 = (x: number): string => `fb${toHex(new Uint8Array(new Float64Array([x]).buffer).reverse())}`;
    const ack = toHex(encodeAck({ dev: 'oxi-01', seq: 5 }));
    const ackFloat = ack.replace('637365710' + '5', `63736571${f64(5)}`);
    const ackHalf = ack.replace('637365710' + '5', '63736571f94500');
    const error = toHex(
      encodeCanonical(
        new Map<string, string | number>([
          ['code', 'AGENT_SEQ_REPLAY'],
          ['seq', 5],
        ]),
      ),
    );
    const errorFloat = error.replace('637365710' + '5', `63736571${f64(5)}`);
    expect([ackFloat, ackHalf, errorFloat].every((h) => h.includes('6373657' + '1f'))).toBe(true);
    const got = runDeviceKat([`ack ${ack}`, `ack ${ackFloat}`, `ack ${ackHalf}`, `error ${error}`, `error ${errorFloat}`]);
    // the C error decoder keeps the code and ignores a seq that is not a uint53 (the simulator's serial link too): no refusal of reading 5
    expect(got).toEqual(['ok oxi-01 5', 'FRAME_BAD_BODY', 'FRAME_BAD_BODY', 'ok AGENT_SEQ_REPLAY 5', 'ok AGENT_SEQ_REPLAY -']);
    const tsAck = (h: string): string => {
      try {
        const a = decodeAck(fromHex(h));
        return `ok ${a.dev} ${a.seq}`;
      } catch (e) {
        return (e as { code?: string }).code ?? 'throw';
      }
    };
    expect([ack, ackFloat, ackHalf].map(tsAck)).toEqual(got.slice(0, 3));
  });

  it('encodes the status body deterministically (§2.3, §8.4), as encodeCanonical does', () => {
    const status = V.positive.find((v) => v.name === 'status')!;
    const kid = 'c4c7c33f594ff0842e9ea6d6f0f75ddb';
    const cases: { args: string; map: Map<string, string | number> }[] = [
      {
        args: 'oxi-01 online - - - -',
        map: new Map([
          ['dev', 'oxi-01'],
          ['state', 'online'],
        ]),
      },
      {
        args: `oxi-01 online - ${kid} 43 -`,
        map: new Map<string, string | number>([
          ['dev', 'oxi-01'],
          ['kid', kid],
          ['seq', 43],
          ['state', 'online'],
        ]),
      },
      {
        args: `Ward3.bed_12-oxi error TICKET_EXPIRED - - -`,
        map: new Map([
          ['dev', 'Ward3.bed_12-oxi'],
          ['code', 'TICKET_EXPIRED'],
          ['state', 'error'],
        ]),
      },
      {
        args: `oxi-01 online - ${kid} 9007199254740991 vitalseal-device-c/0.1.0`,
        map: new Map<string, string | number>([
          ['fw', 'vitalseal-device-c/0.1.0'],
          ['dev', 'oxi-01'],
          ['kid', kid],
          ['seq', 2 ** 53 - 1],
          ['state', 'online'],
        ]),
      },
      {
        // the online status with the device identity key (§3.6, §8.4 "idk": 64 hex digits), between "dev" and "kid"
        args: `oxi-01 online - ${kid} 7 vitalseal-device-c/0.1.0 ${'b7'.repeat(32)}`,
        map: new Map<string, string | number>([
          ['fw', 'vitalseal-device-c/0.1.0'],
          ['dev', 'oxi-01'],
          ['idk', 'b7'.repeat(32)],
          ['kid', kid],
          ['seq', 7],
          ['state', 'online'],
        ]),
      },
    ];
    const got = runDeviceKat(cases.map((c) => `status ${c.args}`));
    expect(got[0]).toBe(status.body);
    // the §8.8 example (kid, seq 43)
    expect(got[1]).toBe(
      'a463646576666f78692d3031636b696478206334633763333366353934666630' +
        '38343265396561366436663066373564646263736571182b657374617465666f' +
        '6e6c696e65',
    );
    for (const [i, c] of cases.entries()) expect(got[i], c.args).toBe(toHex(encodeCanonical(c.map)));
  });

  it('its stream receiver agrees with the TypeScript FrameDecoder on noisy streams (frames, drops, counters)', () => {
    const r = new Sfc32('device-c/frames/streams');
    const wires = V.positive.map((v) => fromHex(v.wire));
    const streams: Uint8Array[] = [];
    for (let s = 0; s < runs(200); s++) {
      const parts: Uint8Array[] = [];
      for (let k = 0, n = 1 + r.below(8); k < n; k++) {
        const pick = r.below(10);
        if (pick < 5) parts.push(r.pick(wires));
        else if (pick < 7)
          parts.push(r.bytes(1 + r.below(40))); // noise, maybe with delimiters
        else if (pick < 8)
          parts.push(new Uint8Array(4118 + r.below(300)).fill(0x5a)); // over-long run
        else if (pick < 9) parts.push(encodeFrame((1 + r.below(5)) as FrameType, r.bytes(r.below(300))));
        else {
          const w = new Uint8Array(r.pick(wires)); // one corrupted byte (not the delimiter)
          const at = r.below(w.length - 1);
          w[at] = w[at]! ^ (1 + r.below(255));
          parts.push(w);
        }
      }
      streams.push(Buffer.concat(parts));
    }
    const got = runDeviceKat(streams.map((s) => `stream ${toHex(s)}`));
    streams.forEach((s, i) => {
      const d = new FrameDecoder();
      const lines = d.push(s).map((x) => (x.ok ? `ok ${x.frame.type} ${toHex(x.frame.body)}` : x.code));
      const c = d.counters;
      lines.push(
        `end frames=${c.frames} badCobs=${c.badCobs} badCrc=${c.badCrc} oversize=${c.oversize} tooShort=${c.tooShort} unknownType=${c.unknownType} pending=${d.pendingBytes}`,
      );
      expect(got[i], `stream ${i}`).toBe(lines.join('\n'));
    });
  });
});

/**
 * device-c's ticket verification (docs/PROTOCOL.md §7.3, §7.4) against
 * test/vectors/vitalseal/tickets.json: every valid ticket verified with its fields, every invalid
 * one refused with its code; the §7.2/§7.1 edge cases the vectors do not cover; §7.4 use at its
 * boundaries; and a differential run against protocol/ticket's verifyTicket on tickets whose
 * payload is mutated and then SIGNED (so the payload rules, not only the signature, are reached).
 */
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { encodeCanonical, Tag } from '../../protocol/cbor/index.ts';
import { signSign1 } from '../../protocol/cose/index.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { encodeTicketPayload, issueTicket, verifyTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import { keyIdOf } from '../../protocol/keys/keyId.ts';
import { Sfc32, nextInput } from '../../fuzz/mutate.ts';
import { runs } from '../support/fuzz.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { runDeviceKat } from './deviceKat.ts';

interface Vector {
  name: string;
  ticket: string;
  fields?: { dev: string; kid: string; pk: string; nbf: number; exp: number; maxReadings?: number; idk?: string };
  verify: { deviceId: string; nowMs: number; skewSeconds: number };
  error?: string;
}
const V = JSON.parse(readFileSync(new URL('../vectors/vitalseal/tickets.json', import.meta.url), 'utf8')) as {
  inputs: { authority: { publicKey: string; secretKey: string } };
  positive: Vector[];
  negative: Vector[];
};
const AUTH_PK = V.inputs.authority.publicKey;
const cmd = (ticket: Uint8Array | string, dev: string, nowMs: number, skew = 60, auth = AUTH_PK): string =>
  `ticket ${typeof ticket === 'string' ? ticket : toHex(ticket)} ${auth} ${dev} ${nowMs} ${skew}`;

const authority = ed25519.keygen(new Uint8Array(32).fill(11));
const pk = new Uint8Array(32).fill(3);
const NOW_S = 1_750_000_000;
const FIELDS: TicketFields = { dev: 'oxi-01', kid: keyIdOf(pk), pk, patient: 'p-1', nbf: NOW_S - 100, exp: NOW_S + 100 };
const AUTH = toHex(authority.publicKey);
const sign = (payload: Uint8Array, opts: { unprotected?: Map<number, number> } = {}): Uint8Array =>
  signSign1({ payload, secretKey: authority.secretKey, ...(opts.unprotected ? { unprotected: opts.unprotected } : {}) });
const payloadOf = (entries: [string, unknown][]): Uint8Array => encodeCanonical(new Map(entries) as never);
const coseKey = new Map<number, unknown>([
  [1, 1],
  [-1, 4],
  [-2, pk],
  [3, 42],
]);
const baseEntries = (): [string, unknown][] => [
  ['v', 1],
  ['dev', 'oxi-01'],
  ['kid', keyIdOf(pk)],
  ['pk', coseKey],
  ['patient', 'p-1'],
  ['nbf', NOW_S - 100],
  ['exp', NOW_S + 100],
];

const float64 = (x: number): Uint8Array => {
  const b = new Uint8Array(9);
  b[0] = 0xfb;
  new DataView(b.buffer).setFloat64(1, x);
  return b;
};
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
/** `payload` with its canonical entry `key: int` written as `key: float` (one occurrence). */
function withFloat(payload: Uint8Array, key: string | number, int: number, float: Uint8Array): Uint8Array {
  const from = toHex(concat(encodeCanonical(key), encodeCanonical(int)));
  const hex = toHex(payload);
  const at = hex.indexOf(from);
  if (at < 0 || at % 2 !== 0) throw new Error(`withFloat: ${key} not found`);
  return concat(payload.subarray(0, at / 2), encodeCanonical(key), float, payload.subarray((at + from.length) / 2));
}

/** The code TypeScript's verifyTicket gives (the reference), or 'ok'. */
function tsCode(ticket: Uint8Array, nowMs: number): string {
  try {
    verifyTicket(ticket, { authorityPublicKey: authority.publicKey, deviceId: 'oxi-01', clock: { now: () => nowMs } });
    return 'ok';
  } catch (e) {
    if (isVitalsealError(e)) return e.code;
    throw e;
  }
}

describe.skipIf(skipDeviceC)(`device-c tickets: tickets.json and §7 ${skipDeviceCReason}`, () => {
  it('verifies every valid vector with its fields and refuses every invalid one with its code', () => {
    const all = [...V.positive, ...V.negative];
    const got = runDeviceKat(all.map((v) => cmd(v.ticket, v.verify.deviceId, v.verify.nowMs, v.verify.skewSeconds)));
    all.forEach((v, i) => {
      if (v.error) expect(got[i], v.name).toBe(v.error);
      else {
        const f = v.fields!;
        const idk = f.idk === undefined ? '' : ` idk=${f.idk}`; // a v2 vector (§7.1), when tickets.json has one
        expect(got[i], v.name).toBe(`ok ${f.kid} ${f.pk} ${f.dev} ${f.nbf} ${f.exp} ${f.maxReadings ?? '-'}${idk}`);
      }
    });
    expect(V.negative.map((v) => v.error)).toEqual(
      expect.arrayContaining(['TICKET_MALFORMED', 'TICKET_BAD_SIGNATURE', 'TICKET_WRONG_DEVICE', 'TICKET_NOT_YET_VALID', 'TICKET_EXPIRED']),
    );
  });

  it('applies the §7.2 / §7.1 rules the vectors leave out', () => {
    const tagged = issueTicket(FIELDS, authority.secretKey);
    const untagged = tagged.subarray(1); // d2 removed: 84 …
    const wrongSig = new Uint8Array(tagged);
    const cases: [string, Uint8Array, string][] = [
      ['tagged', tagged, 'ok'],
      ['untagged (accepted, §7.2)', untagged, 'ok'],
      ['unprotected parameters ignored', sign(encodeTicketPayload(FIELDS), { unprotected: new Map([[4, 7]]) }), 'ok'],
      ['label in both buckets', sign(encodeTicketPayload(FIELDS), { unprotected: new Map([[1, -8]]) }), 'TICKET_MALFORMED'],
      ['another tag (16)', Uint8Array.from([0xd0, ...untagged]), 'TICKET_MALFORMED'],
      [
        '1025 bytes',
        sign(payloadOf([...baseEntries(), ['patient', 'p'.repeat(128)]])).length > 0 ? new Uint8Array(1025) : tagged,
        'TICKET_MALFORMED',
      ],
      ['maxReadings 0', sign(payloadOf([...baseEntries(), ['maxReadings', 0]])), 'TICKET_MALFORMED'],
      ['maxReadings 2^53', sign(payloadOf([...baseEntries(), ['maxReadings', 2n ** 53n]])), 'TICKET_MALFORMED'],
      ['missing patient', sign(payloadOf(baseEntries().filter(([k]) => k !== 'patient'))), 'TICKET_MALFORMED'],
      [
        'patient with a control character',
        sign(payloadOf([...baseEntries().slice(0, 4), ['patient', 'p\u0085'], ...baseEntries().slice(5)])),
        'TICKET_MALFORMED',
      ],
      [
        'patient of 129 code points',
        sign(payloadOf([...baseEntries().slice(0, 4), ['patient', 'é'.repeat(129)], ...baseEntries().slice(5)])),
        'TICKET_MALFORMED',
      ],
      [
        'patient of 128 code points',
        sign(payloadOf([...baseEntries().slice(0, 4), ['patient', 'é'.repeat(128)], ...baseEntries().slice(5)])),
        'ok',
      ],
      [
        'COSE_Key without alg',
        sign(payloadOf([...baseEntries().slice(0, 3), ['pk', new Map([...coseKey].filter(([k]) => k !== 3))], ...baseEntries().slice(4)])),
        'TICKET_MALFORMED',
      ],
      [
        'COSE_Key alg 43',
        sign(payloadOf([...baseEntries().slice(0, 3), ['pk', new Map([...coseKey, [3, 43]])], ...baseEntries().slice(4)])),
        'TICKET_MALFORMED',
      ],
      ['integer payload key', sign(encodeCanonical(new Map<unknown, unknown>([...baseEntries(), [1, 1]]) as never)), 'TICKET_MALFORMED'],
      [
        'nbf as a negative integer',
        sign(payloadOf([...baseEntries().slice(0, 5), ['nbf', -1], ...baseEntries().slice(6)])),
        'TICKET_MALFORMED',
      ],
      [
        'signature of 63 bytes',
        (() => {
          const b = encodeCanonical(
            new Tag([Uint8Array.of(0xa1, 0x01, 0x27), new Map(), encodeTicketPayload(FIELDS), new Uint8Array(63)], 18),
          );
          return b;
        })(),
        'TICKET_BAD_SIGNATURE',
      ],
      [
        'alg ES256 (-7)',
        encodeCanonical(new Tag([Uint8Array.of(0xa1, 0x01, 0x26), new Map(), encodeTicketPayload(FIELDS), new Uint8Array(64)], 18)),
        'TICKET_MALFORMED',
      ],
      [
        'empty protected header (no alg)',
        encodeCanonical(new Tag([new Uint8Array(0), new Map(), encodeTicketPayload(FIELDS), new Uint8Array(64)], 18)),
        'TICKET_MALFORMED',
      ],
      ['signature bit flipped', ((wrongSig[wrongSig.length - 1]! ^= 0x80), wrongSig), 'TICKET_BAD_SIGNATURE'],
      // §2.2, §7.1: a float where the CDDL says an integer, even integral (the TS verifier accepted "v": 1.0 before)
      ['"v": 1.0 (float64)', sign(withFloat(encodeTicketPayload(FIELDS), 'v', 1, float64(1))), 'TICKET_MALFORMED'],
      ['"v": 1.0 (half)', sign(withFloat(encodeTicketPayload(FIELDS), 'v', 1, Uint8Array.of(0xf9, 0x3c, 0x00))), 'TICKET_MALFORMED'],
      ['"nbf" as float64', sign(withFloat(encodeTicketPayload(FIELDS), 'nbf', FIELDS.nbf, float64(FIELDS.nbf))), 'TICKET_MALFORMED'],
      ['"exp" as float64', sign(withFloat(encodeTicketPayload(FIELDS), 'exp', FIELDS.exp, float64(FIELDS.exp))), 'TICKET_MALFORMED'],
      [
        '"maxReadings" 5.0',
        sign(withFloat(encodeTicketPayload({ ...FIELDS, maxReadings: 5 }), 'maxReadings', 5, float64(5))),
        'TICKET_MALFORMED',
      ],
      ['pk COSE_Key alg 42.0', sign(withFloat(encodeTicketPayload(FIELDS), 3, 42, float64(42))), 'TICKET_MALFORMED'],
      [
        'protected alg -8.0',
        encodeCanonical(
          new Tag([concat(Uint8Array.of(0xa1, 0x01), float64(-8)), new Map(), encodeTicketPayload(FIELDS), new Uint8Array(64)], 18),
        ),
        'TICKET_MALFORMED',
      ],
      [
        'duplicate key in the unprotected header',
        Uint8Array.from([...tagged.subarray(0, 5), 0xa2, 0x04, 0x00, 0x04, 0x01, ...tagged.subarray(6)]),
        'TICKET_MALFORMED',
      ],
    ];
    const got = runDeviceKat(cases.map(([, t]) => cmd(t, 'oxi-01', NOW_S * 1000, 60, AUTH)));
    cases.forEach(([name, t, code], i) => {
      expect(got[i]!.split(' ')[0], name).toBe(code);
      expect(tsCode(t, NOW_S * 1000) === 'ok' ? 'ok' : tsCode(t, NOW_S * 1000), `reference on ${name}`).toBe(code);
    });
  });

  it('v2 tickets (§7.1, §3.6): idk is a COSE_Key X25519, present exactly in v 2; the C parser gives the reference verifier’s code', () => {
    const idk = new Uint8Array(32).fill(0x5a);
    const idkKey = new Map<number, unknown>([
      [1, 1],
      [-1, 4],
      [-2, idk],
      [3, 42],
    ]);
    const v2 = (entries: [string, unknown][]): [string, unknown][] => entries.map(([k, x]) => (k === 'v' ? [k, 2] : [k, x]));
    const cases: [string, Uint8Array, string][] = [
      ['v2 with idk (issueTicket)', issueTicket({ ...FIELDS, idk }, authority.secretKey), `ok idk=${toHex(idk)}`],
      ['v2 with idk and maxReadings', issueTicket({ ...FIELDS, idk, maxReadings: 5 }, authority.secretKey), `ok idk=${toHex(idk)}`],
      ['v2 without idk', sign(payloadOf(v2(baseEntries()))), 'TICKET_MALFORMED'],
      ['v1 with idk', sign(payloadOf([...baseEntries(), ['idk', idkKey]])), 'TICKET_MALFORMED'],
      [
        'v 3 with idk',
        sign(payloadOf([...baseEntries().map(([k, x]): [string, unknown] => (k === 'v' ? [k, 3] : [k, x])), ['idk', idkKey]])),
        'TICKET_MALFORMED',
      ],
      [
        'idk of 31 bytes',
        sign(payloadOf([...v2(baseEntries()), ['idk', new Map([...idkKey, [-2, idk.subarray(1)]])]])),
        'TICKET_MALFORMED',
      ],
      ['idk as a bare bstr', sign(payloadOf([...v2(baseEntries()), ['idk', idk]])), 'TICKET_MALFORMED'],
      ['idk COSE_Key crv Ed25519 (6)', sign(payloadOf([...v2(baseEntries()), ['idk', new Map([...idkKey, [-1, 6]])]])), 'TICKET_MALFORMED'],
      [
        'idk COSE_Key without alg',
        sign(payloadOf([...v2(baseEntries()), ['idk', new Map([...idkKey].filter(([k]) => k !== 3))]])),
        'TICKET_MALFORMED',
      ],
    ];
    const got = runDeviceKat(cases.map(([, t]) => cmd(t, 'oxi-01', NOW_S * 1000, 60, AUTH)));
    cases.forEach(([name, t, want], i) => {
      if (want.startsWith('ok')) {
        expect(got[i], name).toMatch(/^ok /);
        expect(got[i]!.endsWith(want.slice(2)), `${name}: ${got[i]}`).toBe(true);
        expect(tsCode(t, NOW_S * 1000), `reference on ${name}`).toBe('ok');
      } else {
        expect(got[i], name).toBe(want);
        expect(tsCode(t, NOW_S * 1000), `reference on ${name}`).toBe(want);
      }
    });
    // a v1 ticket has no idk= in the answer
    expect(runDeviceKat([cmd(issueTicket(FIELDS, authority.secretKey), 'oxi-01', NOW_S * 1000, 60, AUTH)])[0]).not.toContain('idk=');
  });

  it('checks use and expiry without skew (§7.4): expired, not yet valid, exhausted at their boundaries', () => {
    const t = toHex(issueTicket({ ...FIELDS, maxReadings: 3 }, authority.secretKey));
    const nbf = FIELDS.nbf * 1000;
    const exp = FIELDS.exp * 1000;
    const cases: [string, string][] = [
      [`usable ${t} ${nbf - 1} 0`, 'TICKET_NOT_YET_VALID'],
      [`usable ${t} ${nbf} 0`, 'OK'],
      [`usable ${t} ${exp - 1} 2`, 'OK'],
      [`usable ${t} ${exp} 0`, 'TICKET_EXPIRED'],
      [`usable ${t} ${nbf} 3`, 'SIM_TICKET_EXHAUSTED'],
    ];
    expect(runDeviceKat(cases.map(([c]) => c))).toEqual(cases.map(([, r]) => r));
  });

  it('gives the reference verifier’s code on signed tickets with mutated payloads', () => {
    const seeds = [
      encodeTicketPayload(FIELDS),
      encodeTicketPayload({ ...FIELDS, maxReadings: 1, dev: 'd.1', patient: '0x39358d1f67270244482a397d3004b9b68dd50412' }),
      encodeTicketPayload({ ...FIELDS, nbf: 0, exp: 2 ** 53 - 1 }),
      encodeTicketPayload({ ...FIELDS, idk: new Uint8Array(32).fill(0x5a) }), // v2 (§7.1)
    ];
    const r = new Sfc32('device-c/ticket/differential');
    const tickets: Uint8Array[] = [];
    for (let i = 0; i < runs(400); i++) tickets.push(sign(nextInput(r, seeds, 900)));
    const nowMs = NOW_S * 1000;
    const got = runDeviceKat(tickets.map((t) => cmd(t, 'oxi-01', nowMs, 60, AUTH)));
    const outcomes = new Map<string, number>();
    const mismatches: string[] = [];
    tickets.forEach((t, i) => {
      const c = got[i]!.split(' ')[0]!;
      const ts = tsCode(t, nowMs);
      outcomes.set(c, (outcomes.get(c) ?? 0) + 1);
      if (c !== ts) mismatches.push(`${toHex(t)}: C ${c}, TS ${ts}`);
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0); // the valid paths are reached
    expect(outcomes.get('TICKET_MALFORMED') ?? 0).toBeGreaterThan(0);
  }, 120_000);

  it('stays within the stack it states (device-c/README.md): peak per call, port and libsodium included', () => {
    const F = JSON.parse(readFileSync(new URL('../vectors/vitalseal/frames.json', import.meta.url), 'utf8')) as {
      positive: { name: string; body: string; wire: string }[];
    };
    const v = V.positive[0]!;
    const ack = F.positive.find((x) => x.name === 'ack')!;
    const ticketFrame = F.positive.find((x) => x.name === 'ticket')!;
    const [line] = runDeviceKat([`stack ${v.ticket} ${AUTH_PK} ${v.verify.deviceId} ${v.verify.nowMs} ${ack.body} ${ticketFrame.wire}`]);
    expect(line).not.toMatch(/failed/);
    const peak = Object.fromEntries([...line!.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    const bounds: Record<string, number> = {
      vs_ticket_verify: 6144,
      vs_ticket_parse_unsigned: 2048,
      vs_ack_decode: 1536,
      vs_error_decode: 1536,
      vs_rx_feed: 1024,
      vs_frame_encode: 1024,
      vs_status_encode: 1024,
    };
    for (const [call, bound] of Object.entries(bounds)) {
      expect(peak[call], call).toBeGreaterThan(0);
      expect(peak[call], call).toBeLessThanOrEqual(bound);
    }
  });
});

/**
 * Where the CDDL says an integer, a CBOR float is refused, even an integral one (docs/PROTOCOL.md
 * §2.2): RFC 8949 §2 makes the integer 1 and the float 1.0 different values, not two encodings of
 * one. The C reference device refuses them (TICKET_MALFORMED for a ticket, FRAME_BAD_BODY for an ack:
 * test/deviceC/ticket.test.ts and frames.test.ts compare); before this the strict decoder turned
 * both into the JS number 1 and a ticket with "v": 1.0 verified. Each format refuses with the code
 * it uses for any other malformed input; a float where the format allows one (a reading's values)
 * is still accepted, in any width. Serial status and error bodies: the kit flags a float seq in a
 * status; the simulator, as device-c, ignores a float seq in an error body and keeps its code.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { SerialPortMock } from 'serialport';
import { describe, expect, it } from 'vitest';
import { decodeStrict, encodeCanonical, Tag } from '../../protocol/cbor/index.ts';
import { encodeEncrypt0, HEADER, signSign1 } from '../../protocol/cose/index.ts';
import { decodeEnvelope, decodeEnvelopeHeaderView, decodeEnvelopeView, encodeEnvelopeProtected } from '../../protocol/envelope/index.ts';
import { decodeReading, decodeReadingStrict, encodeReading } from '../../protocol/envelope/reading.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { decodeAck, encodeAck } from '../../protocol/framing/index.ts';
import { keyIdOf } from '../../protocol/keys/keyId.ts';
import { encodeTicketPayload, issueTicket, verifyTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import { decodeTreeHead, signTreeHead } from '../../protocol/treeHead.ts';
import { decodeAccessEvent, encodeAccessEvent } from '../../protocol/log/accessEvent.ts';
import { parseSerialStatus } from '../../conform/intake.ts';
import { SerialLink } from '../../device-sim/transport/serialLink.ts';
import { FRAME_TYPE, encodeFrame } from '../../protocol/framing/index.ts';

/** The code `fn` throws ('ok' when it returns). */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (isVitalsealError(e)) return e.code;
    throw e;
  }
}

const float64 = (x: number): Uint8Array => {
  const b = new Uint8Array(9);
  b[0] = 0xfb;
  new DataView(b.buffer).setFloat64(1, x);
  return b;
};
const float32 = (x: number): Uint8Array => {
  const b = new Uint8Array(5);
  b[0] = 0xfa;
  new DataView(b.buffer).setFloat32(1, x);
  return b;
};
/** Half-precision 1.0 (0x3c00); the widths a float may take (§2.3: a receiver accepts any). */
const HALF_ONE = Uint8Array.of(0xf9, 0x3c, 0x00);

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** `bytes` with the one occurrence of `from` replaced by `to`. */
function replaceOnce(bytes: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const hex = Buffer.from(bytes).toString('hex');
  const needle = Buffer.from(from).toString('hex');
  const at = hex.indexOf(needle);
  if (at < 0 || at % 2 !== 0 || hex.indexOf(needle, at + 2) >= 0) throw new Error(`replaceOnce: ${needle} not found once`);
  return concat(bytes.subarray(0, at / 2), to, bytes.subarray(at / 2 + from.length));
}

/** `bytes` with the map entry `key: int` (canonical encodings) rewritten as `key: float`: the same map, a float where the integer was. */
const withFloat = (bytes: Uint8Array, key: string | number, int: number, float: Uint8Array): Uint8Array =>
  replaceOnce(bytes, concat(encodeCanonical(key), encodeCanonical(int)), concat(encodeCanonical(key), float));

describe('decodeStrict: where floats may be (StrictDecodeOptions.floats)', () => {
  const m = concat(Uint8Array.of(0xa2, 0x61, 0x61), float64(1), Uint8Array.of(0x61, 0x62, 0x81), float64(2.5)); // {"a": 1.0, "b": [2.5]}
  it('anywhere by default; nowhere refuses every float (CBOR_UNSUPPORTED); array-elements only inside an array', () => {
    expect(decodeStrict(m)).toEqual(
      new Map<string, unknown>([
        ['a', 1],
        ['b', [2.5]],
      ]),
    );
    expect(codeOf(() => decodeStrict(m, { floats: 'nowhere' }))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => decodeStrict(m, { floats: 'array-elements' }))).toBe('CBOR_UNSUPPORTED'); // "a": 1.0 is a map value
    const onlyInArray = concat(Uint8Array.of(0xa1, 0x61, 0x62, 0x82), HALF_ONE, float32(0.5)); // {"b": [1.0, 0.5]}
    expect(decodeStrict(onlyInArray, { floats: 'array-elements' })).toEqual(new Map([['b', [1, 0.5]]]));
    expect(codeOf(() => decodeStrict(onlyInArray, { floats: 'nowhere' }))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => decodeStrict(float64(1), { floats: 'array-elements' }))).toBe('CBOR_UNSUPPORTED'); // top level
    // false, true and null are not floats
    expect(decodeStrict(Uint8Array.of(0x83, 0xf4, 0xf5, 0xf6), { floats: 'nowhere' })).toEqual([false, true, null]);
  });
});

describe('ticket payload (§7.1): every number is an integer; a float is TICKET_MALFORMED', () => {
  const authority = ed25519.keygen(new Uint8Array(32).fill(21));
  const pk = new Uint8Array(32).fill(3);
  const NOW_S = 1_750_000_000;
  const FIELDS: TicketFields = { dev: 'oxi-01', kid: keyIdOf(pk), pk, patient: 'p-1', nbf: NOW_S - 100, exp: NOW_S + 100, maxReadings: 5 };
  const verify = (t: Uint8Array): string =>
    codeOf(() => verifyTicket(t, { authorityPublicKey: authority.publicKey, deviceId: 'oxi-01', clock: { now: () => NOW_S * 1000 } }));
  const signed = (payload: Uint8Array): Uint8Array => signSign1({ payload, secretKey: authority.secretKey });
  const payload = encodeTicketPayload(FIELDS);

  it('the integer ticket verifies (the reference for each mutation below)', () => {
    expect(verify(signed(payload))).toBe('ok');
    expect(verify(issueTicket({ ...FIELDS, idk: new Uint8Array(32).fill(9) }, authority.secretKey))).toBe('ok');
  });

  it.each([
    ['"v": 1.0 (float64)', withFloat(payload, 'v', 1, float64(1))],
    ['"v": 1.0 (half)', withFloat(payload, 'v', 1, HALF_ONE)],
    ['"nbf" as float64', withFloat(payload, 'nbf', FIELDS.nbf, float64(FIELDS.nbf))],
    ['"exp" as float64', withFloat(payload, 'exp', FIELDS.exp, float64(FIELDS.exp))],
    ['"maxReadings" as float32', withFloat(payload, 'maxReadings', 5, float32(5))],
    ['pk COSE_Key kty 1.0', withFloat(payload, 1, 1, float64(1))],
    ['pk COSE_Key alg 42.0', withFloat(payload, 3, 42, float64(42))],
  ])('%s: signed, still refused', (_name, mutated) => {
    expect(verify(signed(mutated))).toBe('TICKET_MALFORMED');
  });

  it('"v": 2.0 in a v2 ticket, and alg -8.0 in the protected header, are refused too', () => {
    const v2 = encodeTicketPayload({ ...FIELDS, idk: new Uint8Array(32).fill(9) });
    expect(verify(signed(withFloat(v2, 'v', 2, float64(2))))).toBe('TICKET_MALFORMED');
    const good = decodeStrict(issueTicket(FIELDS, authority.secretKey), { allowedTags: [18] }) as Tag;
    const [protectedBytes, unprotected, p, sig] = good.value as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
    expect(protectedBytes).toEqual(Uint8Array.of(0xa1, 0x01, 0x27));
    const floatAlg = concat(Uint8Array.of(0xa1, 0x01), float64(-8));
    expect(verify(encodeCanonical(new Tag([floatAlg, unprotected, p, sig], 18)))).toBe('TICKET_MALFORMED');
  });
});

describe('reading envelope protected header (§5.2): seq, ts, hs, m, alg are integers; a float is ENVELOPE_BAD_HEADER', () => {
  const header = { dev: 'oxi-01', seq: 7, ts: 1_767_225_600_000, st: 'spo2' };
  const envelopeWith = (protectedBytes: Uint8Array): Uint8Array =>
    encodeEncrypt0({
      protectedBytes,
      unprotected: new Map([
        [HEADER.kid, new Uint8Array(16).fill(1)],
        [HEADER.ek, new Uint8Array(32).fill(2)],
      ]),
      ciphertext: new Uint8Array(40),
    });
  /** The code of every key-less decoder (the strict one and the agent's fast-path views must agree). */
  const codes = (env: Uint8Array): string[] => [
    codeOf(() => decodeEnvelope(env)),
    codeOf(() => decodeEnvelopeView(env)),
    codeOf(() => decodeEnvelopeHeaderView(env)),
  ];
  const base = encodeEnvelopeProtected(header);
  const session = encodeEnvelopeProtected(header, 3, true);

  it('the integer header decodes on every path', () => {
    expect(codes(envelopeWith(base))).toEqual(['ok', 'ok', 'ok']);
    expect(codes(envelopeWith(session))).toEqual(['ok', 'ok', 'ok']);
  });

  it.each([
    ['seq 7.0', withFloat(base, 'seq', 7, float64(7))],
    ['seq 7.0 (half)', withFloat(base, 'seq', 7, Uint8Array.of(0xf9, 0x47, 0x00))],
    ['ts as float64', withFloat(base, 'ts', header.ts, float64(header.ts))],
    ['alg 42.0', withFloat(base, 1, 42, float64(42))],
    ['hs 3.0', withFloat(session, 'hs', 3, float64(3))],
    ['m 2.0', withFloat(session, 'm', 2, float64(2))],
  ])('%s', (_name, protectedBytes) => {
    expect(codes(envelopeWith(protectedBytes))).toEqual(['ENVELOPE_BAD_HEADER', 'ENVELOPE_BAD_HEADER', 'ENVELOPE_BAD_HEADER']);
  });
});

describe('reading plaintext (§4.1): "ts" is an integer, the values "v" may be floats', () => {
  const reading = { st: 'spo2', ts: 1_767_225_600_000, v: [97, 72], u: '%,bpm' };
  const plain = encodeReading(reading);

  it('"ts" as a float is READING_INVALID (fast and strict path)', () => {
    const mutated = withFloat(plain, 'ts', reading.ts, float64(reading.ts));
    expect(codeOf(() => decodeReading(mutated))).toBe('READING_INVALID');
    expect(codeOf(() => decodeReadingStrict(mutated))).toBe('READING_INVALID');
  });

  it('a value as a float of any width is still a reading (reading-value = int53 / finite-float)', () => {
    // "v": [97, 72] → [1.0 (half), 72]
    const halfValue = replaceOnce(plain, Uint8Array.of(0x61, 0x76, 0x82, 0x18, 0x61), concat(Uint8Array.of(0x61, 0x76, 0x82), HALF_ONE));
    expect(decodeReading(halfValue)).toEqual({ ...reading, v: [1, 72] });
    expect(decodeReadingStrict(halfValue)).toEqual({ ...reading, v: [1, 72] });
    const f64 = encodeReading({ ...reading, v: [97.5, 72] });
    expect(decodeReading(f64).v).toEqual([97.5, 72]);
  });
});

describe('ack body (§8.4): seq is a uint53; a float is FRAME_BAD_BODY', () => {
  it('seq 5.0 refused, seq 5 accepted', () => {
    const ack = encodeAck({ dev: 'oxi-01', seq: 5 });
    expect(decodeAck(ack)).toEqual({ dev: 'oxi-01', seq: 5 });
    expect(codeOf(() => decodeAck(withFloat(ack, 'seq', 5, float64(5))))).toBe('FRAME_BAD_BODY');
    expect(codeOf(() => decodeAck(withFloat(ack, 'seq', 5, Uint8Array.of(0xf9, 0x45, 0x00))))).toBe('FRAME_BAD_BODY'); // half 5.0
  });
});

describe('signed tree head (§11.4): size and ts are integers; a float is TREE_HEAD_MALFORMED', () => {
  it('size 3.0 refused', () => {
    const key = ed25519.keygen(new Uint8Array(32).fill(4));
    const head = { logId: new Uint8Array(32).fill(5), size: 3, root: new Uint8Array(32).fill(6), ts: 1_767_225_660_000 };
    const sth = signTreeHead(head, key.secretKey);
    expect(decodeTreeHead(sth)).toEqual(head);
    const payload = (decodeStrict(sth, { allowedTags: [18] }) as Tag).value as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
    const mutated = signSign1({ payload: withFloat(payload[2], 'size', 3, float64(3)), secretKey: key.secretKey });
    expect(codeOf(() => decodeTreeHead(mutated))).toBe('TREE_HEAD_MALFORMED');
  });
});

describe('serial status and error bodies (§8.4): seq is a uint53', () => {
  it('the conformance kit flags a status whose seq is a float (a problem of the status, STAT-01’s evidence)', () => {
    const status = encodeCanonical(
      new Map<string, string | number>([
        ['dev', 'oxi-01'],
        ['seq', 43],
        ['state', 'online'],
      ]),
    );
    expect(parseSerialStatus(status).problems).toEqual([]);
    expect(parseSerialStatus(withFloat(status, 'seq', 43, float64(43))).problems).toEqual(['not strict CBOR (CBOR_UNSUPPORTED)']);
  });

  it('the simulator’s serial link takes an error body’s code but not a float seq (as device-c: no refusal of reading 5)', async () => {
    const mock = SerialPortMock.binding;
    const path = '/dev/integer-fields-error';
    mock.createPort(path, { record: true });
    let port: { emitData(d: Buffer): void } | undefined;
    const binding = {
      ...mock,
      list: () => mock.list(),
      open: async (o: Parameters<typeof mock.open>[0]) => (port = (await mock.open(o)) as unknown as typeof port),
    };
    const rejected: Array<[number | undefined, string]> = [];
    const link = new SerialLink(
      { path, deviceId: 'wire-1', binding },
      { onDown() {}, onAck() {}, onRejected: (seq, code) => rejected.push([seq, code]), onTicket() {} },
    );
    await link.open();
    const error = encodeCanonical(
      new Map<string, string | number>([
        ['code', 'AGENT_SEQ_REPLAY'],
        ['seq', 5],
      ]),
    );
    for (const body of [error, withFloat(error, 'seq', 5, float64(5))]) port!.emitData(Buffer.from(encodeFrame(FRAME_TYPE.error, body)));
    await new Promise((r) => setTimeout(r, 30));
    await link.close('graceful');
    mock.reset();
    expect(rejected).toEqual([
      [5, 'AGENT_SEQ_REPLAY'],
      [undefined, 'AGENT_SEQ_REPLAY'],
    ]);
  });
});

describe('access event (§12): every number is an integer; a float makes it not an access event', () => {
  it('"v": 1.0 or "ts" as a float: decodeAccessEvent gives undefined', () => {
    const body = encodeAccessEvent({ t: 'escrow', patient: `0x${'ab'.repeat(20)}`, ts: 1_767_225_600_000 });
    expect(decodeAccessEvent(body)).toMatchObject({ v: 1, t: 'escrow', ts: 1_767_225_600_000 });
    expect(decodeAccessEvent(withFloat(body, 'v', 1, HALF_ONE))).toBeUndefined();
    expect(decodeAccessEvent(withFloat(body, 'ts', 1_767_225_600_000, float64(1_767_225_600_000)))).toBeUndefined();
  });
});

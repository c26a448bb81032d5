import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex, utf8 } from '../../protocol/bytes.ts';
import { decodeEncrypt0, encodeEncrypt0 } from '../../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  decodeEnvelopeHeaderView,
  decodeEnvelopeView,
  ENVELOPE_MAX_BYTES,
  SENSOR_TYPE_PATTERN,
  sealReading,
  tryDecodeCanonicalEnvelope,
  tryDecodeCanonicalHeader,
  type DecodedEnvelope,
  type EnvelopeHeaderFields,
  type Reading,
  type ReadingHeader,
} from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { DEVICE_ID_REGEX } from '../../protocol/deviceId.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { FUZZ_RUNS, mutatedBytes, outcome, randomBytes } from './fuzzInputs.ts';
import { runs } from '../support/fuzz.ts';

const node = createHpke('node');
const recipientPair = node.deriveKeyPair(utf8('patient:fast-path-recipient-000000000'));
const recipient = { publicKey: recipientPair.publicKey, kid: keyIdOf(recipientPair.publicKey) };
/** A device identity secret key (HPKE Auth mode, issue #20). */
const IDENTITY = node.deriveKeyPair(utf8('device:fast-path-identity-key-0000000000')).secretKey;
const TS = 1_700_000_000_000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------
// The property every test below checks
// ---------------------------------------------------------------------------

type StrictResult = { ok: DecodedEnvelope } | { code: string };

function runStrict(f: () => DecodedEnvelope): StrictResult {
  let ok: DecodedEnvelope | undefined;
  const code = outcome(() => {
    ok = f();
  });
  return ok !== undefined ? { ok } : { code };
}

/**
 * A decoded envelope as comparable data: each byte field as its class and hex. (Not toStrictEqual on the
 * arrays themselves: cbor-x caches a `dataView` own property on every array it decodes, so the strict
 * decoder's protectedBytes carries one; the fast path never decodes with cbor-x and adds none.)
 */
const bytesOf = (b: Uint8Array) => ({ class: b.constructor, hex: toHex(b) });
const comparable = (d: Omit<DecodedEnvelope, 'recordId'> & { recordId?: Uint8Array }) => ({
  header: d.header,
  protectedBytes: bytesOf(d.protectedBytes),
  kid: bytesOf(d.kid),
  enc: bytesOf(d.enc),
  ciphertext: bytesOf(d.ciphertext),
  ...(d.recordId === undefined ? {} : { recordId: bytesOf(d.recordId) }),
});
const withoutRecordId = ({ recordId: _, ...rest }: DecodedEnvelope) => rest;

/** The header view's fields as comparable data (its kid may be a view: compared by value). */
const headerOf = (d: { header: object; kid: Uint8Array; recordId: Uint8Array }) => ({
  header: d.header,
  kid: toHex(d.kid),
  recordId: toHex(d.recordId),
});

/**
 * The fast path's contract, for one input: non-null implies decodeEnvelope succeeds with
 * deep-equal (same classes) owned fields; decodeEnvelopeView equals decodeEnvelope (result, or
 * error code) with recordId = SHA-256(bytes); tryDecodeCanonicalHeader takes the fast path exactly
 * when tryDecodeCanonicalEnvelope does, and decodeEnvelopeHeaderView gives decodeEnvelope's header,
 * kid and recordId (or its error code). Returns which way the fast path went.
 */
function checkAgainstStrict(bytes: Uint8Array, maxBytes?: number): 'fast' | 'fallback-ok' | 'fallback-error' {
  const limits = maxBytes === undefined ? {} : { maxBytes };
  const fast = tryDecodeCanonicalEnvelope(bytes, maxBytes);
  const fastHeader = tryDecodeCanonicalHeader(bytes, maxBytes);
  const strict = runStrict(() => decodeEnvelope(bytes, limits));
  const view = runStrict(() => decodeEnvelopeView(bytes, limits));
  let headerView: ReturnType<typeof headerOf> | undefined;
  const headerCode = outcome(() => {
    headerView = headerOf(decodeEnvelopeHeaderView(bytes, limits));
  });
  expect(fastHeader === null).toBe(fast === null);
  if ('code' in strict) {
    expect(fast).toBeNull();
    expect(view).toEqual({ code: strict.code });
    expect(headerView).toBeUndefined();
    expect(headerCode).toBe(strict.code);
    return 'fallback-error';
  }
  expect(headerView).toStrictEqual(headerOf(strict.ok));
  if (fastHeader !== null)
    expect({ header: fastHeader.header, kid: toHex(fastHeader.kid) }).toStrictEqual({
      header: strict.ok.header,
      kid: toHex(strict.ok.kid),
    });
  expect('ok' in view).toBe(true);
  if (!('ok' in view)) return 'fallback-error';
  expect(comparable(view.ok)).toStrictEqual(comparable(strict.ok));
  expect(toHex(view.ok.recordId)).toBe(toHex(sha256(bytes)));
  if (fast === null) return 'fallback-ok';
  expect(Object.keys(fast).sort()).toEqual(['ciphertext', 'enc', 'header', 'kid', 'protectedBytes']);
  expect(comparable(fast)).toStrictEqual(comparable(withoutRecordId(strict.ok)));
  for (const field of [fast.kid, fast.enc, fast.ciphertext, fast.protectedBytes]) expect(field.buffer).not.toBe(bytes.buffer);
  return 'fast';
}

// ---------------------------------------------------------------------------
// Hand-built envelope bytes (no HPKE needed: the decoders are key-less)
// ---------------------------------------------------------------------------

type Bytes = readonly number[] | Uint8Array;
const cat = (...parts: Bytes[]): Uint8Array => concatBytes(...parts.map((p) => Uint8Array.from(p)));

/** A CBOR head; `extra` = argument bytes (0, 1, 2, 4, 8), shortest when omitted or too small. */
function head(major: number, value: number | bigint, extra?: number): number[] {
  const v = BigInt(value);
  const shortest = v < 24n ? 0 : v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8;
  const size = extra === undefined || extra < shortest ? shortest : extra;
  if (size === 0) return [(major << 5) | Number(v)];
  const out = [(major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[size as 1 | 2 | 4 | 8]];
  for (let i = size - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}
const uint = (v: number | bigint, extra?: number) => head(0, v, extra);
const text = (s: string, extra?: number) => {
  const b = utf8(s);
  return cat(head(3, b.length, extra), b);
};
const bstr = (b: Uint8Array, extra?: number) => cat(head(2, b.length, extra), b);
const filled = (n: number, byte: number) => new Uint8Array(n).fill(byte);

type Entry = readonly [Bytes, Bytes];

/** Protected entries in encodeEnvelopeProtected's order: 1, "hs", "st", "ts", "dev", "seq". */
function canonicalEntries(h: EnvelopeHeaderFields): Entry[] {
  return [
    [uint(1), uint(42)],
    ...(h.hs === undefined ? [] : [[text('hs'), uint(h.hs)] as const]),
    [text('st'), text(h.st)],
    [text('ts'), uint(h.ts)],
    [text('dev'), text(h.dev)],
    [text('seq'), uint(h.seq)],
  ];
}

interface EnvelopeParts {
  tag?: Bytes;
  array?: Bytes;
  mapHead?: Bytes;
  entries: readonly Entry[];
  /** replaces the whole protected map content (then mapHead/entries are ignored) */
  protectedContent?: Uint8Array;
  protectedExtra?: number;
  unprotected?: Bytes;
  ciphertext?: Bytes;
  trailing?: Bytes;
}

const KID = filled(16, 0x4b);
const EK = filled(32, 0xe4);
const CANONICAL_UNPROTECTED = cat([0xa2, 0x04], bstr(KID), [0x23], bstr(EK));

function buildEnvelope(p: EnvelopeParts): Uint8Array {
  const content = p.protectedContent ?? cat(p.mapHead ?? head(5, p.entries.length), ...p.entries.flat());
  return cat(
    p.tag ?? [0xd0],
    p.array ?? [0x83],
    bstr(content, p.protectedExtra),
    p.unprotected ?? CANONICAL_UNPROTECTED,
    p.ciphertext ?? bstr(filled(24, 0xc7)),
    p.trailing ?? [],
  );
}

const HEADER: EnvelopeHeaderFields = { dev: 'spo2-0001', seq: 5, ts: TS, st: 'spo2' };
const baseParts = (): EnvelopeParts => ({ entries: canonicalEntries(HEADER) });
const withEntry = (index: number, entry: Entry): EnvelopeParts => {
  const entries = canonicalEntries(HEADER);
  entries[index] = entry;
  return { entries };
};

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

/** uints across every head-size boundary, up to Number.MAX_SAFE_INTEGER. */
const safeUint = fc.oneof(
  fc.constantFrom(0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, MAX_SAFE - 1, MAX_SAFE),
  fc.nat({ max: 0xffff }),
  fc.nat(),
  fc.maxSafeNat(),
);
const deviceId = fc.stringMatching(DEVICE_ID_REGEX);
const sensorType = fc.stringMatching(SENSOR_TYPE_PATTERN);
const readingHeader = fc.record({ dev: deviceId, seq: safeUint, ts: safeUint, st: sensorType });
const readingOf = (h: ReadingHeader, v: number[]): Reading => ({ st: h.st, ts: h.ts, v, u: 'mV' });
const values = fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 });

/** Text that is often a valid id and often just not (bad first char, '/', ':', non-ASCII, newline, too long, empty). */
const nearIdentifierWith = (valid: fc.Arbitrary<string>, validWeight: number) =>
  fc.oneof(
    { arbitrary: valid, weight: validWeight },
    {
      arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', '.', '_', '-', ':', '/', ' ', '\n', 'é', '\u0000', '#'), maxLength: 70 }),
      weight: 3,
    },
    {
      arbitrary: fc.constantFrom('', 'a'.repeat(32), 'a'.repeat(33), 'a'.repeat(64), 'a'.repeat(65), 'dev\n', ':dev', '-x', 'a:b', 'A9'),
      weight: 1,
    },
  );
const nearIdentifier = fc.oneof(nearIdentifierWith(deviceId, 4), sensorType);

/** A uint value of the header: mostly safe, sometimes above MAX_SAFE (still a CBOR uint), encoded shortest or not. */
const headerUintBytes = fc
  .tuple(
    fc.oneof(
      { arbitrary: safeUint.map((n) => BigInt(n)), weight: 8 },
      { arbitrary: fc.bigInt({ min: BigInt(MAX_SAFE) + 1n, max: 2n ** 64n - 1n }), weight: 1 },
    ),
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: fc.constantFrom(1, 2, 4, 8), weight: 1 }),
  )
  .map(([v, extra]) => uint(v, extra));

/** A header value of the wrong kind now and then. */
const oddValue = fc.constantFrom<Bytes>(
  [0x20],
  [0x38, 0x18],
  [0xf6],
  [0xf5],
  [0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
  [0x40],
  [0x80],
  [0xa0],
  [0x61, 0x31],
  [0xc1, 0x00],
);
const withOdd = (a: fc.Arbitrary<Bytes>) => fc.oneof({ arbitrary: a, weight: 30 }, { arbitrary: oddValue, weight: 1 });
const textBytes = (valid: fc.Arbitrary<string>) =>
  fc
    .tuple(
      nearIdentifierWith(valid, 30),
      fc.oneof({ arbitrary: fc.constant(undefined), weight: 20 }, { arbitrary: fc.constantFrom(1, 2), weight: 1 }),
    )
    .map(([s, extra]) => text(s, extra));

/** Envelopes that are canonical in most places and off in a few: the boundary the fast path decides on. */
const nearCanonicalEnvelope: fc.Arbitrary<{ bytes: Uint8Array; maxBytes: number | undefined }> = fc
  .record({
    tag: fc.oneof(
      { arbitrary: fc.constant<Bytes>([0xd0]), weight: 6 },
      { arbitrary: fc.constant<Bytes>([]), weight: 3 },
      { arbitrary: fc.constantFrom<Bytes>([0xd8, 0x10], [0xd2], [0xc6], [0xd0, 0xd0]), weight: 1 },
    ),
    array: fc.oneof(
      { arbitrary: fc.constant<Bytes>([0x83]), weight: 12 },
      { arbitrary: fc.constantFrom<Bytes>([0x98, 0x03], [0x82], [0x84], [0x9f]), weight: 1 },
    ),
    alg: fc.oneof(
      { arbitrary: fc.constant<Bytes>(uint(42)), weight: 12 },
      { arbitrary: fc.constantFrom<Bytes>(uint(42, 2), uint(24), [0x38, 0x29], text('HPKE-4')), weight: 1 },
    ),
    hs: fc.option(withOdd(headerUintBytes), { nil: undefined }),
    st: withOdd(textBytes(sensorType)),
    ts: withOdd(headerUintBytes),
    dev: withOdd(textBytes(deviceId)),
    seq: withOdd(headerUintBytes),
    entryEdit: fc.oneof(
      { arbitrary: fc.constant({ kind: 'none' as const, i: 0, j: 0 }), weight: 12 },
      {
        arbitrary: fc.record({
          kind: fc.constantFrom('swap' as const, 'drop' as const, 'duplicate' as const, 'extra' as const, 'textAlg' as const),
          i: fc.nat(),
          j: fc.nat(),
        }),
        weight: 3,
      },
    ),
    mapHeadEdit: fc.oneof(
      { arbitrary: fc.constant('count' as const), weight: 12 },
      { arbitrary: fc.constantFrom('plus1' as const, 'minus1' as const, 'wide' as const, 'indefinite' as const), weight: 1 },
    ),
    protectedEdit: fc.oneof({ arbitrary: fc.constant(0), weight: 12 }, { arbitrary: fc.constantFrom(-1, 1, 2, 100), weight: 1 }),
    unprotected: fc.oneof(
      { arbitrary: fc.constant<Bytes>(CANONICAL_UNPROTECTED), weight: 12 },
      {
        arbitrary: fc.constantFrom<Bytes>(
          cat([0xa2, 0x23], bstr(EK), [0x04], bstr(KID)),
          cat([0xa2, 0x04], bstr(KID, 1), [0x23], bstr(EK)),
          cat([0xa2, 0x04], bstr(KID), [0x23], bstr(EK, 2)),
          cat([0xa2, 0x04], bstr(filled(15, 1)), [0x23], bstr(EK)),
          cat([0xa2, 0x04], bstr(KID), [0x23], bstr(filled(33, 1))),
          cat([0xa3, 0x04], bstr(KID), [0x23], bstr(EK), [0x05], bstr(filled(12, 1))),
          cat([0xb8, 0x02, 0x04], bstr(KID), [0x23], bstr(EK)),
          cat([0xa2, 0x04], bstr(KID), [0x24], bstr(EK)),
          cat([0xa2, 0x01], bstr(KID), [0x23], bstr(EK)),
          cat([0xa1, 0x04], bstr(KID)),
        ),
        weight: 1,
      },
    ),
    ciphertextLength: fc.oneof(
      { arbitrary: fc.constantFrom(15, 16, 17, 23, 24, 255, 256, 300), weight: 6 },
      { arbitrary: fc.nat({ max: 40 }), weight: 1 },
    ),
    ciphertextExtra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: fc.constantFrom(1, 2, 4), weight: 1 }),
    trailing: fc.oneof(
      { arbitrary: fc.constant<Bytes>([]), weight: 12 },
      { arbitrary: fc.constantFrom<Bytes>([0x00], [0xff], [0x40]), weight: 1 },
    ),
    maxBytes: fc.oneof(
      { arbitrary: fc.constant<'default' | 'exact' | 'less' | 'more'>('default'), weight: 6 },
      { arbitrary: fc.constantFrom('exact' as const, 'less' as const, 'more' as const), weight: 1 },
    ),
  })
  .map((r) => {
    let entries: Entry[] = [
      [uint(1), r.alg],
      ...(r.hs === undefined ? [] : [[text('hs'), r.hs] as const]),
      [text('st'), r.st],
      [text('ts'), r.ts],
      [text('dev'), r.dev],
      [text('seq'), r.seq],
    ];
    const { kind, i, j } = r.entryEdit;
    const a = i % entries.length;
    const b = j % entries.length;
    if (kind === 'swap') [entries[a], entries[b]] = [entries[b]!, entries[a]!];
    else if (kind === 'drop') entries.splice(a, 1);
    else if (kind === 'duplicate') entries.splice(b, 0, entries[a]!);
    else if (kind === 'extra') entries.splice(b, 0, [[uint(4), text('extra'), [0x20], text('zz'), text('dev ')][a % 5]!, uint(1)]);
    else if (kind === 'textAlg') entries = entries.map((e, k) => (k === 0 ? [text('alg'), e[1]] : e));
    const n = entries.length;
    const body = cat(...entries.flat());
    const protectedContent = {
      count: cat(head(5, n), body),
      plus1: cat(head(5, n + 1), body),
      minus1: cat(head(5, Math.max(0, n - 1)), body),
      wide: cat(head(5, n, 1), body),
      indefinite: cat([0xbf], body, [0xff]),
    }[r.mapHeadEdit];
    const pBytes =
      r.protectedEdit === 0
        ? bstr(protectedContent)
        : r.protectedEdit === 100
          ? bstr(protectedContent, 2)
          : cat(head(2, Math.max(0, protectedContent.length + r.protectedEdit)), protectedContent);
    const bytes = cat(r.tag, r.array, pBytes, r.unprotected, bstr(filled(r.ciphertextLength, 0x5a), r.ciphertextExtra), r.trailing);
    const maxBytes = { default: undefined, exact: bytes.length, less: bytes.length - 1, more: ENVELOPE_MAX_BYTES * 2 }[r.maxBytes];
    return { bytes, maxBytes };
  });

// ---------------------------------------------------------------------------
// (a) what the sealers emit takes the fast path
// ---------------------------------------------------------------------------

describe('tryDecodeCanonicalEnvelope: envelopes sealed by vitalseal take the fast path', () => {
  const SEAL_RUNS = runs(1_000);

  it('sealReading (tagged) with random device ids, sensor types, seq and ts up to MAX_SAFE_INTEGER: non-null and deep-equal to decodeEnvelope', () => {
    const rng = seededRng('fast-path-single-shot');
    fc.assert(
      fc.property(readingHeader, values, (h, v) => {
        const bytes = sealReading({ reading: readingOf(h, v), header: h, recipient, hpke: node, rng });
        expect(bytes[0]).toBe(0xd0);
        expect(checkAgainstStrict(bytes)).toBe('fast');
        expect(tryDecodeCanonicalEnvelope(bytes)!.header).toStrictEqual({ alg: 42, ...h });
      }),
      { numRuns: SEAL_RUNS },
    );
  });

  it('the same envelopes re-encoded untagged (sealReading itself always tags): non-null and deep-equal', () => {
    const rng = seededRng('fast-path-untagged');
    fc.assert(
      fc.property(readingHeader, values, (h, v) => {
        const m = decodeEncrypt0(sealReading({ reading: readingOf(h, v), header: h, recipient, hpke: node, rng }));
        const untagged = encodeEncrypt0(m, { tagged: false });
        expect(untagged[0]).toBe(0x83);
        expect(checkAgainstStrict(untagged)).toBe('fast');
      }),
      { numRuns: SEAL_RUNS },
    );
  });

  it('session sealer (hs = 0, 1, 2, ...) with random headers: non-null and deep-equal, hs included', () => {
    const sealer = createSessionSealer({ recipient, hpke: node, rng: seededRng('fast-path-session') });
    fc.assert(
      fc.property(readingHeader, values, (h, v) => {
        const hs = sealer.nextHs;
        const bytes = sealer.seal({ reading: readingOf(h, v), header: h });
        expect(checkAgainstStrict(bytes)).toBe('fast');
        expect(tryDecodeCanonicalEnvelope(bytes)!.header).toStrictEqual({ alg: 42, ...h, hs });
      }),
      { numRuns: SEAL_RUNS },
    );
  });

  it('HPKE Auth mode (issue #20): single-shot ("m": 2) and session ("m": 2 and hs) take the fast path, deep-equal, m included', () => {
    const rng = seededRng('fast-path-auth');
    const authSession = createSessionSealer({ recipient, hpke: node, rng, senderSecretKey: IDENTITY });
    fc.assert(
      fc.property(readingHeader, values, (h, v) => {
        const single = sealReading({ reading: readingOf(h, v), header: h, recipient, hpke: node, rng, senderSecretKey: IDENTITY });
        expect(checkAgainstStrict(single)).toBe('fast');
        expect(tryDecodeCanonicalEnvelope(single)!.header).toStrictEqual({ alg: 42, ...h, m: 2 });
        const hs = authSession.nextHs;
        const inSession = authSession.seal({ reading: readingOf(h, v), header: h });
        expect(checkAgainstStrict(inSession)).toBe('fast');
        expect(tryDecodeCanonicalEnvelope(inSession)!.header).toStrictEqual({ alg: 42, ...h, hs, m: 2 });
      }),
      { numRuns: SEAL_RUNS },
    );
  });

  it('the extremes: 64-char dev, 32-char st, seq/ts/hs = MAX_SAFE_INTEGER, a 400-value reading', () => {
    const h = { dev: 'D'.repeat(64), seq: MAX_SAFE, ts: MAX_SAFE, st: 's'.repeat(32) };
    const big = sealReading({
      reading: readingOf(
        h,
        Array.from({ length: 400 }, (_, i) => i + 0.1),
      ),
      header: h,
      recipient,
      hpke: node,
      rng: seededRng('x'),
    });
    expect(checkAgainstStrict(big)).toBe('fast');
    // hs = MAX_SAFE cannot come out of a real session (2^53 seals), so build it by hand
    expect(checkAgainstStrict(buildEnvelope({ entries: canonicalEntries({ ...h, hs: MAX_SAFE }) }))).toBe('fast');
    expect(checkAgainstStrict(buildEnvelope({ entries: canonicalEntries({ ...HEADER, hs: 0 }) }))).toBe('fast');
  });

  it('the hand builder used below reproduces sealReading byte for byte', () => {
    const bytes = sealReading({ reading: readingOf(HEADER, [97]), header: HEADER, recipient, hpke: node, rng: seededRng('builder') });
    const d = decodeEnvelope(bytes);
    const rebuilt = cat(
      [0xd0, 0x83],
      bstr(cat(head(5, 5), ...canonicalEntries(HEADER).flat())),
      [0xa2, 0x04],
      bstr(d.kid),
      [0x23],
      bstr(d.enc),
      bstr(d.ciphertext),
    );
    expect(toHex(rebuilt)).toBe(toHex(bytes));
  });

  it('hand-built headers: the fast path accepts dev/st exactly when DEVICE_ID_PATTERN / SENSOR_TYPE_PATTERN do', () => {
    fc.assert(
      fc.property(nearIdentifier, nearIdentifier, (dev, st) => {
        const bytes = buildEnvelope({ entries: canonicalEntries({ ...HEADER, dev, st }) });
        const fast = tryDecodeCanonicalEnvelope(bytes);
        expect(fast !== null).toBe(DEVICE_ID_REGEX.test(dev) && SENSOR_TYPE_PATTERN.test(st));
        checkAgainstStrict(bytes);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

// ---------------------------------------------------------------------------
// (b) differential fuzz: non-null implies strict success with equal fields; the view equals the strict decoder
// ---------------------------------------------------------------------------

describe('fast path vs decodeEnvelope, differential fuzz', () => {
  const rng = seededRng('fast-path-fuzz');
  const sealer = createSessionSealer({ recipient, hpke: node, rng });
  const authSealer = createSessionSealer({ recipient, hpke: node, rng, senderSecretKey: IDENTITY });
  const seal = (h: ReadingHeader, v: number[] = [97, 96.5]) =>
    sealReading({ reading: readingOf(h, v), header: h, recipient, hpke: node, rng });
  const tagged = seal(HEADER);
  const seeds = [
    tagged,
    encodeEncrypt0(decodeEncrypt0(tagged), { tagged: false }),
    seal(
      { dev: 'ecg-7', seq: 2 ** 32, ts: MAX_SAFE, st: 'ecg' },
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
    ),
    seal({ dev: 'x'.repeat(64), seq: 23, ts: 24, st: 'y'.repeat(32) }),
    sealer.seal({ reading: readingOf(HEADER, [1]), header: HEADER }),
    sealer.seal({ reading: readingOf({ ...HEADER, seq: 6 }, [2]), header: { ...HEADER, seq: 6 } }),
    // HPKE Auth mode ("m": 2; issue #20): single-shot, and a session (map(7): m and hs)
    sealReading({ reading: readingOf(HEADER, [3]), header: HEADER, recipient, hpke: node, rng, senderSecretKey: IDENTITY }),
    authSealer.seal({ reading: readingOf({ ...HEADER, seq: 8 }, [4]), header: { ...HEADER, seq: 8 } }),
  ];

  /** Mutations aimed at heads and lengths: +-1..3 on one byte, deletion and duplication of one byte, all in the first 120 bytes. */
  const lengthAndHeadMutations = fc
    .tuple(fc.constantFrom(...seeds), fc.nat({ max: 119 }), fc.constantFrom(-3, -2, -1, 1, 2, 3, 'delete' as const, 'duplicate' as const))
    .map(([s, at, op]) => {
      const p = at % s.length;
      if (op === 'delete') return cat(s.subarray(0, p), s.subarray(p + 1));
      if (op === 'duplicate') return cat(s.subarray(0, p + 1), s.subarray(p));
      const out = new Uint8Array(s);
      out[p] = (out[p]! + op + 256) & 0xff;
      return out;
    });

  const tally = () => ({ fast: 0, 'fallback-ok': 0, 'fallback-error': 0 });

  it('seeds are all on the fast path', () => {
    for (const s of seeds) expect(checkAgainstStrict(s)).toBe('fast');
  });

  it(`${FUZZ_RUNS} mutated sealed envelopes (bit flips, truncation, insertion, overwrite, appended bytes): the contract holds`, () => {
    const seen = tally();
    fc.assert(
      fc.property(mutatedBytes(seeds), (b) => void seen[checkAgainstStrict(b)]++),
      { numRuns: FUZZ_RUNS },
    );
    expect(seen.fast).toBeGreaterThan(100); // flips in the ciphertext keep the layout canonical
    expect(seen['fallback-error']).toBeGreaterThan(100);
  });

  it(`${FUZZ_RUNS} header/length mutations (byte +-1..3, byte deleted or duplicated): the contract holds`, () => {
    const seen = tally();
    fc.assert(
      fc.property(lengthAndHeadMutations, (b) => void seen[checkAgainstStrict(b)]++),
      { numRuns: FUZZ_RUNS },
    );
    expect(seen.fast).toBeGreaterThan(1_000); // kid / ek bytes stay canonical
    expect(seen['fallback-error']).toBeGreaterThan(1_000);
  });

  it(`${FUZZ_RUNS} random byte strings: the contract holds`, () => {
    fc.assert(
      fc.property(randomBytes(), (b) => void checkAgainstStrict(b)),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`${FUZZ_RUNS} near-canonical hand-built envelopes (odd tags, widths, key orders, labels, lengths, maxBytes): the contract holds on every branch`, () => {
    const seen = tally();
    fc.assert(
      fc.property(nearCanonicalEnvelope, ({ bytes, maxBytes }) => void seen[checkAgainstStrict(bytes, maxBytes)]++),
      { numRuns: FUZZ_RUNS },
    );
    expect(seen.fast).toBeGreaterThan(500);
    expect(seen['fallback-ok']).toBeGreaterThan(100); // valid but not canonical: the strict decoder takes them
    expect(seen['fallback-error']).toBeGreaterThan(500);
  });
});

// ---------------------------------------------------------------------------
// (c) hand-written cases off the canonical layout
// ---------------------------------------------------------------------------

describe('tryDecodeCanonicalEnvelope returns null off the canonical layout', () => {
  /** Null from the fast path, and the strict outcome it falls back to. */
  const nullWith = (bytes: Uint8Array, maxBytes?: number) => {
    expect(tryDecodeCanonicalEnvelope(bytes, maxBytes)).toBeNull();
    const result = checkAgainstStrict(bytes, maxBytes);
    return result === 'fallback-ok' ? 'ok' : outcome(() => decodeEnvelope(bytes, maxBytes === undefined ? {} : { maxBytes }));
  };
  const SEQ = 5; // index of "seq" in canonicalEntries(HEADER)

  it('the hand-built canonical envelope itself is accepted (baseline for the cases below)', () => {
    expect(checkAgainstStrict(buildEnvelope(baseParts()))).toBe('fast');
    expect(checkAgainstStrict(buildEnvelope({ ...baseParts(), tag: [] }))).toBe('fast');
  });

  it('non-canonical integer: seq 5 as 0x18 0x05 (strict accepts it, so the fallback does)', () => {
    const bytes = buildEnvelope(withEntry(SEQ - 1, [text('seq'), [0x18, 0x05]]));
    expect(nullWith(bytes)).toBe('ok');
    expect(nullWith(buildEnvelope(withEntry(SEQ - 1, [text('seq'), uint(5, 8)])))).toBe('ok');
    expect(nullWith(buildEnvelope(withEntry(2, [text('ts'), uint(1_000, 8)])))).toBe('ok'); // 1000 in an 8-byte head
    expect(nullWith(buildEnvelope(withEntry(2, [text('ts'), uint(2 ** 32 - 1, 8)])))).toBe('ok');
  });

  it('non-canonical alg (42 as 0x19 0x00 0x2a), non-shortest text and byte-string lengths', () => {
    expect(nullWith(buildEnvelope(withEntry(0, [uint(1), uint(42, 2)])))).toBe('ok');
    expect(nullWith(buildEnvelope(withEntry(1, [text('st'), text('spo2', 1)])))).toBe('ok');
    expect(nullWith(buildEnvelope({ ...baseParts(), protectedExtra: 2 }))).toBe('ok');
    expect(nullWith(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(24, 1), 2) }))).toBe('ok');
    expect(nullWith(buildEnvelope({ ...baseParts(), unprotected: cat([0xa2, 0x04], bstr(KID, 1), [0x23], bstr(EK)) }))).toBe('ok');
  });

  it('indefinite-length protected map', () => {
    const entries = canonicalEntries(HEADER);
    expect(nullWith(buildEnvelope({ entries, protectedContent: cat([0xbf], ...entries.flat(), [0xff]) }))).toBe('ENVELOPE_BAD_HEADER');
  });

  it('protected keys out of canonical order (strict accepts them)', () => {
    const entries = canonicalEntries(HEADER);
    expect(nullWith(buildEnvelope({ entries: [entries[0]!, entries[4]!, entries[1]!, entries[2]!, entries[3]!] }))).toBe('ok'); // dev before st
    const withHs = canonicalEntries({ ...HEADER, hs: 3 });
    expect(nullWith(buildEnvelope({ entries: [withHs[0]!, withHs[2]!, withHs[1]!, ...withHs.slice(3)] }))).toBe('ok'); // st before hs
    expect(nullWith(buildEnvelope({ entries: [...entries.slice(1), entries[0]!] }))).toBe('ok'); // alg last
  });

  it('unprotected header in the wrong order (-4 before 4)', () => {
    expect(nullWith(buildEnvelope({ ...baseParts(), unprotected: cat([0xa2, 0x23], bstr(EK), [0x04], bstr(KID)) }))).toBe('ok');
  });

  it('duplicate protected key', () => {
    const entries = canonicalEntries(HEADER);
    expect(nullWith(buildEnvelope({ entries: [...entries, entries[SEQ - 1]!] }))).toBe('ENVELOPE_BAD_HEADER');
    expect(nullWith(buildEnvelope({ entries: [entries[0]!, entries[1]!, entries[1]!, ...entries.slice(2)] }))).toBe('ENVELOPE_BAD_HEADER');
  });

  it('extra unknown protected label, and a missing one', () => {
    const entries = canonicalEntries(HEADER);
    expect(nullWith(buildEnvelope({ entries: [...entries, [text('zz'), uint(1)]] }))).toBe('ENVELOPE_BAD_HEADER');
    expect(nullWith(buildEnvelope({ entries: [entries[0]!, [uint(4), uint(1)], ...entries.slice(1)] }))).toBe('ENVELOPE_BAD_HEADER');
    expect(nullWith(buildEnvelope({ entries: entries.slice(0, 4) }))).toBe('ENVELOPE_BAD_HEADER');
    expect(nullWith(buildEnvelope({ entries: [...entries, [uint(4), uint(1)]], mapHead: head(5, 5) }))).toBe('ENVELOPE_BAD_HEADER'); // map ends before the bstr does
  });

  it('tag other than 16 (and tag 16 in a non-shortest head, which strict accepts)', () => {
    expect(nullWith(buildEnvelope({ ...baseParts(), tag: [0xd2] }))).toBe('ENVELOPE_BAD_TAG');
    expect(nullWith(buildEnvelope({ ...baseParts(), tag: [0xd8, 0x60] }))).toBe('ENVELOPE_BAD_TAG');
    expect(nullWith(buildEnvelope({ ...baseParts(), tag: [0xd8, 0x10] }))).toBe('ok');
    expect(nullWith(buildEnvelope({ ...baseParts(), tag: [0xd0, 0xd0] }))).toBe('ENVELOPE_BAD_STRUCTURE');
  });

  it('trailing byte after the ciphertext', () => {
    expect(nullWith(buildEnvelope({ ...baseParts(), trailing: [0x00] }))).toBe('ENVELOPE_NOT_CBOR');
  });

  it('ciphertext of 15 bytes (16 is the shortest accepted)', () => {
    expect(nullWith(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(15, 1)) }))).toBe('ENVELOPE_BAD_STRUCTURE');
    expect(checkAgainstStrict(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(16, 1)) }))).toBe('fast');
  });

  it('8-byte seq above MAX_SAFE_INTEGER (and exactly MAX_SAFE_INTEGER is accepted)', () => {
    expect(nullWith(buildEnvelope(withEntry(SEQ - 1, [text('seq'), uint(BigInt(MAX_SAFE) + 1n)])))).toBe('ENVELOPE_BAD_HEADER');
    expect(nullWith(buildEnvelope(withEntry(SEQ - 1, [text('seq'), uint(2n ** 64n - 1n)])))).toBe('ENVELOPE_BAD_HEADER');
    expect(checkAgainstStrict(buildEnvelope(withEntry(SEQ - 1, [text('seq'), uint(MAX_SAFE)])))).toBe('fast');
  });

  it('envelope larger than maxBytes, and a ciphertext over the strict 4096-byte string limit', () => {
    const bytes = buildEnvelope(baseParts());
    expect(nullWith(bytes, bytes.length - 1)).toBe('ENVELOPE_TOO_LARGE');
    expect(checkAgainstStrict(bytes, bytes.length)).toBe('fast');
    expect(nullWith(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(ENVELOPE_MAX_BYTES, 1)) }))).toBe('ENVELOPE_TOO_LARGE');
    expect(nullWith(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(ENVELOPE_MAX_BYTES + 1, 1)) }), 10_000)).toBe(
      'ENVELOPE_BAD_STRUCTURE',
    );
    expect(checkAgainstStrict(buildEnvelope({ ...baseParts(), ciphertext: bstr(filled(ENVELOPE_MAX_BYTES, 1)) }), 10_000)).toBe('fast');
  });

  it('non-byte-array input, empty input and truncation never throw from the fast path', () => {
    expect(tryDecodeCanonicalEnvelope([0xd0, 0x83] as unknown as Uint8Array)).toBeNull();
    expect(tryDecodeCanonicalEnvelope(null as unknown as Uint8Array)).toBeNull();
    expect(nullWith(new Uint8Array(0))).toBe('ENVELOPE_NOT_CBOR');
    const bytes = buildEnvelope(baseParts());
    for (let n = 0; n < bytes.length; n++) expect(tryDecodeCanonicalEnvelope(bytes.subarray(0, n))).toBeNull();
  });
});

describe('decodeEnvelopeView', () => {
  const bytes = sealReading({ reading: readingOf(HEADER, [97]), header: HEADER, recipient, hpke: node, rng: seededRng('view') });

  it('uses the injected sha256 on the fast path and defaults to noble', () => {
    const nodeSha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
    expect(comparable(decodeEnvelopeView(bytes, { sha256: nodeSha256 }))).toStrictEqual(comparable(decodeEnvelope(bytes)));
    expect(comparable(decodeEnvelopeView(bytes))).toStrictEqual(comparable(decodeEnvelope(bytes)));
    let calls = 0;
    decodeEnvelopeView(bytes, { sha256: (b) => (calls++, sha256(b)) });
    expect(calls).toBe(1);
  });

  it('returns owned plain Uint8Array copies, also for a Buffer input (whose slice() would be a view)', () => {
    const buffer = Buffer.from(bytes);
    const view = decodeEnvelopeView(buffer);
    expect(comparable(view)).toStrictEqual(comparable(decodeEnvelope(buffer)));
    expect(view.ciphertext.constructor).toBe(Uint8Array);
    const before = toHex(view.ciphertext);
    buffer.fill(0);
    expect(toHex(view.ciphertext)).toBe(before);
    expect(checkAgainstStrict(Buffer.from(bytes))).toBe('fast');
  });

  it('an envelope inside a larger buffer (non-zero byteOffset) decodes the same', () => {
    const padded = cat([1, 2, 3], bytes, [4, 5]);
    expect(checkAgainstStrict(padded.subarray(3, 3 + bytes.length))).toBe('fast');
  });

  it('throws the same error code as decodeEnvelope', () => {
    const code = (f: () => unknown) => outcome(() => void f());
    expect(code(() => decodeEnvelopeView(bytes, { maxBytes: 10 }))).toBe('ENVELOPE_TOO_LARGE');
    expect(code(() => decodeEnvelopeView(bytes.subarray(1, 20)))).toBe(code(() => decodeEnvelope(bytes.subarray(1, 20))));
    expect(code(() => decodeEnvelopeView(new Uint8Array(0)))).toBe('ENVELOPE_NOT_CBOR');
  });
});

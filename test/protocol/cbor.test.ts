import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, Tag, type CborValue } from '../../protocol/cbor/index.ts';
import { codeOf, FUZZ_RUNS, mutatedBytes, onlyKnownErrors, randomBytes } from './fuzzInputs.ts';
import { runs } from '../support/fuzz.ts';

const hex = (v: CborValue) => toHex(encodeCanonical(v));

describe('encodeCanonical', () => {
  it('encodes a Uint8Array (and a Buffer) as a plain byte string, not cbor-x tag 64', () => {
    expect(hex(new Uint8Array([1, 2, 3]))).toBe('43010203');
    expect(hex(Buffer.from([1, 2, 3]))).toBe('43010203');
    expect(hex([new Uint8Array(0)])).toBe('8140');
    expect(hex(new Map([[4, new Uint8Array([0xaa])]]))).toBe('a10441aa');
  });

  it('writes integers in their shortest form across every head-size boundary', () => {
    const cases: [number | bigint, string][] = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [255, '18ff'],
      [256, '190100'],
      [65535, '19ffff'],
      [65536, '1a00010000'],
      [0xffffffff, '1affffffff'],
      [2 ** 32, '1b0000000100000000'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [2n ** 64n - 1n, '1bffffffffffffffff'],
      [5n, '05'],
      [-1, '20'],
      [-24, '37'],
      [-25, '3818'],
      [-256, '38ff'],
      [-257, '390100'],
      [-(2 ** 32), '3affffffff'],
      [-(2 ** 32) - 1, '3b0000000100000000'],
      [-(2n ** 64n) + 1n, '3bfffffffffffffffe'],
      [1_700_000_000_000, '1b0000018bcfe56800'],
    ];
    for (const [value, expected] of cases) expect(hex(value), String(value)).toBe(expected);
  });

  it('encodes non-integral numbers as float64 and -0 as 0', () => {
    expect(hex(1.5)).toBe('fb3ff8000000000000');
    expect(hex(-0)).toBe('00');
  });

  it('sorts map keys by their encoded bytes (RFC 8949 §4.2.1)', () => {
    const m = new Map<string | number, CborValue>([
      ['seq', 1],
      ['dev', 'd'],
      ['ts', 2],
      ['st', 'x'],
      [1, 42],
      [-4, 0],
      [4, 0],
    ]);
    // 01, 04, 23 (-4), "st", "ts", "dev", "seq"
    expect(hex(m)).toBe('a7' + '01182a' + '0400' + '2300' + '6273746178' + '62747302' + '6364657661' + '64' + '6373657101');
  });

  it('refuses values outside the data model and duplicate keys', () => {
    expect(codeOf(() => encodeCanonical({ a: 1 } as unknown as CborValue))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => encodeCanonical(undefined as unknown as CborValue))).toBe('CBOR_UNSUPPORTED');
    expect(
      codeOf(() =>
        encodeCanonical(
          new Map<number | bigint, CborValue>([
            [1, 1],
            [1n, 2],
          ]),
        ),
      ),
    ).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => encodeCanonical(2n ** 64n))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => encodeCanonical(-(2n ** 64n)))).toBe('CBOR_UNSUPPORTED'); // cbor-x cannot write it as major type 1
    expect(codeOf(() => encodeCanonical(new Float32Array(2) as unknown as CborValue))).toBe('CBOR_UNSUPPORTED');
  });

  it('round-trips through decodeStrict and re-encodes to the same bytes', () => {
    const key = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 8 }));
    const { value } = fc.letrec<{ value: CborValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true }),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        fc.constant(null),
        fc.uint8Array({ maxLength: 20 }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
      ),
    }));
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCanonical(v);
        const decoded = decodeStrict(bytes, { maxDepth: 64, maxBytes: 1 << 20 });
        expect(toHex(encodeCanonical(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe('decodeStrict', () => {
  it('decodes COSE-shaped data: integer keys stay Map keys, byte strings are owned copies', () => {
    const input = fromHex('d08343a10101a1044101' + '43010203');
    const value = decodeStrict(input, { allowedTags: [16] });
    expect(value).toBeInstanceOf(Tag);
    const [prot, unprot, ct] = (value as Tag).value as [Uint8Array, Map<number, Uint8Array>, Uint8Array];
    expect(Object.getPrototypeOf(prot)).toBe(Uint8Array.prototype);
    expect(unprot.get(4)).toEqual(new Uint8Array([1]));
    ct[0] = 0x99;
    expect(input[input.length - 3]).toBe(1); // the input was not modified through the result
    expect(decodeStrict(fromHex('1bffffffffffffffff'))).toBe(2n ** 64n - 1n);
    expect(decodeStrict(fromHex('1b0000018bcfe56800'))).toBe(1_700_000_000_000); // exact 8-byte integers are numbers
    expect(decodeStrict(fromHex('3b001fffffffffffff'))).toBe(-(2n ** 53n));
    expect(decodeStrict(fromHex('a11b000000000000000501'))).toEqual(new Map([[5, 1]]));
    expect(decodeStrict(fromHex('f93e00'))).toBe(1.5);
  });

  const refused: [string, string, string][] = [
    ['', 'CBOR_MALFORMED', 'empty input'],
    ['18', 'CBOR_MALFORMED', 'truncated argument'],
    ['1c', 'CBOR_MALFORMED', 'reserved additional info 28'],
    ['5d', 'CBOR_MALFORMED', 'reserved additional info 29 on a byte string'],
    ['1f', 'CBOR_MALFORMED', 'indefinite unsigned integer'],
    ['ff', 'CBOR_MALFORMED', 'break outside indefinite item'],
    ['f800', 'CBOR_MALFORMED', 'two-byte simple value < 32'],
    ['4301', 'CBOR_MALFORMED', 'byte string runs past the end'],
    ['830102', 'CBOR_MALFORMED', 'array runs past the end'],
    ['62c328', 'CBOR_MALFORMED', 'invalid UTF-8'],
    ['5bffffffffffffffff00', 'CBOR_MALFORMED', 'huge declared byte-string length'],
    ['9bffffffffffffffff00', 'CBOR_MALFORMED', 'huge declared array length'],
    ['ba7fffffff00', 'CBOR_MALFORMED', 'huge declared map length'],
    ['0000', 'CBOR_TRAILING_BYTES', 'two items'],
    ['5f4101ff', 'CBOR_UNSUPPORTED', 'indefinite byte string'],
    ['9fff', 'CBOR_UNSUPPORTED', 'indefinite array'],
    ['bfff', 'CBOR_UNSUPPORTED', 'indefinite map'],
    ['c11a5f000000', 'CBOR_UNSUPPORTED', 'tag not in the allow-list'],
    ['f7', 'CBOR_UNSUPPORTED', 'undefined'],
    ['f0', 'CBOR_UNSUPPORTED', 'unassigned simple value'],
    ['a201010102', 'CBOR_UNSUPPORTED', 'duplicate integer key'],
    ['a20101180102', 'CBOR_UNSUPPORTED', 'duplicate integer key in non-shortest form'],
    ['a2617801617802', 'CBOR_UNSUPPORTED', 'duplicate text key'],
    ['a1410101', 'CBOR_UNSUPPORTED', 'byte-string key'],
    ['a1800101', 'CBOR_UNSUPPORTED', 'array key'],
    ['a1f93c0001', 'CBOR_UNSUPPORTED', 'float key'],
  ];
  it.each(refused)('refuses %s with %s (%s)', (input, code) => {
    expect(codeOf(() => decodeStrict(fromHex(input)))).toBe(code);
  });

  it('applies the configurable limits', () => {
    expect(codeOf(() => decodeStrict(new Uint8Array(4097)))).toBe('CBOR_TOO_LARGE');
    expect(codeOf(() => decodeStrict(fromHex('8101'), { maxBytes: 1 }))).toBe('CBOR_TOO_LARGE');
    expect(decodeStrict(fromHex('818181818181818100'))).toEqual([[[[[[[[0]]]]]]]]); // depth 8
    expect(codeOf(() => decodeStrict(fromHex('81818181818181818100')))).toBe('CBOR_TOO_DEEP'); // depth 9
    expect(codeOf(() => decodeStrict(fromHex('818181818181818180')))).toBe('CBOR_TOO_DEEP'); // an empty array counts too
    expect(codeOf(() => decodeStrict(fromHex('d0d0d000'), { allowedTags: [16], maxDepth: 2 }))).toBe('CBOR_TOO_DEEP');
    expect(codeOf(() => decodeStrict(fromHex('83010203'), { maxItems: 2 }))).toBe('CBOR_TOO_MANY_ITEMS');
    expect(codeOf(() => decodeStrict(fromHex('a201010202'), { maxItems: 1 }))).toBe('CBOR_TOO_MANY_ITEMS');
    expect(codeOf(() => decodeStrict(fromHex('43010203'), { maxStringBytes: 2 }))).toBe('CBOR_TOO_MANY_ITEMS');
    const array1025 = new Uint8Array(3 + 1025);
    array1025.set([0x99, 0x04, 0x01]);
    expect(codeOf(() => decodeStrict(array1025))).toBe('CBOR_TOO_MANY_ITEMS');
    const array1024 = new Uint8Array(3 + 1024);
    array1024.set([0x99, 0x04, 0x00]);
    expect(codeOf(() => decodeStrict(array1024))).toBe('no error');
  });

  // no timing assertion (a shared machine makes one flaky): the decoder's cost is in bench/, and
  // a 4 GiB declared length that were allocated, or a recursion per level, would throw RangeError here
  it('refuses a 100,000-deep nesting bomb and a huge declared length without allocating or recursing per level', () => {
    const bomb = new Uint8Array(100_000).fill(0x81);
    expect(codeOf(() => decodeStrict(bomb))).toBe('CBOR_TOO_LARGE');
    expect(codeOf(() => decodeStrict(bomb, { maxBytes: Infinity }))).toBe('CBOR_TOO_DEEP');
    expect(codeOf(() => decodeStrict(bomb, { maxBytes: Infinity, maxDepth: 1_000_000 }))).toBe('CBOR_MALFORMED'); // no innermost item: ends inside
    const tagBomb = new Uint8Array(100_000).fill(0xd0);
    expect(codeOf(() => decodeStrict(tagBomb, { maxBytes: Infinity, allowedTags: [16] }))).toBe('CBOR_TOO_DEEP');
    expect(codeOf(() => decodeStrict(fromHex('5affffffff'), { maxBytes: Infinity, maxStringBytes: Infinity }))).toBe('CBOR_MALFORMED');
    expect(codeOf(() => decodeStrict(fromHex('9affffffff'), { maxBytes: Infinity, maxItems: Infinity }))).toBe('CBOR_MALFORMED');
  });

  it('accepts only the tags the caller allows', () => {
    expect(decodeStrict(fromHex('d280'), { allowedTags: [18] })).toEqual(new Tag([], 18));
    expect(codeOf(() => decodeStrict(fromHex('d280')))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => decodeStrict(fromHex('d9d9f780'), { allowedTags: [18] }))).toBe('CBOR_UNSUPPORTED');
    expect(codeOf(() => decodeStrict(fromHex('db000000010000001080'), { allowedTags: [16] }))).toBe('CBOR_UNSUPPORTED');
  });

  it('fuzz: random bytes give a value or a known VitalsealError, nothing else', () => {
    fc.assert(
      fc.property(randomBytes(), (b) => onlyKnownErrors(() => decodeStrict(b, { allowedTags: [16, 18, 96] }))),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('fuzz: mutated valid CBOR gives a value or a known VitalsealError, nothing else', () => {
    const seeds = [
      encodeCanonical(new Tag([new Uint8Array([0xa1, 0x01, 0x18, 0x2a]), new Map([[4, new Uint8Array(16)]]), new Uint8Array(40)], 16)),
      encodeCanonical(
        new Map<string, CborValue>([
          ['st', 'spo2'],
          ['ts', 1_700_000_000_000],
          ['v', [97, 96.5, -1.25]],
          ['u', '%'],
        ]),
      ),
      encodeCanonical([1, [2, [3, [4, new Map([['k', utf8('x')]])]]], 'text', null, true, 2n ** 60n]),
    ];
    fc.assert(
      fc.property(mutatedBytes(seeds), (b) => onlyKnownErrors(() => decodeStrict(b, { allowedTags: [16] }))),
      { numRuns: FUZZ_RUNS },
    );
  });
});

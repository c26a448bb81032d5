import { describe, expect, it } from 'vitest';
import { Tag, encodeCanonical, type CborKey, type CborValue } from '../../protocol/cbor/index.ts';
import { CddlError, CddlSchema } from './cddl.ts';
import { normalizeDiag, printDiag } from './diag.ts';

/** Validates `value` against rule `r` of `src`: 'ok' or the error message. */
function check(src: string, value: CborValue, r = 'r'): string {
  const result = CddlSchema.parse(src).validate(value, r);
  return result.ok ? 'ok' : result.error;
}

const map = (...entries: Array<[CborKey, CborValue]>): CborValue => new Map(entries);
const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);

describe('test/spec/cddl.ts: the CDDL subset validator', () => {
  it('prelude types accept their values and refuse others', () => {
    const cases: Array<[string, CborValue, CborValue]> = [
      ['uint', 5, -5],
      ['uint', 2n ** 64n - 1n, 1.5],
      ['nint', -1, 0],
      ['int', -7, 7.5],
      ['float', 1.5, 2],
      ['float64', 0.1, 'x'],
      ['number', 3, 'three'],
      ['bstr', bytes(1), 'not bytes'],
      ['bytes', bytes(0), []],
      ['tstr', 'x', bytes(1)],
      ['text', '', null],
      ['bool', true, 0],
      ['true', true, false],
      ['false', false, true],
      ['null', null, false],
      ['nil', null, 0],
    ];
    for (const [type, good, bad] of cases) {
      expect(check(`r = ${type}`, good), `${type} accepts`).toBe('ok');
      expect(check(`r = ${type}`, bad), `${type} refuses`).not.toBe('ok');
    }
    expect(check('r = any', map())).toBe('ok');
  });

  it('literals: integers (also as bigint), floats, text, bytes', () => {
    expect(check('r = 42', 42)).toBe('ok');
    expect(check('r = 42', 43)).toMatch(/expected 42/);
    expect(check('r = 18446744073709551615', 2n ** 64n - 1n)).toBe('ok');
    expect(check('r = -8', -8)).toBe('ok');
    expect(check('r = 0x2a', 42)).toBe('ok');
    expect(check('r = 1.5', 1.5)).toBe('ok');
    expect(check('r = 1.5', 1.25)).not.toBe('ok');
    expect(check('r = "Encrypt0"', 'Encrypt0')).toBe('ok');
    expect(check('r = "Encrypt0"', 'Encrypt')).not.toBe('ok');
    expect(check("r = h'0102'", Uint8Array.of(1, 2))).toBe('ok');
    expect(check("r = h'0102'", Uint8Array.of(1, 3))).not.toBe('ok');
  });

  it('choices and references', () => {
    const src = 'r = a / "x"\na = uint / bstr';
    expect(check(src, 1)).toBe('ok');
    expect(check(src, 'x')).toBe('ok');
    expect(check(src, bytes(2))).toBe('ok');
    expect(check(src, 'y')).toMatch(/no choice matches/);
    expect(check(src, -1)).not.toBe('ok');
  });

  it('ranges: inclusive, exclusive, named bounds, float bounds', () => {
    expect(check('r = 1..3', 3)).toBe('ok');
    expect(check('r = 1..3', 4)).toMatch(/outside 1\.\.3/);
    expect(check('r = 1..3', 0)).not.toBe('ok');
    expect(check('r = 1...3', 3)).not.toBe('ok');
    expect(check('r = 1...3', 2)).toBe('ok');
    expect(check('r = 1..3', 2.5)).toMatch(/expected an integer/);
    expect(check('r = lo .. hi\nlo = -2\nhi = 9007199254740991', 9007199254740991)).toBe('ok');
    expect(check('r = lo .. hi\nlo = -2\nhi = 9007199254740991', 2n ** 53n)).not.toBe('ok');
    expect(check('r = lo .. hi\nlo = -2\nhi = 9007199254740991', -3)).not.toBe('ok');
    expect(check('r = -1.5..1.5', 0.25)).toBe('ok');
    expect(check('r = -1.5..1.5', 2)).not.toBe('ok');
    expect(check('r = -1.7976931348623157e308..1.7976931348623157e308', Infinity)).not.toBe('ok');
    expect(check('r = -1.7976931348623157e308..1.7976931348623157e308', NaN)).not.toBe('ok');
  });

  it('.size on byte strings, text strings (UTF-8 bytes) and uints, exact or a range', () => {
    expect(check('r = bstr .size 16', bytes(16))).toBe('ok');
    expect(check('r = bstr .size 16', bytes(15))).toMatch(/size 15/);
    expect(check('r = bstr .size (16..32)', bytes(32))).toBe('ok');
    expect(check('r = bstr .size (16..32)', bytes(33))).not.toBe('ok');
    expect(check('r = bstr .size 0', new Uint8Array(0))).toBe('ok');
    expect(check('r = tstr .size 2', '°')).toBe('ok'); // two UTF-8 bytes
    expect(check('r = tstr .size 1', '°')).not.toBe('ok');
    expect(check('r = uint .size 1', 255)).toBe('ok');
    expect(check('r = uint .size 1', 256)).not.toBe('ok');
    expect(check('r = bstr .size 16', 'sixteen chars!!!')).not.toBe('ok');
  });

  it('.regexp is anchored, Unicode-aware, and only for text', () => {
    const src = 'r = tstr .regexp "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"';
    expect(check(src, 'oxi-01')).toBe('ok');
    expect(check(src, '-oxi')).toMatch(/does not match/);
    expect(check(src, 'oxi/01')).not.toBe('ok');
    expect(check(src, 'a'.repeat(65))).not.toBe('ok');
    expect(check('r = tstr .regexp "[^\\\\p{Cc}]{1,3}"', '°C')).toBe('ok');
    expect(check('r = tstr .regexp "[^\\\\p{Cc}]{1,3}"', 'a\nb')).not.toBe('ok');
    expect(check(src, bytes(3))).not.toBe('ok');
  });

  it('.cbor validates the embedded item and reports where it is', () => {
    const src = 'r = [p: bstr .cbor h, n: uint]\nh = { 1 => 42 }';
    const good = [encodeCanonical(new Map([[1, 42]])), 0];
    const schema = CddlSchema.parse(src);
    expect(schema.validate(good, 'r')).toEqual({ ok: true, embedded: ['[0]'] });
    expect(check(src, [encodeCanonical(new Map([[1, 43]])), 0])).toMatch(/\[0\]<<>>\{1\}: expected 42/);
    expect(check(src, [Uint8Array.of(0xff), 0])).toMatch(/not strict CBOR/);
    expect(check(src, ['text', 0])).not.toBe('ok');
  });

  it('comparison, .eq/.ne, .and and .default controls', () => {
    expect(check('r = uint .lt 10', 9)).toBe('ok');
    expect(check('r = uint .lt 10', 10)).not.toBe('ok');
    expect(check('r = uint .le 10', 10)).toBe('ok');
    expect(check('r = uint .gt 10', 10)).not.toBe('ok');
    expect(check('r = uint .ge 10', 9)).not.toBe('ok');
    expect(check('r = tstr .ne ""', 'x')).toBe('ok');
    expect(check('r = tstr .ne ""', '')).not.toBe('ok');
    expect(check('r = uint .eq 3', 4)).not.toBe('ok');
    expect(check('r = uint .and (0..9)', 10)).not.toBe('ok');
    expect(check('r = uint .default 3', 1)).toBe('ok');
  });

  it('tags: number and content', () => {
    const src = 'r = #6.16([uint])';
    expect(check(src, new Tag([1], 16))).toBe('ok');
    expect(check(src, new Tag([1], 17))).toMatch(/expected tag 16/);
    expect(check(src, [1])).not.toBe('ok');
    expect(check(src, new Tag(['x'], 16))).toMatch(/#16\[0\]/);
  });

  it('maps: integer and text keys, optional entries, no leftover keys, cut on value mismatch', () => {
    const src = 'r = { 1 => 42, "dev" => tstr, kid: bstr, ? "hs" => uint }';
    const good = map([1, 42], ['dev', 'd'], ['kid', bytes(2)]);
    expect(check(src, good)).toBe('ok');
    expect(check(src, map([1, 42], ['dev', 'd'], ['kid', bytes(2)], ['hs', 3]))).toBe('ok');
    expect(check(src, map([1, 42], ['dev', 'd']))).toMatch(/missing key "kid"/);
    expect(check(src, map([1, 42], ['dev', 'd'], ['kid', bytes(2)], ['x', 1]))).toMatch(/unexpected key "x"/);
    expect(check(src, map([1, 42], ['dev', 'd'], ['kid', bytes(2)], ['hs', -1]))).toMatch(/\{"hs"\}/);
    expect(check(src, map([1, 41], ['dev', 'd'], ['kid', bytes(2)]))).toMatch(/\{1\}: expected 42/);
    expect(check(src, map(['1', 42], ['dev', 'd'], ['kid', bytes(2)]))).not.toBe('ok'); // "1" is not 1
    expect(check(src, [1, 42])).toMatch(/expected a map/);
    expect(check('r = {}', map())).toBe('ok');
    expect(check('r = {}', map([1, 1]))).not.toBe('ok');
  });

  it('maps: wildcard entries with occurrence bounds', () => {
    const src = 'r = { "v" => 1, * tstr => uint }';
    expect(check(src, map(['v', 1], ['a', 2], ['b', 3]))).toBe('ok');
    expect(check(src, map(['v', 1], ['a', 'x']))).toMatch(/\{"a"\}/);
    expect(check(src, map(['v', 1], [5, 2]))).toMatch(/unexpected key 5/);
    expect(check('r = { 1*2 tstr => uint }', map())).not.toBe('ok');
    expect(check('r = { 1*2 tstr => uint }', map(['a', 1], ['b', 2], ['c', 3]))).toMatch(/too many/);
  });

  it('group rules, inline groups and group choices', () => {
    const src =
      'r = { common, ? (lat: float, lon: float), kind }\ncommon = ( "v" => 1, "ts" => uint )\nkind = ( "t" => "a", a: uint // "t" => "b", b: tstr )';
    expect(check(src, map(['v', 1], ['ts', 5], ['t', 'a'], ['a', 1]))).toBe('ok');
    expect(check(src, map(['v', 1], ['ts', 5], ['t', 'b'], ['b', 'x']))).toBe('ok');
    expect(check(src, map(['v', 1], ['ts', 5], ['t', 'b'], ['b', 'x'], ['lat', 1.5], ['lon', 2.5]))).toBe('ok');
    expect(check(src, map(['v', 1], ['ts', 5], ['t', 'b'], ['b', 'x'], ['lat', 1.5]))).not.toBe('ok'); // the group is all or nothing
    expect(check(src, map(['v', 1], ['ts', 5], ['t', 'a'], ['b', 'x']))).not.toBe('ok');
    expect(check(src, map(['v', 2], ['ts', 5], ['t', 'a'], ['a', 1]))).not.toBe('ok');
  });

  it('arrays: positional entries, occurrences, backtracking, group references', () => {
    const src = 'r = [a: uint, * b: tstr, c: bstr]';
    expect(check(src, [1, bytes(1)])).toBe('ok');
    expect(check(src, [1, 'x', 'y', bytes(1)])).toBe('ok');
    expect(check(src, [1, 'x', 2])).not.toBe('ok');
    expect(check(src, [1])).not.toBe('ok');
    expect(check(src, [1, bytes(1), bytes(1)])).toMatch(/unexpected item/);
    expect(check('r = [1*3 uint]', [])).not.toBe('ok');
    expect(check('r = [1*3 uint]', [1, 2, 3])).toBe('ok');
    expect(check('r = [1*3 uint]', [1, 2, 3, 4])).not.toBe('ok');
    expect(check('r = [* uint, uint]', [1, 2, 3])).toBe('ok'); // the greedy run backs off for the last entry
    expect(check('r = [2*2 v]\nv = uint / tstr', [1, 'a'])).toBe('ok');
    expect(check('r = [pair, pair]\npair = (uint, tstr)', [1, 'a', 2, 'b'])).toBe('ok');
    expect(check('r = [pair, pair]\npair = (uint, tstr)', [1, 'a', 2])).not.toBe('ok');
    expect(check('r = [* pair]\npair = (uint, tstr)', [1, 'a', 2, 'b'])).toBe('ok');
    expect(check('r = [* pair]\npair = (uint, tstr)', [1, 'a', 2])).not.toBe('ok');
    expect(check('r = [uint]', map())).toMatch(/expected an array/);
  });

  it('refuses CDDL outside the subset and undefined or duplicate rules', () => {
    expect(() => CddlSchema.parse('r = x')).toThrow(CddlError);
    expect(() => CddlSchema.parse('r = uint\nr = tstr')).toThrow(/defined twice/);
    expect(() => CddlSchema.parse('r = uint\nr /= tstr')).toThrow(/not supported/);
    expect(() => CddlSchema.parse('r<t> = [t]')).toThrow(/generic/);
    expect(() => CddlSchema.parse('r = uint .bits 3')).toThrow(/not supported/);
    expect(() => CddlSchema.parse('r = &(a: 1)')).toThrow(CddlError);
    expect(() => CddlSchema.parse('r = #7.25')).toThrow(/#6/);
    expect(() => CddlSchema.parse('r = g\ng = (a: uint)')).toThrow(/group/);
    expect(() => CddlSchema.parse('r = uint').validate(1, 'nope')).toThrow(/no rule/);
  });
});

describe('test/spec/diag.ts: diagnostic notation', () => {
  it('renders every kind of item, embedded CBOR and comments; normalisation ignores layout and comments', () => {
    const inner = encodeCanonical(new Map([[1, -8]]));
    const value = new Tag(
      [
        inner,
        new Map<CborKey, CborValue>([
          ['st', 'spo2'],
          [-4, bytes(2)],
        ]),
        [1, -2, 2n ** 64n - 1n, 1.5, 0.1, true, null],
        'a"b',
      ],
      18,
    );
    const compact = printDiag(value, { embedded: new Set(['#18[0]']) });
    expect(compact).toBe(
      `18([<< {1: -8} >>, {"st": "spo2", -4: h'0707'}, [1, -2, 18446744073709551615, 1.5_3, 0.1, true, null], "a\\"b"])`,
    );
    const pretty = printDiag(value, {
      embedded: new Set(['#18[0]']),
      comments: new Map([['#18[0]', 'protected']]),
      pretty: true,
      width: 20,
    });
    expect(pretty).toContain('/ protected /');
    expect(pretty.split('\n').length).toBeGreaterThan(3);
    expect(normalizeDiag(pretty)).toBe(normalizeDiag(compact));
    expect(normalizeDiag('{"a b": 1 / one /}')).toBe('{"a b":1}');
    expect(() => printDiag(1, { comments: new Map([['', 'a/b']]), pretty: true })).toThrow(/cannot contain/);
  });
});

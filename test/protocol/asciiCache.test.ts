import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASCII_CACHE_MAX_LENGTH, asciiHash, asciiString } from '../../protocol/envelope/asciiCache.ts';
import { runs } from '../support/fuzz.ts';

const expected = (bytes: Uint8Array, start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end));
const at = (bytes: Uint8Array, start: number, end: number): string => asciiString(bytes, start, end, asciiHash(bytes, start, end));

describe('asciiString (the fast readers’ cache of recurring ids, sensor types and units)', () => {
  it('returns exactly the characters of the bytes, on a miss, on a hit and after other strings took the slot', () => {
    // 2,000 distinct strings through 256 slots: most calls evict another string, every second call of a string is a hit
    const strings = Array.from({ length: 2000 }, (_, i) => `dev-${i.toString(36)}`);
    for (let round = 0; round < 2; round++)
      for (const s of strings) {
        const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
        expect(at(bytes, 0, bytes.length)).toBe(s);
        expect(at(bytes, 0, bytes.length)).toBe(s);
      }
  });

  it('random ASCII slices (also inside larger buffers, empty, and longer than the cache takes): the characters of the bytes', () => {
    const ascii = fc.uint8Array({ minLength: 0, maxLength: ASCII_CACHE_MAX_LENGTH + 16, max: 0x7f });
    fc.assert(
      fc.property(ascii, fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(at(bytes, start, end)).toBe(expected(bytes, start, end));
        // the same bytes changed in place: never the stale string
        if (end > start) {
          const changed = bytes[start] === 0x41 ? 0x42 : 0x41;
          bytes[start] = changed;
          expect(at(bytes, start, end)).toBe(expected(bytes, start, end));
        }
      }),
      { numRuns: runs(5000) },
    );
  });

  it('strings that share a slot (same hash) still come back as their own bytes', () => {
    // a caller-supplied hash decides the slot: give two different strings the same one
    const one = Uint8Array.from('spo2', (c) => c.charCodeAt(0));
    const two = Uint8Array.from('ecg', (c) => c.charCodeAt(0));
    for (let i = 0; i < 3; i++) {
      expect(asciiString(one, 0, one.length, 7)).toBe('spo2');
      expect(asciiString(two, 0, two.length, 7)).toBe('ecg');
    }
    const same = Uint8Array.from('spo3', (c) => c.charCodeAt(0));
    expect(asciiString(one, 0, one.length, 7)).toBe('spo2');
    expect(asciiString(same, 0, same.length, 7)).toBe('spo3');
  });
});

/**
 * The short ASCII strings of a reading envelope (device id, sensor type, unit) recur in nearly every
 * envelope a reader or the agent sees, so the fast readers (fastHeader.ts, canonicalReading.ts) look
 * them up here instead of building a new string per envelope: a small direct-mapped cache keyed by a
 * hash of the bytes, and a hit only when the cached string's characters equal the bytes exactly.
 * What a caller gets is always the string of exactly those bytes (strings are immutable, so sharing
 * one is safe). Pure: no I/O, no Node-only APIs; never throws.
 */

/** Slots of the cache (a power of two); a device fleet's ids beyond that just miss more often. */
const SLOTS = 256;
const MASK = SLOTS - 1;
/** Longer strings are built without the cache (device ids are ≤ 64 bytes). */
export const ASCII_CACHE_MAX_LENGTH = 64;

const cached: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

/** FNV-1a-style mix of the bytes (any hash will do: a hit is confirmed byte by byte). */
export function asciiHash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

/** True when `s` is exactly the characters bytes[start, end) (one char per byte). */
function sameChars(s: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = start; i < end; i++) if (s.charCodeAt(i - start) !== bytes[i]) return false;
  return true;
}

/**
 * The string whose characters are bytes[start, end) — each byte one character (the caller checked the
 * bytes are ASCII) — from the cache when it holds it, else built and remembered. `hash` is
 * asciiHash(bytes, start, end), which a caller may compute in its own validation loop.
 */
export function asciiString(bytes: Uint8Array, start: number, end: number, hash: number): string {
  if (end - start > ASCII_CACHE_MAX_LENGTH) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  const slot = (hash ^ (hash >>> 16)) & MASK;
  const hit = cached[slot];
  if (hit !== undefined && sameChars(hit, bytes, start, end)) return hit;
  const s = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  cached[slot] = s;
  return s;
}

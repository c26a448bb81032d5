/** Formatting of evidence: bounded, so a flooding device cannot bloat the report. */
import { toHex } from '../protocol/bytes.ts';
import type { InspectedReading } from './intake.ts';

/** What was expected and what the device did: shown in every report. Hex is truncated (evidence.ts). */
export interface Evidence {
  readonly expected: string;
  readonly received: string;
  /** Extra lines: codes of the decoders, hex of the bytes in question, timings. */
  readonly details?: readonly string[];
}

/** Hex of at most `max` bytes, with the total length when truncated. */
export function hexOf(bytes: Uint8Array, max = 96): string {
  if (bytes.length <= max) return toHex(bytes);
  return `${toHex(bytes.subarray(0, max))}… (${bytes.length} bytes)`;
}

/** One line naming a reading: arrival index, seq, kid, size, the decoder's code if any. */
export function describeReading(r: InspectedReading): string {
  const h = r.header;
  const what = h
    ? `seq ${h.seq}${h.hs !== undefined ? ` hs ${h.hs}` : ''} kid ${r.kidHex?.slice(0, 8)}…`
    : `undecodable (${r.decodeError})`;
  return `#${r.index} ${what}, ${r.bytes.length} bytes${r.openError ? `, ${r.openError}` : ''}${r.readingError ? `, ${r.readingError}` : ''}`;
}

/** At most `max` items, then "… and N more". */
export function listSome<T>(items: readonly T[], show: (t: T) => string, max = 5): string {
  const head = items.slice(0, max).map(show);
  return items.length > max ? `${head.join('; ')}; … and ${items.length - max} more` : head.join('; ');
}

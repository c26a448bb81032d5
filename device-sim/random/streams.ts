import { seededRng, type Rng } from '../../protocol/rng.ts';

/**
 * Every random choice of a simulated device comes from its own named stream, derived
 * from the run seed, the device id and (for what must never repeat across reboots, such
 * as ephemeral keys) the device's boot count:
 *   seededRng(`vitalseal-sim/v1/<seed>/<device>/<purpose>[/<boot>]`).
 * So one device's readings do not change when another device or a fault is added.
 */
export function deviceStream(seed: string, device: string, purpose: string, boot?: number): Rng {
  return seededRng(`vitalseal-sim/v1/${seed}/${device}/${purpose}${boot === undefined ? '' : `/${boot}`}`);
}

/**
 * A stateless uniform number in [0, 1) for one decision, from a 32-bit mix of its
 * coordinates (FNV-1a then murmur3's finaliser). Fault decisions use it so that the
 * fault of (device, seq, attempt) is the same whatever the network timing was.
 */
export function decisionUnit(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0001');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

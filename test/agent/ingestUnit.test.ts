import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countSequence } from '../../agent/ingest/ingestor.ts';
import { nodeHashNative, recordLeafHash, sha256Native } from '../../agent/ingest/hashes.ts';
import { leafHash, nodeHash } from '../../protocol/merkle/index.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import type { DeviceCounters } from '../../agent/store/agentStore.ts';
import { runs } from '../support/fuzz.ts';

describe('ingest helpers', () => {
  it('recordLeafHash (node:crypto) equals RFC 6962 leafHash (protocol, pure JS)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => Buffer.from(recordLeafHash(b)).equals(Buffer.from(leafHash(b)))),
      { numRuns: runs(500) },
    );
  });

  it('nodeHashNative (node:crypto) equals RFC 6962 nodeHash (protocol, pure JS)', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(hash, hash, (l, r) => Buffer.from(nodeHashNative(l, r)).equals(Buffer.from(nodeHash(l, r)))),
      { numRuns: runs(500) },
    );
  });

  it('sha256Native (node:crypto, the record id) equals noble sha256', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => Buffer.from(sha256Native(b)).equals(Buffer.from(sha256(b)))),
      { numRuns: runs(500) },
    );
  });

  it('digests live in a shared slab: each keeps its own bytes through later hashes and across slab ends', () => {
    // 1,000 digests of all three kinds span several 4 KiB slabs (128 digests each); every one is checked
    // after all were made, so a slot reused or overwritten by a later digest shows as a mismatch
    const made: Array<{ got: Uint8Array; want: Uint8Array }> = [];
    for (let i = 0; i < 1000; i++) {
      const input = Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j * 13) & 0xff);
      const left = sha256(Uint8Array.of(i & 0xff, i >> 8));
      const right = sha256(Uint8Array.of(i >> 8, i & 0xff, 1));
      made.push({ got: sha256Native(input), want: sha256(input) });
      made.push({ got: recordLeafHash(input), want: leafHash(input) });
      made.push({ got: nodeHashNative(left, right), want: nodeHash(left, right) });
    }
    const buffers = new Set<ArrayBufferLike>();
    for (const { got, want } of made) {
      expect(got.length).toBe(32);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      buffers.add(got.buffer);
    }
    expect(buffers.size).toBeGreaterThan(1); // the slab was renewed along the way
    const slabs = [...buffers];
    const slots = new Set(made.map(({ got }) => `${slabs.indexOf(got.buffer)}:${got.byteOffset}`));
    expect(slots.size).toBe(made.length); // no two digests share a slot
  });

  it('countSequence: gaps open on skips and close on late arrivals', () => {
    const c: DeviceCounters = { maxSeq: null, received: 0, duplicates: 0, gaps: 0, reorders: 0, quarantined: 0, lastSeen: null };
    for (const s of [1, 2, 5, 3, 6, 4]) countSequence(c, s);
    expect(c).toMatchObject({ maxSeq: 6, received: 6, gaps: 0, reorders: 2 });
    countSequence(c, 10);
    expect(c.gaps).toBe(3);
  });
});

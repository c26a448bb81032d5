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

  it('countSequence: gaps open on skips and close on late arrivals', () => {
    const c: DeviceCounters = { maxSeq: null, received: 0, duplicates: 0, gaps: 0, reorders: 0, quarantined: 0, lastSeen: null };
    for (const s of [1, 2, 5, 3, 6, 4]) countSequence(c, s);
    expect(c).toMatchObject({ maxSeq: 6, received: 6, gaps: 0, reorders: 2 });
    countSequence(c, 10);
    expect(c.gaps).toBe(3);
  });
});

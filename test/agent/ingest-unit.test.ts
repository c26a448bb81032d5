import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countSequence, recordLeafHash } from '../../agent/ingest/ingestor.ts';
import { leafHash } from '../../protocol/merkle/index.ts';
import type { DeviceCounters } from '../../agent/store/agentStore.ts';

describe('ingest helpers', () => {
  it('recordLeafHash (node:crypto) equals RFC 6962 leafHash (protocol, pure JS)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => Buffer.from(recordLeafHash(b)).equals(Buffer.from(leafHash(b)))), { numRuns: 500 });
  });

  it('countSequence: gaps open on skips and close on late arrivals', () => {
    const c: DeviceCounters = { maxSeq: null, received: 0, duplicates: 0, gaps: 0, reorders: 0, quarantined: 0, lastSeen: null };
    for (const s of [1, 2, 5, 3, 6, 4]) countSequence(c, s);
    expect(c).toMatchObject({ maxSeq: 6, received: 6, gaps: 0, reorders: 2 });
    countSequence(c, 10);
    expect(c.gaps).toBe(3);
  });
});

import type { Database } from 'better-sqlite3';
import type { WriteBatch } from './writeBatch.ts';

/** Prepared statements that apply WriteBatches; the caller wraps `apply` in a transaction. */
export declare class BatchWriter {
  readonly db: Database;
  constructor(db: Database);
  /** `packed`: more leaves, nodes and records of the same batch (packedRows.mjs), written before `batch`'s own. */
  apply(batch: WriteBatch, packed?: Uint8Array): void;
}

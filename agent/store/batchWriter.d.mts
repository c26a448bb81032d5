import type { Database } from 'better-sqlite3';
import type { WriteBatch } from './writeBatch.ts';

/** Prepared statements that apply WriteBatches; the caller wraps `apply` in a transaction. */
export declare class BatchWriter {
  readonly db: Database;
  constructor(db: Database);
  apply(batch: WriteBatch): void;
}

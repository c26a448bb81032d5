import type { Database } from 'better-sqlite3';

/** Log positions per bucket of the record-id index (table record_ids): 2^12 = 4,096 leaves. */
export declare const RECORD_ID_BUCKET_BITS: number;

/** Fills table record_ids for every complete bucket of the log, inside the write transaction. */
export declare class RecordIdIndexer {
  constructor(db: Database);
  indexUpTo(logSize: number): void;
}

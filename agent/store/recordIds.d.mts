import type { Database } from 'better-sqlite3';

/** Log positions per bucket of the record-id index (table record_ids): 2^12 = 4,096 leaves. */
export declare const RECORD_ID_BUCKET_BITS: number;

/** Buckets [0, n) of the log are in record_ids. */
export declare const INDEXED_BUCKETS_SQL: string;

/** Fills table record_ids for every complete bucket of the log, inside the write transaction. */
export declare class RecordIdIndexer {
  constructor(db: Database);
  indexUpTo(logSize: number): void;
}

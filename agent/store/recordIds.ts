import type { Database, Statement } from 'better-sqlite3';

/** Log positions per bucket of the record-id index (table record_ids): 2^12 = 4,096 leaves. */
export const RECORD_ID_BUCKET_BITS = 12;

/** Buckets [0, n) of the log are in record_ids (read by the writer here and by AgentStore.getRecord). */
export const INDEXED_BUCKETS_SQL = 'SELECT COALESCE(MAX(bucket) + 1, 0) FROM record_ids';

/**
 * Keeps table record_ids (bucket, record_id → leaf_idx) filled for every *complete* bucket of the
 * log: the bucket's ids go in, sorted, in the transaction whose commit takes the log past the
 * bucket's end. A record's id is a random 32-byte hash; inserting it into an index as it arrives
 * dirtied a random page of the current bucket's ~45 per reading (9 of the ~12 pages an 11-reading
 * commit wrote, measured with .prof/bw2.mts), where one sorted bulk insert per bucket writes each
 * page once. Records of the incomplete last bucket are found by scanning it (AgentStore.getRecord).
 */
export class RecordIdIndexer {
  private readonly indexedBuckets: Statement<[], number>;
  private readonly fill: Statement<[from: number, to: number]>;
  /**
   * Complete buckets at the last call: a hint that skips the MAX query. If that call's transaction
   * rolled back, the bucket is filled at the next bucket's end instead (the fill covers every
   * bucket from the table's last one); until then getRecord's scan of the unindexed tail covers it.
   */
  private completeSeen = -1;

  constructor(db: Database) {
    this.indexedBuckets = db.prepare<[], number>(INDEXED_BUCKETS_SQL).pluck();
    this.fill = db.prepare<[from: number, to: number]>(
      `INSERT INTO record_ids(bucket, record_id, leaf_idx)
         SELECT leaf_idx >> ${RECORD_ID_BUCKET_BITS}, record_id, leaf_idx FROM records
         WHERE leaf_idx >= ? AND leaf_idx < ? ORDER BY leaf_idx >> ${RECORD_ID_BUCKET_BITS}, record_id`,
    );
  }

  /** Inside the write transaction, after the rows that take the log to `logSize` leaves. */
  indexUpTo(logSize: number): void {
    const complete = Math.floor(logSize / 2 ** RECORD_ID_BUCKET_BITS);
    if (complete === this.completeSeen) return; // no bucket completed since the last call (the common case)
    // read, not remembered: a rolled-back transaction must not leave a bucket marked as indexed
    const indexed = this.indexedBuckets.get()!; // MAX(…) + 1 or 0: always one row
    if (complete > indexed) this.fill.run(indexed * 2 ** RECORD_ID_BUCKET_BITS, complete * 2 ** RECORD_ID_BUCKET_BITS);
    this.completeSeen = complete;
  }
}

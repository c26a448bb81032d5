/**
 * The statements that read level 0 of the transparency log (its own module: the node store and the
 * agent store both use them). Level 0 is, since schema v7 (agent/store/migrations.ts), the leaf_hash
 * of records (kind 1) and access_events (kind 2), by leaf_idx. The statements name both tables rather than view log_leaves: over the view an ORDER BY
 * sorts every row from `from` on in a temporary B-tree; here both rowid ranges merge in order
 * (EXPLAIN QUERY PLAN: MERGE (UNION ALL), checked in test/agent/nodeStore.test.ts), and LIMIT stops early.
 */

/** The leaf hash at @i. */
export const LEAF_AT_SQL =
  'SELECT leaf_hash FROM records WHERE leaf_idx = @i UNION ALL SELECT leaf_hash FROM access_events WHERE leaf_idx = @i';
/** The leaf hashes at [@from, @to), in order. */
export const LEAF_RANGE_SQL =
  'SELECT leaf_hash, leaf_idx FROM records WHERE leaf_idx >= @from AND leaf_idx < @to UNION ALL SELECT leaf_hash, leaf_idx FROM access_events WHERE leaf_idx >= @from AND leaf_idx < @to ORDER BY 2';
/** At most @limit leaf hashes from @from on, in order. */
export const LEAVES_FROM_SQL =
  'SELECT leaf_hash, leaf_idx FROM records WHERE leaf_idx >= @from UNION ALL SELECT leaf_hash, leaf_idx FROM access_events WHERE leaf_idx >= @from ORDER BY 2 LIMIT @limit';
/** The log's size: the last leaf index + 1 (each MAX is one look at the end of its table's rowid B-tree). */
export const LOG_SIZE_SQL =
  'SELECT MAX(COALESCE((SELECT MAX(leaf_idx) FROM records), -1), COALESCE((SELECT MAX(leaf_idx) FROM access_events), -1)) + 1';

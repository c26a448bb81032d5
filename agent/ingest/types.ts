import type { EnvelopeHeaderView } from '../../protocol/envelope/index.ts';

/** What the ingest pipeline needs from an envelope: the protocol decoder's header view (no key). */
export type { EnvelopeHeaderView };

export type EnvelopeDecoder = (bytes: Uint8Array, maxBytes: number) => EnvelopeHeaderView;

export type IngestSource = 'mqtt' | 'external' | 'serial';

export type IngestOutcome =
  | { readonly kind: 'stored'; readonly recordId: Uint8Array; readonly leafIndex: number; readonly device: string; readonly seq: number }
  | { readonly kind: 'duplicate'; readonly recordId: Uint8Array; readonly device: string; readonly seq: number }
  | { readonly kind: 'quarantined'; readonly reason: string; readonly device: string | null; readonly seq: number | null }
  | { readonly kind: 'failed'; readonly error: Error };

export interface IngestItem {
  /** Device the transport authenticated or the topic names (null when unknown, e.g. serial before decoding). */
  readonly linkDevice: string | null;
  readonly payload: Uint8Array;
  readonly source: IngestSource;
  /** Called once, after the group commit that made the outcome durable. */
  readonly done: (outcome: IngestOutcome) => void;
}

/**
 * Whether group commits succeed. 'failing' from the first failed commit (STORE_FULL,
 * STORE_SYNC_FAILED, STORE_COMMIT_FAILED) until a group of readings or access events commits
 * again; meanwhile nothing is acknowledged and /healthz answers 503 with `code`.
 */
export type StoreHealth =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'failing'; readonly code: string; readonly error: Error; readonly since: number; readonly failures: number };

/** Metrics/logging hooks; all optional, all cheap. */
export interface IngestObserver {
  onCommit?(batchSize: number, seconds: number, logSize: number): void;
  onOutcome?(outcome: IngestOutcome, source: IngestSource): void;
  onCommitFailed?(error: Error, batchSize: number): void;
  /** The store became failing (or failed with another code), or healthy again. */
  onStoreHealth?(health: StoreHealth, previous: StoreHealth): void;
}

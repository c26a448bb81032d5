import type { DeviceCounters, RecordRow } from './agentStore.ts';

/**
 * Every row one ingest group commit writes, as plain data (structured-clonable: it crosses to the
 * writer thread as is). The ingestor decides everything — validation, log positions, node hashes,
 * counters — on the event loop; a BatchWriter only executes the rows inside one transaction.
 */
export interface WriteBatch {
  /** Devices seen for the first time (INSERT OR IGNORE). */
  newDevices: Array<[id: string, createdAt: number]>;
  /** Complete subtree hashes above the leaves (the leaves themselves are the records' and access events' leaf hashes). */
  nodes: Array<[level: number, index: number, hash: Uint8Array]>;
  /** Readings, each with its log leaf (kind 1): level 0 of the log is records.leaf_hash and access_events.leaf_hash (schema v7). */
  records: RecordWrite[];
  /** Access events, each with its log leaf (kind 2). */
  accessEvents: Array<[leafIndex: number, at: number, body: Uint8Array, leafHash: Uint8Array]>;
  counters: Array<DeviceCounters & { id: string }>;
  /** `payload`: the first bytes only (bounded), `size`: the whole envelope's. */
  quarantine: Array<{ receivedAt: number; source: string; deviceHint: string | null; reason: string; size: number; payload: Uint8Array }>;
  /** Rows to delete after the inserts, oldest first, per device hint (agent/ingest/quarantineQuota.ts decides). */
  quarantineTrim: Array<[deviceHint: string | null, rows: number]>;
  /** Backstop: never more rows than this in all (the quota keeps below it; this only bounds a miscount). */
  quarantineMaxRows: number;
  /** Online/offline changes: [device, online, at]. */
  status: Array<[device: string, online: boolean, at: number]>;
  /** The log size after this batch, when it appended leaves. */
  logSize: number | null;
}

/** A record as written: the served row (RecordRow) and its RFC 6962 leaf hash at `leafIndex`. */
export interface RecordWrite extends RecordRow {
  leafHash: Uint8Array;
}

export function emptyWriteBatch(quarantineMaxRows: number): WriteBatch {
  return {
    newDevices: [],
    nodes: [],
    records: [],
    accessEvents: [],
    counters: [],
    quarantine: [],
    quarantineTrim: [],
    quarantineMaxRows,
    status: [],
    logSize: null,
  };
}

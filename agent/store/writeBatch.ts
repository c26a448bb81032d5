import type { DeviceCounters, RecordRow } from './agentStore.ts';

/**
 * Every row one ingest group commit writes, as plain data (structured-clonable: it crosses to the
 * writer thread as is). The ingestor decides everything — validation, log positions, node hashes,
 * counters — on the event loop; a BatchWriter only executes the rows inside one transaction.
 */
export interface WriteBatch {
  /** Devices seen for the first time (INSERT OR IGNORE). */
  newDevices: Array<[id: string, createdAt: number]>;
  /** Log leaves: level 0 of the node store (kind 1 record, 2 access event). */
  leaves: Array<[index: number, hash: Uint8Array, kind: number]>;
  /** Complete subtree hashes above the leaves. */
  nodes: Array<[level: number, index: number, hash: Uint8Array]>;
  records: RecordRow[];
  accessEvents: Array<[leafIndex: number, at: number, body: Uint8Array]>;
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

export function emptyWriteBatch(quarantineMaxRows: number): WriteBatch {
  return {
    newDevices: [],
    leaves: [],
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

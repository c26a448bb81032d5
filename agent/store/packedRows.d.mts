import type { WriteBatch } from './writeBatch.ts';

/** Receives the rows `unpackRows` reads, in packed order (leaves, nodes, records). */
export interface PackedRowSink {
  leaf(index: number, hash: Uint8Array, kind: number): void;
  node(level: number, index: number, hash: Uint8Array): void;
  record(
    recordId: Uint8Array,
    leafIndex: number,
    device: string,
    seq: number,
    ts: number,
    st: string,
    kid: Uint8Array,
    envelope: Uint8Array,
    receivedAt: number,
    source: string,
  ): void;
}

/** `b`'s leaves, nodes and records in one buffer with its own ArrayBuffer (transferable). */
export function packRows(b: WriteBatch): Uint8Array<ArrayBuffer>;
export function unpackRows(bytes: Uint8Array, to: PackedRowSink): void;

import type { WriteBatch } from './writeBatch.ts';

/**
 * The per-reading rows of a WriteBatch (log nodes, records with their leaf hashes) packed into one buffer
 * for the trip to the writer thread: a transferred ArrayBuffer instead of a structured clone of
 * ~3 objects and ~5 byte arrays per reading (the clone was ~12 % of the event loop's time in the
 * 16-publisher ingest bench). Little-endian; integers up to 2^53 as float64:
 *
 *   u32 nodes, u32 records
 *   node:   u8 level, f64 index, 32 B hash
 *   record: f64 leafIndex, f64 seq, f64 ts, f64 receivedAt, 32 B recordId, 32 B leafHash,
 *           u16 kid length, kid, u32 envelope length, envelope,
 *           u8 length + UTF-8 of device, st, source (each ≤ 255 bytes)
 */
const HASH = 32;

/** Receives the rows `unpackRows` reads, in packed order (nodes, records). */
export interface PackedRowSink {
  node(level: number, index: number, hash: Uint8Array): void;
  record(
    recordId: Uint8Array,
    leafIndex: number,
    leafHash: Uint8Array,
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

/** `b`'s nodes and records in one buffer with its own ArrayBuffer (transferable). */
export function packRows(b: WriteBatch): Uint8Array<ArrayBuffer> {
  let size = 8 + b.nodes.length * (9 + HASH);
  for (const r of b.records) {
    size +=
      32 +
      HASH +
      HASH +
      2 +
      r.kid.length +
      4 +
      r.envelope.length +
      3 +
      Buffer.byteLength(r.device) +
      Buffer.byteLength(r.st) +
      Buffer.byteLength(r.source);
  }
  const buf = Buffer.allocUnsafeSlow(size);
  let o = buf.writeUInt32LE(b.nodes.length, 0);
  o = buf.writeUInt32LE(b.records.length, o);
  for (const [level, index, hash] of b.nodes) {
    o = buf.writeUInt8(level, o);
    o = buf.writeDoubleLE(index, o);
    o = putHash(buf, hash, o);
  }
  for (const r of b.records) {
    o = buf.writeDoubleLE(r.leafIndex, o);
    o = buf.writeDoubleLE(r.seq, o);
    o = buf.writeDoubleLE(r.ts, o);
    o = buf.writeDoubleLE(r.receivedAt, o);
    o = putHash(buf, r.recordId, o);
    o = putHash(buf, r.leafHash, o);
    o = buf.writeUInt16LE(r.kid.length, o);
    buf.set(r.kid, o);
    o += r.kid.length;
    o = buf.writeUInt32LE(r.envelope.length, o);
    buf.set(r.envelope, o);
    o += r.envelope.length;
    o = putShortString(buf, r.device, o);
    o = putShortString(buf, r.st, o);
    o = putShortString(buf, r.source, o);
  }
  if (o !== size) throw new Error(`packRows: wrote ${o} of ${size} bytes`);
  // allocUnsafeSlow: not from the shared pool, so the ArrayBuffer is this buffer's alone
  return new Uint8Array(buf.buffer as ArrayBuffer, 0, size);
}

/**
 * Calls `to.node`, `to.record` for every packed row, in order; byte fields are views
 * into `bytes` (better-sqlite3 copies what it binds).
 */
export function unpackRows(bytes: Uint8Array, to: PackedRowSink): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nodes = buf.readUInt32LE(0);
  const records = buf.readUInt32LE(4);
  let o = 8;
  // `buf[…]!`: a read past the end (a malformed buffer) fails the length check at the end
  for (let i = 0; i < nodes; i++, o += 9 + HASH) to.node(buf[o]!, buf.readDoubleLE(o + 1), buf.subarray(o + 9, o + 9 + HASH));
  for (let i = 0; i < records; i++) {
    const leafIndex = buf.readDoubleLE(o);
    const seq = buf.readDoubleLE(o + 8);
    const ts = buf.readDoubleLE(o + 16);
    const receivedAt = buf.readDoubleLE(o + 24);
    const recordId = buf.subarray(o + 32, o + 32 + HASH);
    const leafHash = buf.subarray(o + 32 + HASH, o + 32 + 2 * HASH);
    o += 32 + 2 * HASH;
    const kidLength = buf.readUInt16LE(o);
    const kid = buf.subarray(o + 2, o + 2 + kidLength);
    o += 2 + kidLength;
    const envelopeLength = buf.readUInt32LE(o);
    const envelope = buf.subarray(o + 4, o + 4 + envelopeLength);
    o += 4 + envelopeLength;
    const device = buf.toString('utf8', o + 1, o + 1 + buf[o]!);
    o += 1 + buf[o]!;
    const st = buf.toString('utf8', o + 1, o + 1 + buf[o]!);
    o += 1 + buf[o]!;
    const source = buf.toString('utf8', o + 1, o + 1 + buf[o]!);
    o += 1 + buf[o]!;
    to.record(recordId, leafIndex, leafHash, device, seq, ts, st, kid, envelope, receivedAt, source);
  }
  if (o !== buf.length) throw new Error(`unpackRows: read ${o} of ${buf.length} bytes`);
}

function putHash(buf: Buffer, hash: Uint8Array, o: number): number {
  if (hash.length !== HASH) throw new Error(`packRows: a hash of ${hash.length} bytes`);
  buf.set(hash, o);
  return o + HASH;
}

function putShortString(buf: Buffer, s: string, o: number): number {
  const n = buf.write(s, o + 1, 'utf8');
  if (n > 255) throw new Error('packRows: a string over 255 bytes');
  buf[o] = n;
  return o + 1 + n;
}

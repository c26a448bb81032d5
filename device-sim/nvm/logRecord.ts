import { crc32 } from '../../protocol/framing/index.ts';

/**
 * The outbox log: append-only records, each
 *   type u8 ‖ length u32 BE ‖ payload ‖ CRC-32(type ‖ length ‖ payload) u32 LE,
 * so a torn write at the end (power loss, kill -9) is detected and cut off on boot.
 *  - sealed:     seq u64 ‖ ts u64 ‖ envelope        (written and fsynced BEFORE the first send)
 *  - acked:      seq u64                            (not fsynced: losing it only means a resend,
 *  - rejected:   seq u64                             which the agent acknowledges as a duplicate)
 *  - dropped:    seq u64                            (the ring was full: counted, never silent)
 *  - checkpoint: maxSeq u64 ‖ dropped u64           (first record after a compaction)
 */
export type LogRecord =
  | { readonly t: 'sealed'; readonly seq: number; readonly ts: number; readonly envelope: Uint8Array }
  | { readonly t: 'acked'; readonly seq: number }
  | { readonly t: 'rejected'; readonly seq: number }
  | { readonly t: 'dropped'; readonly seq: number }
  | { readonly t: 'checkpoint'; readonly maxSeq: number; readonly dropped: number };

const TYPE = { sealed: 1, acked: 2, rejected: 3, dropped: 4, checkpoint: 5 } as const;
const HEAD = 5;
const TAIL = 4;
/** Larger than any envelope (4 KiB) plus its fields. */
const MAX_PAYLOAD = 16 * 1024;

function putU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

function getU64(view: DataView, at: number): number {
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

export function encodeLogRecord(r: LogRecord): Uint8Array {
  const payloadLength = r.t === 'sealed' ? 16 + r.envelope.length : r.t === 'checkpoint' ? 16 : 8;
  const out = new Uint8Array(HEAD + payloadLength + TAIL);
  const view = new DataView(out.buffer);
  out[0] = TYPE[r.t];
  view.setUint32(1, payloadLength);
  if (r.t === 'sealed') {
    putU64(view, HEAD, r.seq);
    putU64(view, HEAD + 8, r.ts);
    out.set(r.envelope, HEAD + 16);
  } else if (r.t === 'checkpoint') {
    putU64(view, HEAD, r.maxSeq);
    putU64(view, HEAD + 8, r.dropped);
  } else {
    putU64(view, HEAD, r.seq);
  }
  view.setUint32(HEAD + payloadLength, crc32(out.subarray(0, HEAD + payloadLength)), true);
  return out;
}

/** Decodes records until the end or the first damaged one; `validBytes` is where a torn tail starts. */
export function decodeLog(bytes: Uint8Array): { records: LogRecord[]; validBytes: number } {
  const records: LogRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEAD + TAIL <= bytes.length) {
    const type = bytes[at]!;
    const len = view.getUint32(at + 1);
    if (len > MAX_PAYLOAD || at + HEAD + len + TAIL > bytes.length) break;
    const crc = view.getUint32(at + HEAD + len, true);
    if (crc32(bytes.subarray(at, at + HEAD + len)) !== crc) break;
    const p = at + HEAD;
    let r: LogRecord | undefined;
    if (type === TYPE.sealed && len >= 16)
      r = { t: 'sealed', seq: getU64(view, p), ts: getU64(view, p + 8), envelope: new Uint8Array(bytes.subarray(p + 16, p + len)) };
    else if (type === TYPE.checkpoint && len === 16) r = { t: 'checkpoint', maxSeq: getU64(view, p), dropped: getU64(view, p + 8) };
    else if (len === 8 && type === TYPE.acked) r = { t: 'acked', seq: getU64(view, p) };
    else if (len === 8 && type === TYPE.rejected) r = { t: 'rejected', seq: getU64(view, p) };
    else if (len === 8 && type === TYPE.dropped) r = { t: 'dropped', seq: getU64(view, p) };
    if (r === undefined) break;
    records.push(r);
    at += HEAD + len + TAIL;
  }
  return { records, validBytes: at };
}

/**
 * Incremental frame decoder for a byte stream (serial line, socket, pty).
 *
 * Usage: `const results = decoder.push(chunk)`; each call returns, in stream order,
 * one FrameResult per frame that *ended* in this chunk ({ok: true, frame}) or per
 * dropped frame (a FrameDrop: {ok: false, code, error} with a FRAME_* code; `error`
 * is a VitalsealError built on demand). Nothing is ever thrown for
 * bad input, and the decoder always resynchronises at the next 0x00:
 * - garbage between frames ends up in a run of its own and is dropped (bad COBS /
 *   CRC / too short); a sender may send a lone 0x00 before a frame to flush noise;
 * - empty runs (0x00 0x00) are ignored and not counted;
 * - a run longer than the largest valid encoded frame is reported once as
 *   FRAME_OVERSIZE as soon as it gets too long, and the rest of it is discarded up
 *   to the next 0x00: memory stays bounded by one maximal frame;
 * - a truncated frame at the end of the stream stays pending (`pendingBytes`) until
 *   more data or a delimiter arrives.
 * `counters` counts frames and every kind of drop.
 */
import {
  FRAME_DELIMITER,
  FrameDrop,
  maxEncodedFrameLength,
  resolveMaxBody,
  tryDecodeFrame,
  type FrameErrorCode,
  type FrameLimits,
  type FrameResult,
} from './frame.ts';

export interface FrameCounters {
  frames: number;
  badCobs: number;
  badCrc: number;
  oversize: number;
  tooShort: number;
  unknownType: number;
}

const COUNTER_OF: Record<FrameErrorCode, keyof Omit<FrameCounters, 'frames'>> = {
  FRAME_BAD_COBS: 'badCobs',
  FRAME_BAD_CRC: 'badCrc',
  FRAME_OVERSIZE: 'oversize',
  FRAME_TOO_SHORT: 'tooShort',
  FRAME_UNKNOWN_TYPE: 'unknownType',
};

export class FrameDecoder {
  private readonly limits: FrameLimits;
  private readonly buffer: Uint8Array;
  private length = 0;
  private discarding = false;
  private readonly count: FrameCounters = { frames: 0, badCobs: 0, badCrc: 0, oversize: 0, tooShort: 0, unknownType: 0 };

  constructor(limits?: FrameLimits) {
    this.limits = { maxBody: resolveMaxBody(limits) };
    this.buffer = new Uint8Array(maxEncodedFrameLength(this.limits.maxBody));
  }

  /** Feeds bytes; returns the frames and drops completed by them, in order. */
  push(chunk: Uint8Array): FrameResult[] {
    const results: FrameResult[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const delimiterAt = chunk.indexOf(FRAME_DELIMITER, pos);
      const end = delimiterAt === -1 ? chunk.length : delimiterAt;
      this.take(chunk.subarray(pos, end), results);
      if (delimiterAt === -1) break;
      this.endRun(results);
      pos = delimiterAt + 1;
    }
    return results;
  }

  /** A snapshot of the counters. */
  get counters(): Readonly<FrameCounters> {
    return { ...this.count };
  }

  /** Bytes of the current, unfinished frame (0 while discarding an oversize run). */
  get pendingBytes(): number {
    return this.length;
  }

  /** Forgets any partial frame (e.g. after the port was reopened). Counters are kept. */
  reset(): void {
    this.length = 0;
    this.discarding = false;
  }

  private take(bytes: Uint8Array, results: FrameResult[]): void {
    if (this.discarding || bytes.length === 0) return;
    if (this.length + bytes.length > this.buffer.length) {
      this.discarding = true;
      this.length = 0;
      results.push(this.record(new FrameDrop('FRAME_OVERSIZE')));
      return;
    }
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private endRun(results: FrameResult[]): void {
    if (this.discarding) {
      this.discarding = false;
    } else if (this.length > 0) {
      const result = tryDecodeFrame(this.buffer.subarray(0, this.length), this.limits);
      if (result.ok) this.count.frames++;
      else this.record(result);
      results.push(result);
    }
    this.length = 0;
  }

  private record(drop: FrameDrop): FrameDrop {
    this.count[COUNTER_OF[drop.code]]++;
    return drop;
  }
}

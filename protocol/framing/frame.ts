/**
 * Serial frames (docs/PROTOCOL.md §8.1):
 *   wire  = COBS(type ‖ body ‖ CRC-32(type ‖ body) little-endian) ‖ 0x00
 * The body is opaque bytes at this layer (CBOR above it).
 */
import { VitalsealError, fail } from '../errors.ts';
import { cobsDecodeOrUndefined, cobsEncode, cobsMaxEncodedLength } from './cobs.ts';
import { crc32 } from './crc32.ts';
import { isFrameType, type FrameType } from './types.ts';

export interface Frame {
  readonly type: FrameType;
  readonly body: Uint8Array;
}

/** Default largest body: 4 KiB. */
export const DEFAULT_MAX_BODY = 4096;

/** Bytes a frame adds around its body before COBS: type byte and CRC-32. */
export const FRAME_OVERHEAD = 1 + 4;

export const FRAME_DELIMITER = 0x00;

export interface FrameLimits {
  /** Largest body accepted or produced, in bytes (default DEFAULT_MAX_BODY). */
  readonly maxBody?: number;
}

/** Largest COBS-encoded frame (delimiter excluded) for bodies of at most `maxBody` bytes. */
export function maxEncodedFrameLength(maxBody: number = DEFAULT_MAX_BODY): number {
  return cobsMaxEncodedLength(FRAME_OVERHEAD + maxBody);
}

export function resolveMaxBody(limits?: FrameLimits): number {
  const maxBody = limits?.maxBody ?? DEFAULT_MAX_BODY;
  if (!Number.isSafeInteger(maxBody) || maxBody < 0) throw new RangeError('maxBody must be a non-negative integer');
  return maxBody;
}

/**
 * Encodes one frame ready for the wire, trailing 0x00 included.
 * Throws FRAME_UNKNOWN_TYPE or FRAME_OVERSIZE (body longer than maxBody).
 */
export function encodeFrame(type: FrameType, body: Uint8Array, limits?: FrameLimits): Uint8Array {
  if (!isFrameType(type)) fail('FRAME_UNKNOWN_TYPE');
  if (body.length > resolveMaxBody(limits)) fail('FRAME_OVERSIZE');
  const raw = new Uint8Array(1 + body.length + 4);
  raw[0] = type;
  raw.set(body, 1);
  const crc = crc32(raw.subarray(0, 1 + body.length));
  new DataView(raw.buffer).setUint32(1 + body.length, crc, true);
  const encoded = cobsEncode(raw);
  const wire = new Uint8Array(encoded.length + 1);
  wire.set(encoded);
  wire[encoded.length] = FRAME_DELIMITER;
  return wire;
}

/**
 * Decodes one COBS frame, delimiter removed. Checks, in order: size (FRAME_OVERSIZE),
 * COBS (FRAME_BAD_COBS), length ≥ type + CRC (FRAME_TOO_SHORT), body size
 * (FRAME_OVERSIZE), CRC (FRAME_BAD_CRC), type (FRAME_UNKNOWN_TYPE). The body is a
 * fresh copy. Bad input only ever throws a VitalsealError (a bad `limits` is a RangeError).
 */
export function decodeFrame(encoded: Uint8Array, limits?: FrameLimits): Frame {
  const result = decodeFrameOrCode(encoded, resolveMaxBody(limits));
  return typeof result === 'string' ? fail(result) : result;
}

/** The FRAME_* codes a received frame can be dropped with. */
export type FrameErrorCode = 'FRAME_OVERSIZE' | 'FRAME_BAD_COBS' | 'FRAME_TOO_SHORT' | 'FRAME_BAD_CRC' | 'FRAME_UNKNOWN_TYPE';

/**
 * A dropped frame: `code` says why; `error` is the matching VitalsealError, built on
 * first access (building an Error captures a stack trace: too slow to do for every run
 * of line noise; bench/README.md "Measurements behind design choices").
 */
export class FrameDrop {
  readonly ok = false;
  private built: VitalsealError | undefined;
  constructor(readonly code: FrameErrorCode) {}
  get error(): VitalsealError {
    this.built ??= new VitalsealError(this.code);
    return this.built;
  }
}

/** decodeFrame's outcome without throwing. */
export type FrameResult = { readonly ok: true; readonly frame: Frame } | FrameDrop;

export function tryDecodeFrame(encoded: Uint8Array, limits?: FrameLimits): FrameResult {
  const result = decodeFrameOrCode(encoded, resolveMaxBody(limits));
  return typeof result === 'string' ? new FrameDrop(result) : { ok: true, frame: result };
}

/** The frame, or the code of the first check it fails; no exceptions on the hot path. */
function decodeFrameOrCode(encoded: Uint8Array, maxBody: number): Frame | FrameErrorCode {
  if (encoded.length > maxEncodedFrameLength(maxBody)) return 'FRAME_OVERSIZE';
  const raw = cobsDecodeOrUndefined(encoded);
  if (raw === undefined) return 'FRAME_BAD_COBS';
  if (raw.length < FRAME_OVERHEAD) return 'FRAME_TOO_SHORT';
  const bodyEnd = raw.length - 4;
  if (bodyEnd - 1 > maxBody) return 'FRAME_OVERSIZE';
  const expected = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getUint32(bodyEnd, true);
  if (crc32(raw.subarray(0, bodyEnd)) !== expected) return 'FRAME_BAD_CRC';
  const type = raw[0]!;
  if (!isFrameType(type)) return 'FRAME_UNKNOWN_TYPE';
  return { type, body: raw.slice(1, bodyEnd) };
}

/** Serial framing: COBS frames delimited by 0x00, type ‖ body ‖ CRC-32 (LE). */
export { FRAME_TYPE, isFrameType, frameTypeName, type FrameType, type FrameTypeName } from './types.ts';
export { crc32 } from './crc32.ts';
export { cobsEncode, cobsDecode, cobsMaxEncodedLength } from './cobs.ts';
export {
  DEFAULT_MAX_BODY,
  FRAME_OVERHEAD,
  FRAME_DELIMITER,
  encodeFrame,
  decodeFrame,
  tryDecodeFrame,
  maxEncodedFrameLength,
  FrameDrop,
  type FrameErrorCode,
  type Frame,
  type FrameLimits,
  type FrameResult,
} from './frame.ts';
export { FrameDecoder, type FrameCounters } from './decoder.ts';
export { encodeAck, decodeAck, type Ack } from './ack.ts';

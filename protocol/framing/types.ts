/** Serial frame types (docs/PROTOCOL.md §8.4): the first byte of every frame. */
export const FRAME_TYPE = {
  ticket: 0x01,
  reading: 0x02,
  ack: 0x03,
  status: 0x04,
  error: 0x05,
} as const;

export type FrameTypeName = keyof typeof FRAME_TYPE;
export type FrameType = (typeof FRAME_TYPE)[FrameTypeName];

export function isFrameType(b: number): b is FrameType {
  return Number.isInteger(b) && b >= FRAME_TYPE.ticket && b <= FRAME_TYPE.error;
}

const NAMES: Record<FrameType, FrameTypeName> = { 1: 'ticket', 2: 'reading', 3: 'ack', 4: 'status', 5: 'error' };

export function frameTypeName(type: FrameType): FrameTypeName {
  return NAMES[type];
}

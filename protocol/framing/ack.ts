/**
 * Body of an ack frame (type 0x03): the agent confirms it committed reading `seq`
 * of device `dev`. Layout, v1: the deterministic CBOR map {"dev": tstr, "seq": uint}
 * (protocol/cbor encodeCanonical: keys in bytewise order, shortest integers), e.g.
 * dev "d1", seq 7 → a2 63 646576 62 6431 63 736571 07 (13 bytes).
 * Decoding is strict: exactly these two keys, dev a device id (../deviceId.ts),
 * seq a non-negative safe integer; anything else is FRAME_BAD_BODY (cause chained).
 */
import { fail, isVitalsealError } from '../errors.ts';
import { decodeStrict, encodeCanonical, isCborMap } from '../cbor/index.ts';
import { isDeviceId } from '../deviceId.ts';

export interface Ack {
  readonly dev: string;
  readonly seq: number;
}

const MAX_ACK_BYTES = 256;

function isValidAck(dev: unknown, seq: unknown): boolean {
  return isDeviceId(dev) && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0;
}

/** Encodes an ack body. Throws FRAME_BAD_BODY for a dev that is not a device id or a seq that is not a safe uint. */
export function encodeAck(ack: Ack): Uint8Array {
  if (!isValidAck(ack.dev, ack.seq)) fail('FRAME_BAD_BODY', 'ack needs a device id and a non-negative integer seq');
  return encodeCanonical(
    new Map<string, string | number>([
      ['dev', ack.dev],
      ['seq', ack.seq],
    ]),
  );
}

/** Decodes an ack body; throws FRAME_BAD_BODY (with the CBOR error as cause when it is not CBOR). */
export function decodeAck(body: Uint8Array): Ack {
  let value: unknown;
  try {
    value = decodeStrict(body, { maxBytes: MAX_ACK_BYTES, maxDepth: 1, maxItems: 2, floats: 'nowhere' }); // seq is a uint53, never a float
  } catch (e) {
    if (isVitalsealError(e)) fail('FRAME_BAD_BODY', 'ack body is not valid CBOR', e);
    throw e;
  }
  if (!isCborMap(value) || value.size !== 2) fail('FRAME_BAD_BODY', 'ack body is not a {dev, seq} map');
  const dev = value.get('dev');
  const rawSeq = value.get('seq');
  // 64-bit CBOR integers may decode as bigint; only the safe-integer range is valid.
  const seq = typeof rawSeq === 'bigint' && rawSeq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rawSeq) : rawSeq;
  if (!isValidAck(dev, seq)) fail('FRAME_BAD_BODY', 'ack body has a bad dev or seq');
  return { dev: dev as string, seq: seq as number };
}

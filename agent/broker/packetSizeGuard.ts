import { Transform, type TransformCallback } from 'node:stream';

/**
 * Enforces a maximum MQTT packet size before the broker's parser buffers anything:
 * follows the fixed headers (MQTT 3.1.1 §2.2: type byte + 1–4 byte Remaining Length)
 * across chunks and errors the stream when a packet announces more than `maxBytes`.
 * aedes' parser (mqtt-packet) would otherwise buffer up to 256 MiB per client.
 */
export class PacketSizeGuard extends Transform {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private bodyLeft = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      // Remaining Length: 7 bits per byte, continuation bit 0x80, at most 4 bytes
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (this.length > this.maxBytes) {
        cb(Object.assign(new Error(`MQTT packet exceeds ${this.maxBytes} bytes`), { code: 'MQTT_PACKET_TOO_LARGE' }));
        return;
      }
      if ((byte & 0x80) === 0) {
        this.bodyLeft = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      } else if (this.multiplier > 128 ** 4) {
        cb(Object.assign(new Error('malformed MQTT remaining length'), { code: 'MQTT_MALFORMED' }));
        return;
      }
    }
    cb(null, chunk);
  }
}

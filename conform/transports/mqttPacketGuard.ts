/**
 * The kit's bound on what one MQTT connection can make its broker buffer: follows the fixed
 * headers (MQTT 3.1.1 §2.2: a type byte, then a Remaining Length of 1–4 bytes) across chunks and
 * says when a packet announces more than `maxBytes` or a length is malformed, before the parser
 * buffers the body. The connection is then closed (a fail verdict for the case, never a crash).
 */
export class MqttPacketGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private shift = 0;
  private left = 0;

  constructor(private readonly maxBytes: number) {}

  /** Undefined while the stream is acceptable, else why it is not. */
  scan(chunk: Uint8Array): 'packet too large' | 'malformed remaining length' | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.left, chunk.length - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = 'type';
        continue;
      }
      const b = chunk[i++]!;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.shift = 0;
        continue;
      }
      this.length += (b & 0x7f) * 2 ** this.shift;
      this.shift += 7;
      if (this.length > this.maxBytes) return 'packet too large';
      if ((b & 0x80) === 0) {
        this.left = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      } else if (this.shift >= 28) return 'malformed remaining length';
    }
    return undefined;
  }
}

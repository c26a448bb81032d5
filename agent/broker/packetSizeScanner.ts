/**
 * Enforces a maximum MQTT packet size before the broker's parser buffers anything:
 * follows the fixed headers (MQTT 3.1.1 §2.2: type byte + 1–4 byte Remaining Length)
 * across chunks and reports a packet that announces more than `maxBytes`.
 * aedes' parser (mqtt-packet) would otherwise buffer up to 256 MiB per client.
 * A plain scanner (no extra stream per connection): it runs on each chunk just before the
 * parser sees it, so 10,000 connections cost no additional stream objects.
 */
export class PacketSizeScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private bodyLeft = 0;

  constructor(private readonly maxBytes: number) {}

  /** Scans a chunk; returns an error code when the stream must be closed, else undefined. */
  scan(chunk: Uint8Array): 'MQTT_PACKET_TOO_LARGE' | 'MQTT_MALFORMED' | undefined {
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
      if (this.length > this.maxBytes) return 'MQTT_PACKET_TOO_LARGE';
      if ((byte & 0x80) === 0) {
        this.bodyLeft = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      } else if (this.multiplier > 128 ** 4) {
        return 'MQTT_MALFORMED';
      }
    }
    return undefined;
  }
}

import { SerialPort } from 'serialport';
import { decodeStrict, encodeCanonical, isCborMap, type CborValue } from '../../protocol/cbor/index.ts';
import { FRAME_TYPE, FrameDecoder, decodeAck, encodeFrame } from '../../protocol/framing/index.ts';
import { SimError } from '../errors.ts';
import { flipByte, type DeviceLink, type DeviceStatus, type LinkEvents } from './link.ts';

export interface SerialLinkOptions {
  readonly path: string;
  readonly deviceId: string;
  readonly baudRate?: number;
  /** For tests: a serialport binding (e.g. SerialPortMock.binding). */
  readonly binding?: unknown;
}

/**
 * A wired device on a real serial line (serialport), docs/PROTOCOL.md §8: COBS
 * frames type ‖ CBOR body ‖ CRC-32. The device sends a status frame {dev, state} when the
 * line comes up; the agent answers with its ticket frame. Reading frames carry the
 * envelope; an ack frame {dev, seq} removes the reading from the outbox, an error frame
 * {code, seq?} means the agent quarantined (and stored) it. Bad frames are counted and
 * dropped, never fatal.
 */
export class SerialLink implements DeviceLink {
  readonly kind = 'serial';
  readonly inProcess = false;
  readonly dropsCorruptCopies = true;
  private port: SerialPort | undefined;
  private readonly decoder = new FrameDecoder();
  private up = false;
  /** Frames the line delivered that did not decode (bad CRC/COBS...). */
  badFrames = 0;

  constructor(
    private readonly o: SerialLinkOptions,
    private readonly events: LinkEvents,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  async open(): Promise<void> {
    const opts = { path: this.o.path, baudRate: this.o.baudRate ?? 115_200, autoOpen: false };
    const port = this.o.binding
      ? new SerialPort({ ...opts, binding: this.o.binding } as ConstructorParameters<typeof SerialPort>[0])
      : new SerialPort(opts);
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new SimError('SIM_SERIAL_UNAVAILABLE', `cannot open ${this.o.path}`, { cause: err })) : resolve())),
    );
    this.port = port;
    this.decoder.reset();
    this.up = true;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => undefined);
    port.on('close', () => this.lost('port closed'));
    // a lone delimiter flushes any noise the agent may have buffered
    port.write(Buffer.of(0));
  }

  private lost(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.port = undefined;
    this.events.onDown(reason);
  }

  async close(_mode: 'graceful' | 'abrupt'): Promise<void> {
    const port = this.port;
    this.up = false;
    this.port = undefined;
    if (!port) return;
    port.removeAllListeners('close');
    port.removeAllListeners('data');
    if (!port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onData(chunk: Buffer): void {
    for (const r of this.decoder.push(chunk)) {
      if (!r.ok) {
        this.badFrames++;
        continue;
      }
      const { type, body } = r.frame;
      try {
        if (type === FRAME_TYPE.ack) {
          const ack = decodeAck(body);
          if (ack.dev === this.o.deviceId) this.events.onAck(ack.seq);
        } else if (type === FRAME_TYPE.ticket) {
          this.events.onTicket(body);
        } else if (type === FRAME_TYPE.error) {
          const m = decodeStrict(body, { maxBytes: 512, maxDepth: 1, maxItems: 4 });
          const code = isCborMap(m) ? m.get('code') : undefined;
          const seq = isCborMap(m) ? m.get('seq') : undefined;
          this.events.onRejected(typeof seq === 'number' ? seq : undefined, typeof code === 'string' ? code : 'UNKNOWN');
        }
      } catch {
        this.badFrames++;
      }
    }
  }

  sendReading(_seq: number, envelope: Uint8Array, corruptAt?: number): number {
    const port = this.port;
    if (!port || !this.up) return 0;
    const wire = encodeFrame(FRAME_TYPE.reading, envelope);
    // never touch the trailing delimiter: the frame stays one frame, its CRC or COBS fails
    if (corruptAt !== undefined) flipByte(wire, Math.floor(corruptAt * (wire.length - 1)));
    port.write(Buffer.from(wire));
    return wire.length;
  }

  sendStatus(status: DeviceStatus): void {
    const port = this.port;
    if (!port || !this.up) return;
    const m = new Map<string, CborValue>([
      ['dev', this.o.deviceId],
      ['state', status.state],
    ]);
    if (status.code !== undefined) m.set('code', status.code);
    if (status.kid !== undefined) m.set('kid', status.kid);
    if (status.seq !== undefined) m.set('seq', status.seq);
    port.write(Buffer.from(encodeFrame(FRAME_TYPE.status, encodeCanonical(m))));
  }
}

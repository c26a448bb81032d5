import { SerialPort } from 'serialport';
import { decodeStrict, encodeCanonical, isCborMap, type CborValue } from '../../protocol/cbor/index.ts';
import { FRAME_TYPE, FrameDecoder, cobsEncode, crc32, decodeAck, encodeFrame, type FrameType } from '../../protocol/framing/index.ts';
import { SimError } from '../errors.ts';
import type { FirmwareBugName } from '../firmware/bugs.ts';
import { flipByte, type DeviceLink, type DeviceStatus, type LinkEvents } from './link.ts';

export interface SerialLinkOptions {
  readonly path: string;
  readonly deviceId: string;
  readonly baudRate?: number;
  /** For tests: a serialport binding (e.g. SerialPortMock.binding). */
  readonly binding?: unknown;
  /** A broken firmware variant (firmware/bugs.ts; tests only). */
  readonly bug?: FirmwareBugName;
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
  /** Firmware-bug hook `no-resync-after-garbage`: set by a bad frame, every later frame is ignored until the line reopens. */
  private deaf = false;
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
    this.deaf = false;
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
      if (this.deaf) continue;
      if (!r.ok) {
        this.badFrames++;
        if (this.o.bug === 'no-resync-after-garbage') this.deaf = true;
        continue;
      }
      const { type, body } = r.frame;
      try {
        if (type === FRAME_TYPE.ack) {
          const ack = decodeAck(body);
          // firmware-bug hook `ignore-ack-dev`: any device's ack is taken
          if (ack.dev === this.o.deviceId || this.o.bug === 'ignore-ack-dev') this.events.onAck(ack.seq);
        } else if (type === FRAME_TYPE.ticket) {
          this.events.onTicket(body);
        } else if (type === FRAME_TYPE.error) {
          const limits = { maxBytes: 512, maxDepth: 1, maxItems: 4 };
          // seq is a uint53 (§8.4): a float (5.0 is not seq 5, §2.2) is ignored and the code kept, as the C device does
          let integers = true;
          let m: CborValue;
          try {
            m = decodeStrict(body, { ...limits, floats: 'nowhere' });
          } catch {
            m = decodeStrict(body, limits);
            integers = false;
          }
          const code = isCborMap(m) ? m.get('code') : undefined;
          const seq = isCborMap(m) && integers ? m.get('seq') : undefined;
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
    const wire = this.frame(FRAME_TYPE.reading, envelope);
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
    if (status.fw !== undefined) m.set('fw', status.fw);
    if (status.idk !== undefined) m.set('idk', status.idk);
    if (status.last !== undefined)
      m.set(
        'last',
        new Map<string, CborValue>([
          ['v', [...status.last.v]],
          ['u', status.last.u],
        ]),
      );
    port.write(Buffer.from(this.frame(FRAME_TYPE.status, encodeCanonical(m))));
  }

  /** One frame for the wire (§8.1); firmware-bug hook `bad-crc`: the CRC-32 big-endian. */
  private frame(type: FrameType, body: Uint8Array): Uint8Array {
    if (this.o.bug !== 'bad-crc') return encodeFrame(type, body);
    const raw = new Uint8Array(1 + body.length + 4);
    raw[0] = type;
    raw.set(body, 1);
    new DataView(raw.buffer).setUint32(1 + body.length, crc32(raw.subarray(0, 1 + body.length)), false);
    return Uint8Array.from([...cobsEncode(raw), 0]);
  }
}

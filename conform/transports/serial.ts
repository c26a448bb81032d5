/**
 * The kit's end of a serial line (docs/PROTOCOL.md §8): serialport on `path`, frames decoded by
 * the protocol's FrameDecoder (bounded: one maximal frame), answers like a strict agent on a line
 * bound to the device (§8.6): a ticket frame for every status frame, an ack frame {dev, seq} for a
 * reading it accepts, an error frame for one an agent would quarantine. It can also send raw bytes
 * (garbage, broken frames) and withhold acks.
 */
import { SerialPort } from 'serialport';
import { encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { encodeAck, encodeFrame, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { ConformError } from '../errors.ts';
import type { InspectedReading } from '../intake.ts';
import { SerialReceiver } from './serialReceiver.ts';
import { ACK_ALL, type AckPolicy, type KitTransport, type TransportHost } from './transport.ts';

export interface SerialTransportOptions {
  readonly path: string;
  readonly baudRate?: number;
}

export class SerialTransport implements KitTransport {
  readonly kind = 'serial';
  ackPolicy: AckPolicy = ACK_ALL;
  private port: SerialPort | undefined;
  private readonly receiver: SerialReceiver;
  private ticket: Uint8Array | undefined;
  private readonly withheld: InspectedReading[] = [];
  /** Withheld readings kept for a later release (a flood beyond this is not acknowledged at all). */
  private static readonly MAX_WITHHELD = 1024;
  private static readonly WRITE_TIMEOUT_MS = 2000;

  constructor(
    private readonly o: SerialTransportOptions,
    private readonly host: TransportHost,
  ) {
    this.receiver = new SerialReceiver(host);
  }

  get linkUp(): boolean {
    return this.port?.isOpen ?? false;
  }

  async start(): Promise<void> {
    await this.open();
  }

  private async open(): Promise<void> {
    const port = new SerialPort({ path: this.o.path, baudRate: this.o.baudRate ?? 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(new ConformError('CONFORM_LINK_FAILED', `cannot open ${this.o.path}`, { cause: err })) : resolve())),
    );
    this.receiver.reset();
    port.on('data', (chunk: Buffer) => this.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    port.on('error', () => undefined);
    this.port = port;
    // a lone delimiter flushes whatever partial frame the device may have buffered
    this.write(Uint8Array.of(0));
  }

  private async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    port.removeAllListeners('data');
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.close();
  }

  async dropLink(ms: number): Promise<void> {
    this.host.observations.add({ kind: 'kit', action: `serial port closed for ${ms} ms` });
    await this.close();
    await new Promise((r) => setTimeout(r, ms));
    await this.open();
    this.host.observations.add({ kind: 'kit', action: 'serial port reopened' });
  }

  /** Raw bytes on the line (garbage, hand-made frames). */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.write(bytes);
  }

  sendFrame(type: number, body: Uint8Array): Promise<void> {
    return this.write(encodeFrame(type as (typeof FRAME_TYPE)[keyof typeof FRAME_TYPE], body));
  }

  sendAck(dev: string, seq: number): Promise<void> {
    return this.sendFrame(FRAME_TYPE.ack, encodeAck({ dev, seq }));
  }

  sendError(code: string, seq?: number): Promise<void> {
    const m = new Map<string, CborValue>([['code', code]]);
    if (seq !== undefined) m.set('seq', seq);
    return this.sendFrame(FRAME_TYPE.error, encodeCanonical(m));
  }

  async setTicket(ticket: Uint8Array): Promise<void> {
    this.ticket = ticket;
    await this.offerTicket(ticket);
  }

  async withholdTicket(): Promise<void> {
    this.ticket = undefined;
  }

  offerTicket(ticket: Uint8Array): Promise<void> {
    return this.sendFrame(FRAME_TYPE.ticket, ticket);
  }

  releaseWithheld(): void {
    for (const r of this.withheld.splice(0)) this.answer(r);
  }

  /**
   * Writes and waits for the line to drain — at most WRITE_TIMEOUT_MS: a device that stops reading
   * fills the line's buffer, and the kit must not wait on it for ever.
   */
  private write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, SerialTransport.WRITE_TIMEOUT_MS);
      port.write(Buffer.from(bytes), () =>
        port.drain(() => {
          clearTimeout(timer);
          resolve();
        }),
      );
    });
  }

  private onData(chunk: Uint8Array): void {
    for (const a of this.receiver.push(chunk)) {
      if (a.kind === 'status' && this.ticket) void this.offerTicket(this.ticket);
      else if (a.kind === 'reading') {
        if (this.ackPolicy(a.reading)) this.answer(a.reading);
        else if (this.withheld.length < SerialTransport.MAX_WITHHELD) this.withheld.push(a.reading);
      }
    }
  }

  /** What a strict agent answers on a line bound to the device (§8.6, §10.2). */
  private answer(r: InspectedReading): void {
    const h = r.header;
    if (!h) void this.sendError(r.decodeError ?? 'ENVELOPE_NOT_CBOR');
    else if (h.dev !== this.host.deviceId) void this.sendError('AGENT_DEVICE_MISMATCH', h.seq);
    else if (!this.host.knowsKid(r.kidHex!)) void this.sendError('AGENT_UNKNOWN_KID', h.seq);
    else void this.sendAck(h.dev, h.seq);
  }
}

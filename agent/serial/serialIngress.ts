import { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import { FRAME_TYPE, FrameDecoder, encodeAck, encodeFrame } from '../../protocol/framing/index.ts';
import { decodeStrict, encodeCanonical, isCborMap } from '../../protocol/cbor/index.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { AgentMetrics } from '../metrics.ts';
import type { AgentStore } from '../store/agentStore.ts';
import type { Clock } from '../../protocol/rng.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { AgentError } from '../errors.ts';
import { statusOf, type DeviceStatusReport } from '../deviceStatus.ts';

export interface SerialIngressOptions {
  /** `/dev/ttyX`, or `/dev/ttyX=<device id>` to bind the line to one device. */
  spec: string;
  baudRate: number;
  ingestor: Ingestor;
  store: AgentStore;
  metrics: AgentMetrics;
  clock: Clock;
  logger: Logger;
  /** Latest ticket of a device, sent when the device reports its status. */
  ticketOf: (device: string) => Uint8Array | undefined;
  /** The status a device reported on this line (undefined: malformed fields): agent/deviceStatus.ts. */
  onStatus?: (device: string, status: DeviceStatusReport | undefined) => void;
}

/** `/dev/ttyX` or `/dev/ttyX=<device id>`; CONFIG_INVALID if the bound id is not a device id. */
export function parseSerialSpec(spec: string): { path: string; device: string | null } {
  const i = spec.lastIndexOf('=');
  if (i <= 0) return { path: spec, device: null };
  const device = spec.slice(i + 1);
  if (!isDeviceId(device)) throw new AgentError('CONFIG_INVALID', `serial ${spec.slice(0, i)}: "${device}" is not a device id`);
  return { path: spec.slice(0, i), device };
}

/**
 * A wired device on a serial line, framed as in docs/PROTOCOL.md §8 (COBS, type ‖ CBOR body ‖ CRC-32).
 * reading frame (body = envelope) → group commit → ack frame {dev, seq}; a reading that is
 * quarantined is answered with an error frame {code, seq?} (it is stored, so the device must
 * not resend it); a status frame {dev, ...} is answered with the device's current ticket.
 * Bad frames are counted and dropped, never fatal.
 */
export class SerialIngress {
  private port: SerialPort | undefined;
  private readonly decoder = new FrameDecoder();
  readonly path: string;
  private readonly boundDevice: string | null;
  private seenDevice: string | null = null;

  constructor(private readonly o: SerialIngressOptions) {
    const { path, device } = parseSerialSpec(o.spec);
    this.path = path;
    this.boundDevice = device;
  }

  get device(): string | null {
    return this.boundDevice ?? this.seenDevice;
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.o.baudRate, autoOpen: false });
    this.port = port;
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err) => this.o.logger.warn({ port: this.path, err: err.message }, 'serial port error'));
    this.o.logger.info({ port: this.path, device: this.boundDevice }, 'serial ingress open');
  }

  private count(result: string): void {
    this.o.metrics.serialFrames.inc({ port: this.path, result });
  }

  private onData(chunk: Buffer): void {
    for (const r of this.decoder.push(chunk)) {
      if (!r.ok) {
        this.count(r.error.code);
        continue;
      }
      const { type, body } = r.frame;
      if (type === FRAME_TYPE.reading) {
        this.count('reading');
        this.ingestReading(body);
      } else if (type === FRAME_TYPE.status) {
        this.count('status');
        this.onStatus(body);
      } else {
        this.count('unexpected_type');
      }
    }
  }

  private ingestReading(envelope: Uint8Array): void {
    this.o.ingestor.submit({
      linkDevice: this.boundDevice,
      payload: envelope,
      source: 'serial',
      done: (outcome) => {
        if (outcome.kind === 'stored' || outcome.kind === 'duplicate') {
          this.seenDevice = outcome.device;
          this.send(FRAME_TYPE.ack, encodeAck({ dev: outcome.device, seq: outcome.seq }));
        } else if (outcome.kind === 'quarantined') {
          const m = new Map<string, string | number>([['code', outcome.reason]]);
          if (outcome.seq !== null) m.set('seq', outcome.seq);
          this.send(FRAME_TYPE.error, encodeCanonical(m));
        }
        // 'failed': nothing acknowledged; the device resends from its outbox
      },
    });
  }

  private onStatus(body: Uint8Array): void {
    let dev: string | null = this.boundDevice;
    let status: DeviceStatusReport | undefined;
    try {
      // §2.2: a serial status body has no float field (a float 1.0 is not the integer 1): the frame is refused whole
      const m = decodeStrict(body, { maxBytes: 512, maxDepth: 2, floats: 'nowhere' });
      const d = isCborMap(m) ? m.get('dev') : undefined;
      status = isCborMap(m) ? statusOf((k) => m.get(k)) : undefined;
      if (d !== undefined && !isDeviceId(d)) throw new AgentError('AGENT_BAD_REQUEST', 'status frame dev is not a device id');
      if (dev === null && typeof d === 'string') dev = d;
      if (typeof d === 'string' && this.boundDevice !== null && d !== this.boundDevice) dev = null;
    } catch {
      this.count('bad_status');
      return;
    }
    if (dev === null) return;
    if (this.o.ingestor.isRevoked(dev)) {
      this.sendRevoked(); // no ticket, no online status for a revoked device
      return;
    }
    this.seenDevice = dev;
    this.o.ingestor.recordStatus(dev, true, this.o.clock.now());
    // a bound line: its device's own word (a frame naming another device was dropped above); unbound: the frame's dev
    this.o.onStatus?.(dev, status);
    const ticket = this.o.ticketOf(dev);
    if (ticket) this.send(FRAME_TYPE.ticket, ticket);
  }

  /** Sends a ticket if this line carries `device` (and it is not revoked). */
  offerTicket(device: string, ticket: Uint8Array): void {
    if (this.device === device && !this.o.ingestor.isRevoked(device)) this.send(FRAME_TYPE.ticket, ticket);
  }

  /**
   * `device` was revoked: if this line carries it, the device is told at once with an error frame
   * {code: AGENT_DEVICE_REVOKED}; its later readings are refused by the ingestor (error frames too).
   */
  deviceRevoked(device: string): void {
    if (this.device !== device) return;
    this.o.logger.info({ port: this.path, device }, 'revoked device told on its serial line');
    this.sendRevoked();
  }

  private sendRevoked(): void {
    this.send(FRAME_TYPE.error, encodeCanonical(new Map([['code', 'AGENT_DEVICE_REVOKED']])));
  }

  private send(type: (typeof FRAME_TYPE)[keyof typeof FRAME_TYPE], body: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) return;
    port.write(Buffer.from(encodeFrame(type, body)));
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.drain(() => port.close(() => resolve())));
  }
}

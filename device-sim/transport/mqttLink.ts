import mqtt, { type MqttClient } from 'mqtt';
import { SimError } from '../errors.ts';
import type { FirmwareBugName } from '../firmware/bugs.ts';
import { flipByte, type DeviceLink, type DeviceStatus, type LinkEvents } from './link.ts';
import { readingTopic, statusTopic, ticketTopic } from '../../protocol/topics.ts';

export interface MqttLinkOptions {
  /** mqtt://host:port */
  readonly url: string;
  readonly deviceId: string;
  /** Device secret: the MQTT password (absent with a client certificate: mutual TLS). */
  readonly secret?: string;
  /** mqtts:// (issue #20): the ward CA to verify the agent against, and the device's client certificate and key (PEM). */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
  readonly connectTimeoutMs?: number;
  readonly keepaliveS?: number;
  /** A broken firmware variant (firmware/bugs.ts; tests only): no-last-will, persistent-session, publish-qos0. */
  readonly bug?: FirmwareBugName;
}

const OFFLINE = Buffer.from(JSON.stringify({ state: 'offline' }));
const AEAD_TAG_BYTES = 16;

/**
 * MQTT 3.1.1 with mqtt.js: clientId = username = device id, password = device secret,
 * clean session, last will {"state":"offline"} on vs/v1/<dev>/status, subscription to the
 * retained ticket on vs/v1/<dev>/ticket (QoS 1), readings published QoS 1 to vs/v1/<dev>/r
 * (PUBACK = committed). mqtt.js reconnection is off: the firmware reconnects with its own
 * exponential backoff and full jitter, and resends its outbox in order from NVM.
 */
export class MqttLink implements DeviceLink {
  readonly kind = 'mqtt';
  readonly inProcess = false;
  readonly dropsCorruptCopies = false;
  private client: MqttClient | undefined;
  /** Connection generation: callbacks of an old connection are ignored. */
  private generation = 0;
  private up = false;

  constructor(
    private readonly o: MqttLinkOptions,
    private readonly events: LinkEvents,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  open(): Promise<void> {
    const gen = ++this.generation;
    const { deviceId: dev } = this.o;
    const client = mqtt.connect(this.o.url, {
      clientId: dev,
      username: dev,
      ...(this.o.secret !== undefined ? { password: this.o.secret } : {}),
      ...(this.o.tls ? { ca: this.o.tls.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const } : {}),
      ...(this.o.tls?.cert !== undefined ? { cert: this.o.tls.cert } : {}),
      ...(this.o.tls?.key !== undefined ? { key: this.o.tls.key } : {}),
      protocolVersion: 4,
      clean: this.o.bug !== 'persistent-session', // firmware-bug hook
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs ?? 10_000,
      keepalive: this.o.keepaliveS ?? 60,
      resubscribe: false,
      queueQoSZero: false,
      ...(this.o.bug === 'no-last-will' ? {} : { will: { topic: statusTopic(dev), payload: OFFLINE, qos: 1 as const, retain: false } }),
    });
    this.client = client;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: SimError): void => {
        if (settled) return;
        settled = true;
        client.removeAllListeners();
        client.on('error', () => undefined);
        client.end(true);
        reject(err);
      };
      client.once('connect', () => {
        if (gen !== this.generation) return;
        settled = true;
        this.up = true;
        client.subscribe(ticketTopic(dev), { qos: 1 });
        resolve();
      });
      client.on('error', (err: Error & { code?: number | string }) => {
        // CONNACK refusals (4: bad credentials, 5: not authorized) and socket errors
        if (!settled)
          fail(
            new SimError(
              typeof err.code === 'number' ? 'SIM_LINK_REFUSED' : 'SIM_LINK_DOWN',
              `connect failed (${String(err.code ?? 'error')})`,
            ),
          );
      });
      client.on('close', () => {
        if (!settled) fail(new SimError('SIM_LINK_DOWN', 'connection closed before CONNACK'));
        else this.lost(gen, 'connection closed');
      });
      client.on('message', (topic, payload) => {
        if (gen === this.generation && topic === ticketTopic(dev)) this.events.onTicket(new Uint8Array(payload));
      });
    });
  }

  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || !this.up) return;
    this.up = false;
    this.generation++;
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.end(true);
    }
    this.events.onDown(reason);
  }

  async close(mode: 'graceful' | 'abrupt'): Promise<void> {
    const c = this.client;
    this.generation++;
    this.up = false;
    this.client = undefined;
    if (!c) return;
    c.removeAllListeners();
    c.on('error', () => undefined);
    await new Promise<void>((resolve) => c.end(mode === 'abrupt', () => resolve()));
  }

  sendReading(seq: number, envelope: Uint8Array, corruptAt?: number): number {
    const c = this.client;
    if (!c || !this.up) return 0;
    const gen = this.generation;
    const payload = Buffer.from(envelope);
    if (corruptAt !== undefined) flipByte(payload, payload.length - AEAD_TAG_BYTES + Math.floor(corruptAt * AEAD_TAG_BYTES));
    // firmware-bug hook `publish-qos0`: the callback comes once the packet is written, as if it were a PUBACK
    c.publish(readingTopic(this.o.deviceId), payload, { qos: this.o.bug === 'publish-qos0' ? 0 : 1 }, (err) => {
      if (!err && gen === this.generation) this.events.onAck(seq);
    });
    return payload.length;
  }

  sendStatus(status: DeviceStatus): void {
    const c = this.client;
    if (!c || !this.up) return;
    c.publish(statusTopic(this.o.deviceId), Buffer.from(JSON.stringify(status)), { qos: 1 });
  }
}

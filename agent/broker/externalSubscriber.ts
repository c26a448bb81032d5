import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Ingestor } from '../ingest/ingestor.ts';
import type { AgentStore } from '../store/agentStore.ts';
import type { Clock } from '../../protocol/rng.ts';
import { AgentError } from '../errors.ts';
import { parseTopic, READING_TOPIC_FILTER, STATUS_TOPIC_FILTER, ticketTopic } from '../../protocol/topics.ts';

export interface ExternalSubscriberOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** mqtts://: the broker's CA (PEM) and the agent's client certificate and key (mutual TLS), issue #20. */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
  ingestor: Ingestor;
  store: AgentStore;
  clock: Clock;
  logger: Logger;
  /** A status on vs/v1/<dev>/status (the broker's ACL binds it to <dev>, §9.7): agent/deviceStatus.ts reads it. */
  onStatus?: (device: string, payload: Uint8Array) => void;
}

/** Parses a device status payload: JSON {"state": "online"|"offline", ...} or a bare word. */
export function statusIsOnline(payload: Uint8Array): boolean {
  const text = Buffer.from(payload).toString('utf8');
  try {
    const j = JSON.parse(text) as { state?: unknown };
    return j.state !== 'offline';
  } catch {
    return !text.includes('offline');
  }
}

/**
 * External broker mode: the agent is a persistent-session (clean=false) QoS 1 subscriber
 * of vs/v1/+/r on any MQTT broker. mqtt.js sends the PUBACK for a message only after
 * `handleMessage`'s callback, which the agent calls after the message's group commit:
 * the broker keeps (and redelivers) every reading the agent has not committed.
 * mqtt.js handles incoming messages one at a time, so here each commit holds one reading.
 */
export class ExternalSubscriber {
  private client: MqttClient | undefined;

  constructor(private readonly o: ExternalSubscriberOptions) {}

  async start(): Promise<void> {
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.o.username !== undefined ? { username: this.o.username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      ...(this.o.tls?.ca !== undefined ? { ca: this.o.tls.ca } : {}),
      ...(this.o.tls?.cert !== undefined ? { cert: this.o.tls.cert } : {}),
      ...(this.o.tls?.key !== undefined ? { key: this.o.tls.key } : {}),
      ...(this.o.url.startsWith('mqtts:') ? { rejectUnauthorized: true, minVersion: 'TLSv1.2' as const } : {}),
    };
    const client = mqtt.connect(this.o.url, opts);
    this.client = client;
    client.handleMessage = (packet, callback) => {
      const topic = parseTopic(packet.topic);
      if (topic?.kind === 'status') {
        try {
          this.o.ingestor.recordStatus(topic.device, statusIsOnline(packet.payload as Buffer), this.o.clock.now());
          this.o.onStatus?.(topic.device, packet.payload as Buffer);
        } catch (e) {
          this.o.logger.warn({ err: (e as Error).message }, 'could not record device status');
        }
        callback();
        return;
      }
      if (topic?.kind !== 'r') {
        callback();
        return;
      }
      this.o.ingestor.submit({
        linkDevice: topic.device,
        payload: new Uint8Array(packet.payload as Buffer),
        source: 'external',
        done: (outcome) => (outcome.kind === 'failed' ? callback(outcome.error) : callback()),
      });
    };
    client.on('connect', (ack) => {
      this.o.logger.info({ url: redactUrl(this.o.url), sessionPresent: ack.sessionPresent }, 'connected to external broker');
      client.subscribe([READING_TOPIC_FILTER, STATUS_TOPIC_FILTER], { qos: 1 }, (err) => {
        if (err) this.o.logger.error({ err: err.message }, 'subscribe failed');
      });
    });
    client.on('error', (err) => this.o.logger.warn({ err: err.message }, 'external broker error'));
    client.on('offline', () => this.o.logger.warn('external broker offline; reconnecting'));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new AgentError('AGENT_BROKER_UNREACHABLE', `cannot connect to external broker ${redactUrl(this.o.url)}`)),
        15_000,
      );
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * A device was revoked. The agent cannot close a connection to another broker: the ingestor
   * quarantines the device's readings (AGENT_DEVICE_REVOKED, acknowledged to the broker so it stops
   * redelivering them), and the operator must also revoke the device's credentials on that broker.
   */
  deviceRevoked(device: string): void {
    this.o.logger.warn(
      { device, broker: redactUrl(this.o.url) },
      'device revoked: its readings are refused here; revoke its credentials on the external broker too',
    );
  }

  publishTicket(device: string, ticket: Uint8Array): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new AgentError('AGENT_BROKER_UNREACHABLE', 'not connected'));
    return new Promise((resolve, reject) =>
      client.publish(ticketTopic(device), Buffer.from(ticket), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async close(): Promise<void> {
    const client = this.client;
    if (client) await client.endAsync();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

import { request } from 'node:https';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** A JSON request over HTTPS that trusts `ca` only (the agent's API with TLS on). */
export function httpsJson(
  url: string,
  o: { ca: string; method?: string; token?: string; body?: unknown },
): Promise<{ status: number; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const body = o.body !== undefined ? JSON.stringify(o.body) : undefined;
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        ca: o.ca,
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of one Prometheus sample line (`name{labels} value`) in a /metrics text, 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

/**
 * A device's MQTT over TLS connection (client id = username = device id), no reconnects: with a client
 * certificate (mutual TLS) and/or a password. Resolves on CONNACK; rejects on a refusal (err.code = the
 * CONNACK code) or a close before it (a refused handshake).
 */
export function connectTls(
  url: string,
  dev: string,
  o: { ca: string; cert?: string; key?: string; password?: string; username?: string; track?: MqttClient[] } & Partial<IClientOptions>,
): Promise<MqttClient> {
  const { ca, cert, key, password, username, track, ...extra } = o;
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: username ?? dev,
      username: username ?? dev,
      ...(password !== undefined ? { password } : {}),
      ca,
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    });
    track?.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

export function publishQos1(c: MqttClient, topic: string, payload: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, Buffer.from(payload), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}

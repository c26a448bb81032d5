import mqtt, { type MqttClient } from 'mqtt';

/**
 * A device's MQTT 3.1.1 connection with its own credentials (client id = username = device id), no
 * reconnects; resolves on CONNACK, rejects on a refusal or a close before it. `track` collects the client
 * so the test can end it.
 */
export function connectAsDevice(
  url: string,
  dev: string,
  secret: string,
  o: { connectTimeout?: number; track?: MqttClient[] } = {},
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, {
      clientId: dev,
      username: dev,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeout ?? 5000,
    });
    o.track?.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

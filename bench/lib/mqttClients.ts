import mqtt, { type MqttClient } from 'mqtt';
import { secretOf } from './ward.ts';

/** A bench device on loopback with its credentials; Nagle off (one small PUBLISH per reading). */
export function connectDevice(port: number, dev: string, o: { connectTimeout?: number; keepalive?: number } = {}): Promise<MqttClient> {
  return mqtt
    .connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: dev,
      username: dev,
      password: secretOf(dev),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeout ?? 60_000,
      keepalive: o.keepalive ?? 300,
    })
    .then((c) => {
      (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      return c;
    });
}

export async function connectDevices(
  port: number,
  devices: readonly string[],
  batch = 200,
  onProgress?: (n: number) => void,
): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  for (let i = 0; i < devices.length; i += batch) {
    out.push(...(await Promise.all(devices.slice(i, i + batch).map((d) => connectDevice(port, d)))));
    onProgress?.(out.length);
  }
  return out;
}

export async function endDevices(clients: readonly MqttClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 500)
    await Promise.all(clients.slice(i, i + 500).map((c) => c.endAsync(true).catch(() => undefined)));
}

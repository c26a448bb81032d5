/** MQTT topics of DESIGN.md: vs/v1/<dev>/r (readings), /ticket (retained, agent → device), /status (device status, last will). */
export type TopicKind = 'r' | 'ticket' | 'status';

const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export function parseTopic(topic: string): { device: string; kind: TopicKind } | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'vs' || parts[1] !== 'v1') return null;
  const device = parts[2]!;
  const kind = parts[3]!;
  if (!isValidDeviceId(device)) return null;
  if (kind !== 'r' && kind !== 'ticket' && kind !== 'status') return null;
  return { device, kind };
}

export const readingTopic = (dev: string): string => `vs/v1/${dev}/r`;
export const ticketTopic = (dev: string): string => `vs/v1/${dev}/ticket`;
export const statusTopic = (dev: string): string => `vs/v1/${dev}/status`;

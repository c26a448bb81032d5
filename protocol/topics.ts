/**
 * MQTT topics (docs/PROTOCOL.md §9.1): vs/v1/<dev>/r (readings, device → agent, QoS 1),
 * vs/v1/<dev>/ticket (session ticket, agent → device, retained, QoS 1), vs/v1/<dev>/status
 * (device status and last will). <dev> is a device id (deviceId.ts), so a topic never holds
 * '/', '+' or '#' beyond its separators.
 */
import { isDeviceId } from './deviceId.ts';

export const TOPIC_PREFIX = 'vs/v1';

export type TopicKind = 'r' | 'ticket' | 'status';

export const readingTopic = (dev: string): string => `${TOPIC_PREFIX}/${dev}/r`;
export const ticketTopic = (dev: string): string => `${TOPIC_PREFIX}/${dev}/ticket`;
export const statusTopic = (dev: string): string => `${TOPIC_PREFIX}/${dev}/status`;

/** Subscription filters of an agent on an external broker: every device's readings and status. */
export const READING_TOPIC_FILTER = `${TOPIC_PREFIX}/+/r`;
export const STATUS_TOPIC_FILTER = `${TOPIC_PREFIX}/+/status`;

/** The device and kind of a vitalseal topic; null for any other topic (or an invalid device id). */
export function parseTopic(topic: string): { device: string; kind: TopicKind } | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'vs' || parts[1] !== 'v1') return null;
  const device = parts[2]!;
  const kind = parts[3]!;
  if (!isDeviceId(device)) return null;
  if (kind !== 'r' && kind !== 'ticket' && kind !== 'status') return null;
  return { device, kind };
}

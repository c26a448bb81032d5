import type { MqttClient } from 'mqtt';
import { verifyTicket, type Ticket } from '../../protocol/ticket/index.ts';
import { ticketTopic } from '../../protocol/topics.ts';
import { ScenarioError } from './errors.ts';

/** A device's view: waits for its retained ticket of session `kid` and verifies it with the pinned authority key. */
export async function retainedTicket(c: MqttClient, dev: string, kid: string, authorityPublicKey: Uint8Array): Promise<Ticket> {
  const topic = ticketTopic(dev);
  const got = new Promise<Ticket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ScenarioError('DEMO_NO_TICKET', `no ticket for ${dev}`)), 10_000);
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      const ticket = verifyTicket(new Uint8Array(payload), { authorityPublicKey, deviceId: dev, clock: { now: () => Date.now() } });
      if (Buffer.from(ticket.kid).toString('hex') !== kid) return;
      clearTimeout(timer);
      c.off('message', onMessage);
      resolve(ticket);
    };
    c.on('message', onMessage);
  });
  await c.subscribeAsync(topic, { qos: 1 });
  return got;
}

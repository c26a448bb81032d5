/**
 * The kit's end of the link to the device under test. The kit plays the gateway: it hands out
 * the current ticket, acknowledges readings (or withholds acknowledgements when a case says so),
 * and can drop the link. Every byte from the device goes through the kit's intake (intake.ts) into
 * the run's observations; nothing a device sends makes a transport throw.
 */
import type { ArrivalInfo, InspectedReading } from '../intake.ts';
import type { Observations } from '../observations.ts';

/** Whether the kit acknowledges a reading now (true) or withholds the acknowledgement. */
export type AckPolicy = (r: InspectedReading) => boolean;

export interface TransportHost {
  readonly deviceId: string;
  readonly observations: Observations;
  /** The kit's intake of one envelope (never throws). */
  intake(bytes: Uint8Array, arrival: ArrivalInfo): InspectedReading;
  /** Whether the kit issued a ticket with this kid (an agent quarantines readings under an unknown kid). */
  knowsKid(kidHex: string): boolean;
}

export interface KitTransport {
  readonly kind: 'serial' | 'mqtt';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The ticket the gateway hands out now (serial: in answer to every status frame and at once; MQTT: retained on the ticket topic). */
  setTicket(ticket: Uint8Array): Promise<void>;
  /** Delivers one ticket now without making it the gateway's current one (serial only; MQTT: the retained one is replaced). */
  offerTicket(ticket: Uint8Array): Promise<void>;
  /** Stops handing out any ticket (serial: status frames go unanswered; MQTT: the retained ticket is removed without a delivery) until setTicket. */
  withholdTicket(): Promise<void>;
  ackPolicy: AckPolicy;
  /** Acknowledges every reading whose acknowledgement was withheld. */
  releaseWithheld(): void;
  /** Drops the link for `ms` (serial: the kit's port closed, bytes meanwhile lost; MQTT: the device's connection closed, new ones refused). */
  dropLink(ms: number): Promise<void>;
  /** Whether the device is connected (MQTT) / the port is open (serial). */
  readonly linkUp: boolean;
}

export const ACK_ALL: AckPolicy = () => true;

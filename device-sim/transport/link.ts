/** What a device says about itself on its status topic / serial status frame. */
export interface DeviceStatus {
  readonly state: 'online' | 'ticketed' | 'error' | 'offline';
  /** Stable code of a refusal or failure, e.g. TICKET_EXPIRED. */
  readonly code?: string;
  /** Key id (hex) of the ticket in use. */
  readonly kid?: string;
  readonly boot?: number;
  /** Next seq the device will use. */
  readonly seq?: number;
  /** Firmware string, `vitalseal-sim/<version>` (firmware/version.ts); sent with `online`. */
  readonly fw?: string;
  /** The device's identity public key (hex, §3.6), for the operator to register; sent with `online`. */
  readonly idk?: string;
  /** The last reading in clear: only the firmware-bug variant `plaintext-in-status` (firmware/bugs.ts) sends it. */
  readonly last?: { readonly v: readonly number[]; readonly u: string };
}

/** What a link reports to the firmware. */
export interface LinkEvents {
  /** The link went down (after having been up): connection lost, port closed. */
  onDown(reason: string): void;
  /** The agent committed reading `seq` (PUBACK, ack frame). */
  onAck(seq: number): void;
  /** The agent stored reading `seq` in quarantine (serial error frame): do not resend. */
  onRejected(seq: number | undefined, code: string): void;
  /** A session ticket arrived (retained MQTT message, ticket frame). */
  onTicket(ticket: Uint8Array): void;
}

export type LinkKind = 'mqtt' | 'serial' | 'loopback';

/** A device's link to the edge agent. One instance per connection attempt cycle; reusable after close. */
export interface DeviceLink {
  readonly kind: LinkKind;
  /** Acknowledgements come from the simulator's own scheduler (in-process), not from a network. */
  readonly inProcess: boolean;
  /** A corrupted copy never reaches the agent (serial: the CRC fails), so it is never acknowledged. */
  readonly dropsCorruptCopies: boolean;
  /** Connects (MQTT CONNECT, port open); rejects with a SimError (SIM_LINK_*). */
  open(): Promise<void>;
  /** graceful: MQTT DISCONNECT (no last will); abrupt: as a power loss (the broker publishes the will). */
  close(mode: 'graceful' | 'abrupt'): Promise<void>;
  readonly isUp: boolean;
  /**
   * Sends one reading. `corruptAt` in [0, 1) makes the link flip one byte where its own
   * checks would not catch it (MQTT: in the AEAD tag — TCP delivered it, the agent stores
   * it, nobody but the patient can tell) or where they would (serial: in the frame, so the
   * CRC fails and the agent drops it). Returns the bytes put on the wire (0: link down).
   */
  sendReading(seq: number, envelope: Uint8Array, corruptAt?: number): number;
  sendStatus(status: DeviceStatus): void;
}

/** Flips bits of one byte: never to the same value, never to 0x00 (which would split a serial frame). */
export function flipByte(bytes: Uint8Array, index: number): void {
  const b = bytes[index]!;
  bytes[index] = (b ^ 0x5a) === 0 ? b ^ 0xa5 : b ^ 0x5a;
}

/** What a session ticket grants a device (docs/PROTOCOL.md §7.1). */
export interface TicketFields {
  /** Device the ticket is for. */
  readonly dev: string;
  /** Key id of `pk`: first 16 bytes of SHA-256(pk). */
  readonly kid: Uint8Array;
  /** The patient's temporary X25519 public key (TempKeyPairGen), 32 bytes; sent as a COSE_Key. */
  readonly pk: Uint8Array;
  /** Pseudonymous patient reference. */
  readonly patient: string;
  /** Not before / expiry, seconds since the epoch (NumericDate, as in CWT); valid while nbf <= now < exp. */
  readonly nbf: number;
  readonly exp: number;
  /** Optional cap on readings sealed under this ticket. */
  readonly maxReadings?: number;
  /**
   * The device's X25519 identity public key (32 bytes; sent as a COSE_Key), certified by the ward
   * authority's signature: the device seals in HPKE Auth mode with its secret, readers verify origin
   * against it (docs/PROTOCOL.md §3.6, §7.1). A ticket with `idk` is version 2.
   */
  readonly idk?: Uint8Array;
}

/** Version of a ticket without `idk` (byte-identical to every ticket issued before identity keys). */
export const TICKET_VERSION = 1;
/** Version of a ticket that carries the device identity key `idk` (a v1 device refuses it: §7.1 forbids unknown keys). */
export const TICKET_VERSION_IDENTITY = 2;
export type TicketVersion = typeof TICKET_VERSION | typeof TICKET_VERSION_IDENTITY;

export interface Ticket extends TicketFields {
  readonly v: TicketVersion;
}

/** Payload map keys (text, as in the design); `idk` only in version 2. */
export const TICKET_KEYS = ['v', 'dev', 'kid', 'pk', 'patient', 'nbf', 'exp', 'maxReadings', 'idk'] as const;

/** Tickets are small: refuse anything larger before parsing. */
export const TICKET_MAX_BYTES = 1024;

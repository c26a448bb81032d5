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
}

export const TICKET_VERSION = 1;

export interface Ticket extends TicketFields {
  readonly v: typeof TICKET_VERSION;
}

/** Payload map keys (text, as in the design). */
export const TICKET_KEYS = ['v', 'dev', 'kid', 'pk', 'patient', 'nbf', 'exp', 'maxReadings'] as const;

/** Tickets are small: refuse anything larger before parsing. */
export const TICKET_MAX_BYTES = 1024;

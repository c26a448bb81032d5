import { decodeSign1, verifySign1, type Sign1Message } from '../cose/index.ts';
import { fail, isVitalsealError } from '../errors.ts';
import type { Clock } from '../rng.ts';
import { parseTicketPayload } from './payload.ts';
import { TICKET_MAX_BYTES, type Ticket } from './ticket.ts';

/** Default tolerance for device clock drift when checking nbf/exp. */
export const DEFAULT_TICKET_SKEW_SECONDS = 60;

function decodeTicketMessage(bytes: Uint8Array): Sign1Message {
  if (!(bytes instanceof Uint8Array)) fail('TICKET_MALFORMED', 'ticket is not a byte array');
  if (bytes.length > TICKET_MAX_BYTES) fail('TICKET_MALFORMED', 'ticket is too large');
  try {
    return decodeSign1(bytes, { limits: { maxBytes: TICKET_MAX_BYTES } });
  } catch (e) {
    if (isVitalsealError(e)) fail('TICKET_MALFORMED', undefined, e);
    throw e;
  }
}

/** Structure only: decodes the COSE_Sign1 and its payload WITHOUT checking the signature, device or time. */
export function decodeTicket(bytes: Uint8Array): Ticket {
  return parseTicketPayload(decodeTicketMessage(bytes).payload);
}

export interface VerifyTicketOptions {
  /** The ward authority's Ed25519 public key, pinned in the device at provisioning. */
  readonly authorityPublicKey: Uint8Array;
  /** This device's id. */
  readonly deviceId: string;
  readonly clock: Clock;
  /** Tolerated clock drift (default 60 s). */
  readonly skewSeconds?: number;
}

/**
 * Everything a device checks before using a ticket, in this order:
 * structure (TICKET_MALFORMED), signature (TICKET_BAD_SIGNATURE), device
 * (TICKET_WRONG_DEVICE), then time: valid while nbf - skew <= now < exp + skew
 * (TICKET_NOT_YET_VALID, TICKET_EXPIRED). The payload is interpreted only after
 * its signature verified.
 */
export function verifyTicket(bytes: Uint8Array, options: VerifyTicketOptions): Ticket {
  const message = decodeTicketMessage(bytes);
  try {
    verifySign1(message, options.authorityPublicKey);
  } catch (e) {
    if (isVitalsealError(e, 'COSE_BAD_SIGNATURE')) fail('TICKET_BAD_SIGNATURE', undefined, e);
    if (isVitalsealError(e) && e.code.startsWith('COSE_')) fail('TICKET_MALFORMED', undefined, e);
    throw e; // e.g. INPUT_BAD_LENGTH: the pinned key itself is wrong
  }
  const ticket = parseTicketPayload(message.payload);
  if (ticket.dev !== options.deviceId) fail('TICKET_WRONG_DEVICE');
  const skew = options.skewSeconds ?? DEFAULT_TICKET_SKEW_SECONDS;
  const now = Math.floor(options.clock.now() / 1000);
  if (now + skew < ticket.nbf) fail('TICKET_NOT_YET_VALID');
  if (now - skew >= ticket.exp) fail('TICKET_EXPIRED');
  return ticket;
}

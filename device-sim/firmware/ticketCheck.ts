import { bytesEqual } from '../../protocol/bytes.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import type { Clock } from '../../protocol/rng.ts';
import { decodeTicket, verifyTicket, type Ticket } from '../../protocol/ticket/index.ts';
import { SimError } from '../errors.ts';
import type { FirmwareBugName } from './bugs.ts';

export type TicketVerdict = { readonly ok: true; readonly ticket: Ticket } | { readonly ok: false; readonly code: string };

/**
 * What the firmware checks before it uses a ticket: the pinned authority's signature,
 * this device, and time (TICKET_BAD_SIGNATURE / TICKET_WRONG_DEVICE / TICKET_EXPIRED /
 * TICKET_NOT_YET_VALID / TICKET_MALFORMED). Without a pinned key only a ticket loaded at
 * provisioning (`trusted`) is accepted, still checked for device and time; one arriving on
 * the link is refused with SIM_NO_AUTHORITY_KEY. `bug` (firmware/bugs.ts, tests only) skips
 * one of the checks.
 */
export function checkTicket(
  bytes: Uint8Array,
  o: { deviceId: string; authorityPublicKey: Uint8Array | undefined; clock: Clock; trusted?: boolean; bug?: FirmwareBugName | undefined },
): TicketVerdict {
  try {
    // firmware-bug hooks: no signature check (as a trusted provisioning ticket); any device's ticket
    if (o.bug === 'ignore-ticket-signature')
      return checkTicket(bytes, { ...o, authorityPublicKey: undefined, trusted: true, bug: undefined });
    if (o.bug === 'accept-other-device-ticket') return checkTicket(bytes, { ...o, deviceId: decodeTicket(bytes).dev, bug: undefined });
    if (o.bug === 'accept-expired-ticket') {
      const v = checkTicket(bytes, { ...o, bug: undefined });
      return !v.ok && v.code === 'TICKET_EXPIRED' ? { ok: true, ticket: decodeTicket(bytes) } : v;
    }
    if (o.authorityPublicKey !== undefined)
      return { ok: true, ticket: verifyTicket(bytes, { authorityPublicKey: o.authorityPublicKey, deviceId: o.deviceId, clock: o.clock }) };
    if (!o.trusted) return { ok: false, code: new SimError('SIM_NO_AUTHORITY_KEY').code };
    const ticket = decodeTicket(bytes);
    if (ticket.dev !== o.deviceId) return { ok: false, code: 'TICKET_WRONG_DEVICE' };
    const now = Math.floor(o.clock.now() / 1000);
    if (now < ticket.nbf) return { ok: false, code: 'TICKET_NOT_YET_VALID' };
    if (now >= ticket.exp) return { ok: false, code: 'TICKET_EXPIRED' };
    return { ok: true, ticket };
  } catch (e) {
    if (isVitalsealError(e)) return { ok: false, code: e.code.startsWith('TICKET_') ? e.code : 'TICKET_MALFORMED' };
    throw e;
  }
}

/** Is the ticket still usable at `nowMs` for reading number `used` (0-based)? The refusal code otherwise. */
export function ticketUsable(t: Ticket, nowMs: number, used: number, bug?: FirmwareBugName): string | undefined {
  if (nowMs >= t.exp * 1000 && bug !== 'accept-expired-ticket') return 'TICKET_EXPIRED';
  if (nowMs < t.nbf * 1000) return 'TICKET_NOT_YET_VALID';
  if (t.maxReadings !== undefined && used >= t.maxReadings) return new SimError('SIM_TICKET_EXHAUSTED').code;
  return undefined;
}

export const sameTicket = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && bytesEqual(a, b);

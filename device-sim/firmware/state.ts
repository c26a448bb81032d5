import type { Ticket } from '../../protocol/ticket/index.ts';

/** The session ticket a device is using. */
export interface ActiveTicket {
  readonly ticket: Ticket;
  readonly bytes: Uint8Array;
  /** seq of the first reading sealed under it (for maxReadings). */
  readonly startSeq: number;
}

/**
 * The link, orthogonal to the measurement state (a device keeps measuring into its
 * outbox while its link is down).
 */
export type LinkState =
  | { readonly kind: 'down'; readonly since: number; readonly attempt: number; readonly retryAt: number; readonly reason: string }
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'up'; readonly since: number };

/**
 * The firmware state machine:
 *   off → boot → provisioned ⇄ ticketed → measuring → sleeping → measuring …
 * `provisioned`: credentials and pinned authority key, no usable ticket (waits for one,
 * skips measurements); `error`: cannot run (corrupt NVM, no credentials) until reflashed.
 */
export type DeviceState =
  | { readonly kind: 'off'; readonly reason: 'not-started' | 'reboot' | 'shutdown' }
  | { readonly kind: 'boot'; readonly bootCount: number }
  | { readonly kind: 'provisioned'; readonly link: LinkState; readonly refused?: string }
  | { readonly kind: 'ticketed'; readonly ticket: ActiveTicket; readonly link: LinkState }
  | { readonly kind: 'measuring'; readonly ticket: ActiveTicket; readonly link: LinkState; readonly seq: number }
  | { readonly kind: 'sleeping'; readonly ticket: ActiveTicket; readonly link: LinkState; readonly wakeAt: number }
  | { readonly kind: 'error'; readonly code: string; readonly since: number };

export type DeviceStateKind = DeviceState['kind'];

/** The link part of a state, when the device is running. */
export function linkOf(s: DeviceState): LinkState | undefined {
  return 'link' in s ? s.link : undefined;
}

/** The ticket part of a state, when the device has one. */
export function ticketOf(s: DeviceState): ActiveTicket | undefined {
  return 'ticket' in s ? s.ticket : undefined;
}

/** The same state with another link state. */
export function withLink(s: DeviceState, link: LinkState): DeviceState {
  switch (s.kind) {
    case 'provisioned':
    case 'ticketed':
    case 'measuring':
    case 'sleeping':
      return { ...s, link };
    default:
      return s;
  }
}

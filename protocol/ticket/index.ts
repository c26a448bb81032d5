export { TICKET_MAX_BYTES, TICKET_VERSION, TICKET_VERSION_IDENTITY, type Ticket, type TicketFields, type TicketVersion } from './ticket.ts';
export { checkTicketFields, encodeTicketPayload, parseTicketPayload } from './payload.ts';
export { issueTicket } from './issue.ts';
export { decodeTicket, DEFAULT_TICKET_SKEW_SECONDS, verifyTicket, type VerifyTicketOptions } from './verify.ts';

export { TICKET_MAX_BYTES, TICKET_VERSION, type Ticket, type TicketFields } from './ticket.ts';
export { checkTicketFields, encodeTicketPayload, parseTicketPayload } from './payload.ts';
export { issueTicket } from './issue.ts';
export { decodeTicket, DEFAULT_TICKET_SKEW_SECONDS, verifyTicket, type VerifyTicketOptions } from './verify.ts';

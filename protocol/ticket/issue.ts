import { signSign1 } from '../cose/index.ts';
import { encodeTicketPayload } from './payload.ts';
import type { TicketFields } from './ticket.ts';

/**
 * Issues a session ticket: the payload map signed as a tagged COSE_Sign1
 * (EdDSA / Ed25519) with the ward authority's 32-byte Ed25519 secret key.
 */
export function issueTicket(fields: TicketFields, authoritySecretKey: Uint8Array): Uint8Array {
  return signSign1({ payload: encodeTicketPayload(fields), secretKey: authoritySecretKey });
}

/**
 * Proof of origin of a served record (issue #20, docs/PROTOCOL.md §3.6, §5.7, §11.5): the identity
 * key a reading must have been sealed with is the `idk` of the ticket it was sealed under. The agent
 * serves that ticket with the record; the wallet takes it only if the ward authority signed it and it
 * names the record's device and kid, so neither the agent nor anything on the ward network can
 * substitute a key.
 */
import { bytesEqual, fromHex } from '../protocol/bytes.ts';
import { decodeSign1, verifySign1 } from '../protocol/cose/index.ts';
import { fail, isVitalsealError } from '../protocol/errors.ts';
import { decodeTicket } from '../protocol/ticket/index.ts';
import type { ServedRecord } from '../protocol/api/servedRecord.ts';

/**
 * A ward authority key the wallet trusts: the current one (no `until`), or a retired one whose
 * tickets are trusted only when they took effect before it retired (`until`, ms: ticket nbf < until).
 */
export interface TrustedAuthority {
  readonly publicKey: Uint8Array;
  readonly until?: number;
}

/** One authority key, or the ward's published list (GET /v1/ward `authorityKeys`, after a rotation). */
export type AuthorityTrust = Uint8Array | readonly TrustedAuthority[];

/**
 * The device identity key a served record must verify against: the `idk` of its ticket, or undefined
 * when its ticket certifies none (or the agent served no ticket: then an Auth-mode reading cannot be
 * opened, ENVELOPE_NO_SENDER_KEY). A served ticket that is not signed by a trusted ward authority key
 * (a retired key: only for a ticket valid from before its retirement), or not for this record's device
 * and kid, is refused: ENVELOPE_ORIGIN_UNVERIFIED.
 */
export function expectedSenderKey(record: ServedRecord, authority: AuthorityTrust): Uint8Array | undefined {
  if (record.ticket === undefined) return undefined;
  const bytes = new Uint8Array(Buffer.from(record.ticket, 'base64'));
  const trusted: readonly TrustedAuthority[] = authority instanceof Uint8Array ? [{ publicKey: authority }] : authority;
  try {
    const sign1 = decodeSign1(bytes);
    let signer: TrustedAuthority | undefined;
    let firstError: unknown;
    for (const k of trusted) {
      try {
        verifySign1(sign1, k.publicKey);
        signer = k;
        break;
      } catch (e) {
        firstError ??= e;
      }
    }
    if (signer === undefined) {
      if (firstError !== undefined) throw firstError;
      return fail('ENVELOPE_ORIGIN_UNVERIFIED', 'no ward authority key is trusted');
    }
    const t = decodeTicket(bytes);
    if (t.dev !== record.device || !bytesEqual(t.kid, fromHex(record.kid.toLowerCase())))
      fail('ENVELOPE_ORIGIN_UNVERIFIED', "the served ticket is not the record's (device or kid differ)");
    if (signer.until !== undefined && t.nbf * 1000 >= signer.until)
      fail('ENVELOPE_ORIGIN_UNVERIFIED', 'the served ticket is signed by a retired ward authority key after its retirement');
    return t.idk;
  } catch (e) {
    if (isVitalsealError(e, 'ENVELOPE_ORIGIN_UNVERIFIED')) throw e;
    if (isVitalsealError(e)) return fail('ENVELOPE_ORIGIN_UNVERIFIED', 'the served ticket is not signed by the ward authority', e);
    throw e;
  }
}

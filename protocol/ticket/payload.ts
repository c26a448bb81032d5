import { decodeStrict, encodeCanonical, isBytes, isCborMap, type CborMap, type CborValue } from '../cbor/index.ts';
import { x25519CoseKeyMap, x25519PublicKeyFromCoseKey } from '../cose/index.ts';
import { bytesEqual } from '../bytes.ts';
import { fail, isVitalsealError } from '../errors.ts';
import { isDeviceId } from '../deviceId.ts';
import { isPatientRef, isUint } from '../envelope/fields.ts';
import { KEY_ID_LENGTH, keyIdOf } from '../keys/keyId.ts';
import { TICKET_KEYS, TICKET_MAX_BYTES, TICKET_VERSION, type Ticket, type TicketFields } from './ticket.ts';

/** Checks every field; throws TICKET_MALFORMED naming the first bad one. */
export function checkTicketFields(f: TicketFields): void {
  if (!isDeviceId(f.dev)) fail('TICKET_MALFORMED', 'dev is not a valid device id');
  if (!isBytes(f.pk) || f.pk.length !== 32) fail('TICKET_MALFORMED', 'pk is not a 32-byte X25519 key');
  if (!isBytes(f.kid) || f.kid.length !== KEY_ID_LENGTH) fail('TICKET_MALFORMED', 'kid is not 16 bytes');
  if (!bytesEqual(f.kid, keyIdOf(f.pk))) fail('TICKET_MALFORMED', 'kid is not SHA-256(pk)[0:16]');
  if (!isPatientRef(f.patient)) fail('TICKET_MALFORMED', 'patient is not a valid reference');
  if (!isUint(f.nbf) || !isUint(f.exp)) fail('TICKET_MALFORMED', 'nbf/exp are not NumericDates');
  if (f.exp <= f.nbf) fail('TICKET_MALFORMED', 'exp is not after nbf');
  if (f.maxReadings !== undefined && (!isUint(f.maxReadings) || f.maxReadings === 0))
    fail('TICKET_MALFORMED', 'maxReadings is not a positive integer');
}

/** Deterministic CBOR of the ticket payload map. */
export function encodeTicketPayload(f: TicketFields): Uint8Array {
  checkTicketFields(f);
  const map: CborMap = new Map<string, CborValue>([
    ['v', TICKET_VERSION],
    ['dev', f.dev],
    ['kid', f.kid],
    ['pk', x25519CoseKeyMap(f.pk)],
    ['patient', f.patient],
    ['nbf', f.nbf],
    ['exp', f.exp],
  ]);
  if (f.maxReadings !== undefined) map.set('maxReadings', f.maxReadings);
  return encodeCanonical(map);
}

/** Strictly parses the payload bytes of a ticket (TICKET_MALFORMED on anything unexpected). */
export function parseTicketPayload(payload: Uint8Array): Ticket {
  let map: CborValue;
  try {
    map = decodeStrict(payload, { maxBytes: TICKET_MAX_BYTES, maxDepth: 2, maxItems: 16 });
  } catch (e) {
    fail('TICKET_MALFORMED', 'ticket payload is not strict CBOR', e);
  }
  if (!isCborMap(map)) fail('TICKET_MALFORMED', 'ticket payload is not a map');
  for (const key of map.keys()) {
    if (!(TICKET_KEYS as readonly unknown[]).includes(key)) fail('TICKET_MALFORMED', 'ticket payload has an unknown field');
  }
  if (map.get('v') !== TICKET_VERSION) fail('TICKET_MALFORMED', 'unsupported ticket version');
  const fields = {
    dev: map.get('dev'),
    kid: map.get('kid'),
    pk: publicKeyOf(map.get('pk')),
    patient: map.get('patient'),
    nbf: map.get('nbf'),
    exp: map.get('exp'),
    ...(map.has('maxReadings') ? { maxReadings: map.get('maxReadings') } : {}),
  } as TicketFields;
  checkTicketFields(fields);
  return { v: TICKET_VERSION, ...fields };
}

function publicKeyOf(coseKey: CborValue | undefined): Uint8Array {
  try {
    return x25519PublicKeyFromCoseKey(coseKey);
  } catch (e) {
    if (isVitalsealError(e)) fail('TICKET_MALFORMED', 'pk is not an X25519 HPKE-4 COSE_Key', e);
    throw e;
  }
}

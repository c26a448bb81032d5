import { decodeStrict, encodeCanonical, isBytes, isCborMap, type CborMap, type CborValue } from '../cbor/index.ts';
import { x25519CoseKeyMap, x25519PublicKeyFromCoseKey } from '../cose/index.ts';
import { bytesEqual } from '../bytes.ts';
import { fail, isVitalsealError } from '../errors.ts';
import { isDeviceId } from '../deviceId.ts';
import { isPatientRef, isUint } from '../envelope/fields.ts';
import { KEY_ID_LENGTH, keyIdOf } from '../keys/keyId.ts';
import { TICKET_KEYS, TICKET_MAX_BYTES, TICKET_VERSION, TICKET_VERSION_IDENTITY, type Ticket, type TicketFields } from './ticket.ts';

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
  if (f.idk !== undefined && (!isBytes(f.idk) || f.idk.length !== 32)) fail('TICKET_MALFORMED', 'idk is not a 32-byte X25519 key');
}

/** v = 2 exactly when the ticket carries a device identity key. */
const versionOf = (f: TicketFields): Ticket['v'] => (f.idk === undefined ? TICKET_VERSION : TICKET_VERSION_IDENTITY);

/** Deterministic CBOR of the ticket payload map. */
export function encodeTicketPayload(f: TicketFields): Uint8Array {
  checkTicketFields(f);
  const map: CborMap = new Map<string, CborValue>([
    ['v', versionOf(f)],
    ['dev', f.dev],
    ['kid', f.kid],
    ['pk', x25519CoseKeyMap(f.pk)],
    ['patient', f.patient],
    ['nbf', f.nbf],
    ['exp', f.exp],
  ]);
  if (f.maxReadings !== undefined) map.set('maxReadings', f.maxReadings);
  if (f.idk !== undefined) map.set('idk', x25519CoseKeyMap(f.idk));
  return encodeCanonical(map);
}

/** Strictly parses the payload bytes of a ticket (TICKET_MALFORMED on anything unexpected). */
export function parseTicketPayload(payload: Uint8Array): Ticket {
  let map: CborValue;
  try {
    // every number of a ticket payload is an integer (§7.1): a float, even 1.0 for "v", is refused
    map = decodeStrict(payload, { maxBytes: TICKET_MAX_BYTES, maxDepth: 2, maxItems: 16, floats: 'nowhere' });
  } catch (e) {
    fail('TICKET_MALFORMED', 'ticket payload is not strict CBOR', e);
  }
  if (!isCborMap(map)) fail('TICKET_MALFORMED', 'ticket payload is not a map');
  for (const key of map.keys()) {
    if (!(TICKET_KEYS as readonly unknown[]).includes(key)) fail('TICKET_MALFORMED', 'ticket payload has an unknown field');
  }
  const v = map.get('v');
  if (v !== TICKET_VERSION && v !== TICKET_VERSION_IDENTITY) fail('TICKET_MALFORMED', 'unsupported ticket version');
  // v 1 has no idk (what every v1 device expects), v 2 always has one.
  if ((v === TICKET_VERSION_IDENTITY) !== map.has('idk')) fail('TICKET_MALFORMED', 'idk is present exactly in version 2');
  const fields = {
    dev: map.get('dev'),
    kid: map.get('kid'),
    pk: publicKeyOf(map.get('pk'), 'pk'),
    patient: map.get('patient'),
    nbf: map.get('nbf'),
    exp: map.get('exp'),
    ...(map.has('maxReadings') ? { maxReadings: map.get('maxReadings') } : {}),
    ...(map.has('idk') ? { idk: publicKeyOf(map.get('idk'), 'idk') } : {}),
  } as TicketFields;
  checkTicketFields(fields);
  return { v, ...fields };
}

function publicKeyOf(coseKey: CborValue | undefined, field: 'pk' | 'idk'): Uint8Array {
  try {
    return x25519PublicKeyFromCoseKey(coseKey);
  } catch (e) {
    if (isVitalsealError(e)) fail('TICKET_MALFORMED', `${field} is not an X25519 HPKE-4 COSE_Key`, e);
    throw e;
  }
}

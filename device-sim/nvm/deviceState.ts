import { simFail } from '../errors.ts';

/**
 * What a device keeps in NVM besides its outbox (one small JSON file, replaced atomically).
 * The secret is the MQTT password a real device keeps in its protected flash; the file is
 * created 0600 and is never logged.
 */
export interface DeviceNvmState {
  readonly v: 1;
  readonly dev: string;
  readonly secret?: string;
  /** Ward authority's Ed25519 public key (hex), pinned at provisioning. */
  readonly authorityPublicKey?: string;
  /** The session ticket in use (hex of the COSE_Sign1 bytes). */
  readonly ticket?: string;
  /** seq of the first reading sealed under `ticket` (for the ticket's maxReadings). */
  readonly ticketStartSeq?: number;
  /** Incremented (and saved) at every boot, before anything is sealed: keys the ephemeral-key stream. */
  readonly bootCount: number;
  /**
   * The device's X25519 identity secret key (hex; docs/PROTOCOL.md §3.6), generated on the device at
   * first boot. It never leaves the device: only its public key is reported (status "idk").
   */
  readonly identityKey?: string;
  /**
   * After a rotation of the identity key (`vitalseal sim --rotate-identity`, DeviceFirmware.rotateIdentity;
   * docs/PROTOCOL.md §3.6): the PUBLIC key of the previous identity key (hex), so that a ticket still
   * certifying it is refused as SIM_IDENTITY_KEY_ROTATED. The previous secret is erased, never kept.
   */
  readonly previousIdentityPublicKey?: string;
}

const HEX = /^[0-9a-f]*$/;

export function parseDeviceState(text: string): DeviceNvmState {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    simFail('SIM_NVM_CORRUPT', 'device state is not JSON');
  }
  const s = o as Record<string, unknown>;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    s['v'] === 1 &&
    typeof s['dev'] === 'string' &&
    Number.isSafeInteger(s['bootCount']) &&
    (s['secret'] === undefined || typeof s['secret'] === 'string') &&
    (s['authorityPublicKey'] === undefined || (typeof s['authorityPublicKey'] === 'string' && HEX.test(s['authorityPublicKey']))) &&
    (s['ticket'] === undefined || (typeof s['ticket'] === 'string' && HEX.test(s['ticket']))) &&
    (s['ticketStartSeq'] === undefined || Number.isSafeInteger(s['ticketStartSeq'])) &&
    (s['identityKey'] === undefined || (typeof s['identityKey'] === 'string' && /^[0-9a-f]{64}$/.test(s['identityKey']))) &&
    (s['previousIdentityPublicKey'] === undefined ||
      (typeof s['previousIdentityPublicKey'] === 'string' && /^[0-9a-f]{64}$/.test(s['previousIdentityPublicKey'])));
  if (!ok) simFail('SIM_NVM_CORRUPT', 'device state has a missing or malformed field');
  return s as unknown as DeviceNvmState;
}

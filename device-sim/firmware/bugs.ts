/**
 * Deliberately broken firmware variants, for mutation testing of the conformance kit
 * (issue #18): each breaks one rule of docs/PROTOCOL.md at one explicit hook in the
 * simulator's code (`hook` names the file). A simulator runs at most one. They are selectable
 * for tests only: `vitalseal sim --firmware-bug <name>` is refused unless the environment has
 * VITALSEAL_TEST_FIRMWARE_BUGS=1 (`firmwareBugFromCli`); in-process, `FleetOptions.firmwareBug`
 * / `FirmwareOptions.bug`. A device never says which bug it runs (its status `fw` is the same).
 */
import { simFail } from '../errors.ts';

/** Which link shows the bug (`any`: both), and whether it only shows across a reboot (kill -9 and restart from NVM). */
export interface FirmwareBugSpec {
  readonly name: string;
  /** What the variant does wrong. */
  readonly breaks: string;
  /** The rule of docs/PROTOCOL.md it breaks. */
  readonly rule: string;
  /** The file of the hook. */
  readonly hook: string;
  readonly link: 'serial' | 'mqtt' | 'any';
  readonly needsReboot: boolean;
}

export const FIRMWARE_BUGS = [
  {
    name: 'seq-reuse-after-reboot',
    breaks: 'the seq counter is not restored from NVM: it restarts at 0 after every boot',
    rule: '§10.3 seq MUST NOT repeat, across reboots and tickets',
    hook: 'firmware/device.ts boot(), nvm/outbox.ts add()',
    link: 'any',
    needsReboot: true,
  },
  {
    name: 'skip-outbox-replay',
    breaks: 'at boot the unacknowledged readings of the outbox log are not resent',
    rule: '§8.7 after a link loss or reboot every unacknowledged reading is resent, in seq order',
    hook: 'firmware/device.ts boot(), nvm/outbox.ts skipReplay()',
    link: 'any',
    needsReboot: true,
  },
  {
    name: 'replay-acked',
    breaks: 'acknowledgements are kept in RAM only: after a reboot already acknowledged readings are sent again',
    rule: '§8.7 a reading is removed from the outbox when acknowledged (and only unacknowledged readings are resent)',
    hook: 'nvm/outbox.ts remove()',
    link: 'any',
    needsReboot: true,
  },
  {
    name: 'wrong-aad',
    breaks: 'the AEAD additional data is the Enc_structure of an empty protected header, not of the one sent',
    rule: '§5.4 aad = ["Encrypt0", protected, h\'\'] over the protected bytes as sent',
    hook: 'crypto/sealer.ts buggySeal()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'wrong-kid',
    breaks: 'the envelope kid is the first 16 bytes of the public key, not of its SHA-256',
    rule: '§3.3 kid = SHA-256(pk)[0:16]; §5.5 the envelope carries the ticket kid',
    hook: 'firmware/device.ts newSealer()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'ephemeral-key-reuse',
    breaks: 'one ephemeral key for every reading of a boot',
    rule: '§5.5 a fresh ephemeral key per reading; §3.5 random values MUST NOT repeat',
    hook: 'firmware/device.ts newSealer()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'non-canonical-cbor',
    breaks: 'the protected header map is encoded in declaration order (1, dev, seq, ts, st), not sorted',
    rule: '§2.3 deterministic encoding: map keys sorted bytewise; §5.2',
    hook: 'crypto/sealer.ts buggySeal()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'accept-expired-ticket',
    breaks: 'a ticket past its exp is accepted and sealed to',
    rule: '§7.3 check 6 (TICKET_EXPIRED); §7.4',
    hook: 'firmware/ticketCheck.ts checkTicket(), ticketUsable()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'accept-other-device-ticket',
    breaks: 'a ticket issued for another device id is accepted',
    rule: '§7.3 check 4 (TICKET_WRONG_DEVICE)',
    hook: 'firmware/ticketCheck.ts checkTicket()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'ignore-ticket-signature',
    breaks: 'the ticket signature is not verified against the pinned authority key',
    rule: '§7.3 check 2 (TICKET_BAD_SIGNATURE)',
    hook: 'firmware/ticketCheck.ts checkTicket()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'bad-crc',
    breaks: 'the frame CRC-32 is written big-endian',
    rule: '§8.1, §8.3 CRC-32 little endian',
    hook: 'transport/serialLink.ts frame()',
    link: 'serial',
    needsReboot: false,
  },
  {
    name: 'no-resync-after-garbage',
    breaks: 'after one bad frame the receiver ignores every later frame (until the line reopens)',
    rule: '§8.5 a bad frame is dropped, never fatal; the receiver resynchronises at the next 0x00',
    hook: 'transport/serialLink.ts onData()',
    link: 'serial',
    needsReboot: false,
  },
  {
    name: 'wrong-units',
    breaks: 'readings carry another unit than the registered one for their sensor type (e.g. spo2 "bpm,%")',
    rule: '§4.2 registered st, u and layout',
    hook: 'firmware/device.ts measure()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'ts-in-seconds',
    breaks: 'ts (header and plaintext) is in seconds, not milliseconds',
    rule: '§4.1, §5.2 ts is ms-time; §10.4',
    hook: 'firmware/device.ts measure()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'publish-qos0',
    breaks: 'readings are published with QoS 0 (and taken as delivered once written)',
    rule: '§9.1, §9.4 readings are published with QoS 1; the PUBACK acknowledges',
    hook: 'transport/mqttLink.ts sendReading()',
    link: 'mqtt',
    needsReboot: false,
  },
  {
    name: 'wrong-refusal-code',
    breaks: 'a refused ticket is reported with TICKET_MALFORMED whatever the reason',
    rule: '§7.3 a device MUST report a refusal with its code',
    hook: 'firmware/device.ts onTicket()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'ignore-ack-dev',
    breaks: "an ack frame for another device's id removes the reading",
    rule: '§8.6 a device MUST ignore an ack whose dev is not its own',
    hook: 'transport/serialLink.ts onData()',
    link: 'serial',
    needsReboot: false,
  },
  {
    name: 'no-last-will',
    breaks: 'connects without a last will',
    rule: '§9.2 SHOULD set a last will; §9.6 {"state": "offline"}, QoS 1',
    hook: 'transport/mqttLink.ts open()',
    link: 'mqtt',
    needsReboot: false,
  },
  {
    name: 'persistent-session',
    breaks: 'connects with clean session = false',
    rule: '§9.2 the device connects with clean session',
    hook: 'transport/mqttLink.ts open()',
    link: 'mqtt',
    needsReboot: false,
  },
  {
    name: 'resend-different-bytes',
    breaks: 'a resend after an acknowledgement timeout carries the envelope untagged (other bytes)',
    rule: '§8.7 a resend is byte for byte; §9.4, §10.5',
    hook: 'firmware/sendWindow.ts transmit()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'seq-gap',
    breaks: 'seq grows by 2 per sealed reading',
    rule: '§10.3 seq MUST increase by one per sealed reading',
    hook: 'firmware/device.ts measure()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'plaintext-in-status',
    breaks: 'the status payload carries the last reading in clear ("last": {"v", "u"})',
    rule: '§8.4 serial-status-body, §9.6 mqtt-status (no such key); §16 only ciphertext leaves the device',
    hook: 'firmware/device.ts sendStatus()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'base-mode-under-v2',
    breaks: 'under a v2 ticket that certifies its identity key the device still seals in base mode (no "m": 2)',
    rule: '§3.6, §5.5 a device whose ticket carries idk MUST seal every reading under it in auth mode with skS',
    hook: 'firmware/device.ts newSealer()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'wrong-identity-key',
    breaks: 'seals in auth mode with a second key derived at boot, not the identity key it reports (and the ticket certifies)',
    rule: '§3.6, §5.5 SealAuth with skS, the secret of the reported idk the ticket certifies',
    hook: 'firmware/device.ts newSealer()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'ignores-foreign-idk',
    breaks: "a v2 ticket certifying another device's identity key is accepted (and sealed to with its own key)",
    rule: '§3.6 a device MUST refuse a ticket whose idk is not its own (SIM_IDENTITY_KEY_MISMATCH); §7.3',
    hook: 'firmware/device.ts identityMismatch()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'idk-not-persisted',
    breaks: 'a new identity key at every boot (not kept in NVM): after a reboot the v2 ticket in use no longer matches',
    rule: '§3.6 the identity key pair is generated at provisioning and kept in non-volatile memory',
    hook: 'firmware/device.ts boot()',
    link: 'any',
    needsReboot: true,
  },
  {
    name: 'auth-mode-under-v1',
    breaks: 'a device with an identity key seals in auth mode ("m": 2) under every ticket, v1 tickets (no idk) included',
    rule: '§5.5 SealBase under a ticket without idk, SealAuth only when it carries idk; §5.7 ENVELOPE_NO_SENDER_KEY',
    hook: 'firmware/device.ts newSealer()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'rotation-keeps-ticket',
    breaks:
      'after a rotation of its identity key the device keeps using a ticket that certifies the previous key (and accepts one again), sealing to it with the new key',
    rule: '§3.6 rotating: the ticket in use that carries the old idk is dropped at once, a ticket certifying the previous key refused (SIM_IDENTITY_KEY_ROTATED)',
    hook: 'firmware/device.ts identityMismatch(), rotateIdentity()',
    link: 'any',
    needsReboot: false,
  },
  {
    name: 'rotation-silent',
    breaks: 'after a rotation the ticket certifying the old key is dropped without a word: no error status (SIM_IDENTITY_KEY_ROTATED)',
    rule: '§3.6 rotating: the device reports {"state": "error", "code": "SIM_IDENTITY_KEY_ROTATED"} when it drops or refuses such a ticket',
    hook: 'firmware/device.ts sendStatus()',
    link: 'any',
    needsReboot: false,
  },
] as const satisfies readonly FirmwareBugSpec[];

export type FirmwareBugName = (typeof FIRMWARE_BUGS)[number]['name'];

export const FIRMWARE_BUG_NAMES: readonly FirmwareBugName[] = FIRMWARE_BUGS.map((b) => b.name);

/** The environment switch that allows `--firmware-bug` (tests only). */
export const FIRMWARE_BUGS_ENV = 'VITALSEAL_TEST_FIRMWARE_BUGS';

export function isFirmwareBug(name: unknown): name is FirmwareBugName {
  return typeof name === 'string' && (FIRMWARE_BUG_NAMES as readonly string[]).includes(name);
}

export function firmwareBugSpec(name: FirmwareBugName): FirmwareBugSpec {
  return FIRMWARE_BUGS.find((b) => b.name === name)!;
}

/**
 * The variant a command line asks for: refused (SIM_CONFIG_INVALID) unless `env` has
 * VITALSEAL_TEST_FIRMWARE_BUGS=1, and for a name not in FIRMWARE_BUGS.
 */
export function firmwareBugFromCli(
  name: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): FirmwareBugName | undefined {
  if (name === undefined) return undefined;
  if (env[FIRMWARE_BUGS_ENV] !== '1') simFail('SIM_CONFIG_INVALID', `--firmware-bug is for tests only (set ${FIRMWARE_BUGS_ENV}=1)`);
  if (!isFirmwareBug(name)) simFail('SIM_CONFIG_INVALID', `--firmware-bug must be one of ${FIRMWARE_BUG_NAMES.join(', ')}`);
  return name;
}

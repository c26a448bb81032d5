/**
 * EIP-712 messages of the agent's signed API (docs/PROTOCOL.md Appendix A), shared by
 * the agent and the wallet. The domain binds a signature to one chain, one Consent contract and
 * one agent log (salt = logId), so a request signed for one ward cannot be replayed at another.
 * Address and Hex are the same template types as viem's, so the values pass to viem unchanged.
 */

/** A 20-byte address, 0x hex. */
export type Address = `0x${string}`;
/** Bytes as 0x hex. */
export type Hex = `0x${string}`;

export const API_DOMAIN_NAME = 'vitalseal-agent';
export const API_DOMAIN_VERSION = '1';

export interface ApiDomain {
  name: typeof API_DOMAIN_NAME;
  version: typeof API_DOMAIN_VERSION;
  chainId: number;
  verifyingContract: Address;
  salt: Hex;
}

export function apiDomain(chainId: number, consent: Address, logId: Hex): ApiDomain {
  return { name: API_DOMAIN_NAME, version: API_DOMAIN_VERSION, chainId, verifyingContract: consent, salt: logId };
}

const common = [
  { name: 'requester', type: 'address' },
  { name: 'nonce', type: 'bytes32' },
  { name: 'expiry', type: 'uint64' },
] as const;

export const API_TYPES = {
  /** Records of one patient (optionally one device), from a leaf index on. */
  RecordQuery: [
    ...common,
    { name: 'patient', type: 'address' },
    { name: 'device', type: 'string' },
    { name: 'fromLeaf', type: 'uint64' },
    { name: 'limit', type: 'uint32' },
  ],
  /** A patient asks the ward to issue a session ticket for its temporary public key. */
  SessionRequest: [
    ...common,
    { name: 'device', type: 'string' },
    { name: 'pk', type: 'bytes32' },
    { name: 'nbf', type: 'uint64' },
    { name: 'exp', type: 'uint64' },
  ],
  /** A patient asks to be paired with a device: the answer is a code the ward operator confirms at the bedside. */
  PairingRequest: [...common, { name: 'device', type: 'string' }],
  /** A patient ends a session (the ticket is superseded by one that expires now). */
  SessionEnd: [...common, { name: 'device', type: 'string' }, { name: 'kid', type: 'bytes16' }],
  /** A patient uploads its emergency escrow (hashes of the profile and of the sealed key). */
  EscrowUpload: [...common, { name: 'profileHash', type: 'bytes32' }, { name: 'escrowHash', type: 'bytes32' }],
  /** An emergency clinician asks for the escrowed profile key, re-sealed to `recipientKey` (X25519). */
  EmergencyRelease: [...common, { name: 'patient', type: 'address' }, { name: 'recipientKey', type: 'bytes32' }],
  /** A patient reads the access events about itself (served queries, sessions, releases). */
  AccessQuery: [...common, { name: 'fromLeaf', type: 'uint64' }, { name: 'limit', type: 'uint32' }],
  /** A patient's disclosure of one reading's AEAD key to a researcher. */
  Disclosure: [
    { name: 'patient', type: 'address' },
    { name: 'recordId', type: 'bytes32' },
    { name: 'disclosureHash', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const;

export type ApiPrimaryType = keyof typeof API_TYPES;

/** JSON form of the messages (uint64 as JSON numbers, bytes as 0x hex). */
export interface RequestCommon {
  requester: Address;
  nonce: Hex;
  expiry: number;
}
export interface RecordQueryMessage extends RequestCommon {
  patient: Address;
  device: string;
  fromLeaf: number;
  limit: number;
}
export interface SessionRequestMessage extends RequestCommon {
  device: string;
  pk: Hex;
  nbf: number;
  exp: number;
}
export interface PairingRequestMessage extends RequestCommon {
  device: string;
}
export interface SessionEndMessage extends RequestCommon {
  device: string;
  kid: Hex;
}
export interface EscrowUploadMessage extends RequestCommon {
  profileHash: Hex;
  escrowHash: Hex;
}
export interface EmergencyReleaseMessage extends RequestCommon {
  patient: Address;
  recipientKey: Hex;
}
export interface AccessQueryMessage extends RequestCommon {
  fromLeaf: number;
  limit: number;
}
export interface DisclosureMessage {
  patient: Address;
  recordId: Hex;
  disclosureHash: Hex;
  issuedAt: number;
}

export interface MessageOf {
  RecordQuery: RecordQueryMessage;
  SessionRequest: SessionRequestMessage;
  PairingRequest: PairingRequestMessage;
  SessionEnd: SessionEndMessage;
  EscrowUpload: EscrowUploadMessage;
  EmergencyRelease: EmergencyReleaseMessage;
  AccessQuery: AccessQueryMessage;
  Disclosure: DisclosureMessage;
}

const UINT_FIELDS = new Set(['expiry', 'fromLeaf', 'limit', 'nbf', 'exp', 'issuedAt']);

/** The message as viem's typed-data encoder wants it (uint64/uint32 as bigint). */
export function typedMessage(message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message)) out[k] = UINT_FIELDS.has(k) && typeof v === 'number' ? BigInt(v) : v;
  return out;
}

/** Everything `signTypedData` / `verifyTypedData` need for one message. */
export function typedDataOf<P extends ApiPrimaryType>(domain: ApiDomain, primaryType: P, message: MessageOf[P]) {
  return { domain, types: { [primaryType]: API_TYPES[primaryType] }, primaryType, message: typedMessage(message) } as const;
}

/** Wire form of every signed request: the message and the requester's signature. */
export interface SignedRequest<M> {
  message: M;
  signature: Hex;
}

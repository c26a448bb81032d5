/** JSON schemas of the signed API (fastify validates with them; /openapi.json is generated from them). */
import { DEVICE_ID_PATTERN } from '../../protocol/deviceId.ts';

const hex = (bytes: number) => ({ type: 'string', pattern: `^0x[0-9a-fA-F]{${bytes * 2}}$` }) as const;
export const ADDRESS = hex(20);
export const BYTES32 = hex(32);
export const BYTES16 = hex(16);
const uint = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const b64 = (max: number) => ({ type: 'string', maxLength: max, pattern: '^[A-Za-z0-9+/=]*$' }) as const;

/** A device id (protocol/deviceId.ts). */
export const DEVICE_ID = { type: 'string', pattern: DEVICE_ID_PATTERN } as const;

const commonProps = { requester: ADDRESS, nonce: BYTES32, expiry: uint } as const;
const commonReq = ['requester', 'nonce', 'expiry'] as const;

function signed(messageProps: Record<string, unknown>, required: readonly string[], extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['message', 'signature', ...Object.keys(extra)],
    properties: {
      message: {
        type: 'object',
        additionalProperties: false,
        required: [...commonReq, ...required],
        properties: { ...commonProps, ...messageProps },
      },
      signature: { type: 'string', pattern: '^0x[0-9a-fA-F]{130}$' },
      ...extra,
    },
  } as const;
}

export const RECORD_QUERY_BODY = signed(
  {
    patient: ADDRESS,
    device: {
      type: 'string',
      anyOf: [{ maxLength: 0 }, { pattern: DEVICE_ID_PATTERN }],
      description: "a device id, or '' for all devices",
    },
    fromLeaf: uint,
    limit: { type: 'integer', minimum: 1, maximum: 500 },
  },
  ['patient', 'device', 'fromLeaf', 'limit'],
);
export const SESSION_REQUEST_BODY = signed({ device: DEVICE_ID, pk: BYTES32, nbf: uint, exp: uint }, ['device', 'pk', 'nbf', 'exp']);
export const PAIRING_REQUEST_BODY = signed({ device: DEVICE_ID }, ['device']);
export const SESSION_END_BODY = signed({ device: DEVICE_ID, kid: BYTES16 }, ['device', 'kid']);
export const ESCROW_UPLOAD_BODY = signed({ profileHash: BYTES32, escrowHash: BYTES32 }, ['profileHash', 'escrowHash'], {
  profile: b64(16_384),
  enc: BYTES32,
  sealed: b64(256),
});
export const EMERGENCY_RELEASE_BODY = signed({ patient: ADDRESS, recipientKey: BYTES32 }, ['patient', 'recipientKey']);

export const ACCESS_QUERY_BODY = signed({ fromLeaf: uint, limit: { type: 'integer', minimum: 1, maximum: 500 } }, ['fromLeaf', 'limit']);

export const ERROR_RESPONSE = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] },
  },
} as const;

const anchorRef = {
  type: ['object', 'null'],
  properties: {
    treeSize: uint,
    root: BYTES32,
    txHash: BYTES32,
    blockNumber: uint,
    blockHash: BYTES32,
    chainId: uint,
    ledger: ADDRESS,
    logId: BYTES32,
  },
} as const;

export const SERVED_RECORD = {
  type: 'object',
  properties: {
    recordId: { type: 'string' },
    device: { type: 'string' },
    seq: uint,
    ts: uint,
    st: { type: 'string' },
    kid: { type: 'string' },
    leafIndex: uint,
    treeSize: uint,
    envelope: { type: 'string', description: 'base64 COSE_Encrypt0 (ciphertext only)' },
    inclusionProof: { type: 'array', items: { type: 'string' } },
    root: { type: 'string' },
    anchor: anchorRef,
    ticket: {
      type: 'string',
      description:
        "base64 COSE_Sign1 session ticket of (device, kid), signed by the ward authority: its idk is the device identity key the reading's origin is verified against",
    },
  },
} as const;

export const RECORD_QUERY_RESPONSE = {
  type: 'object',
  properties: {
    patient: ADDRESS,
    records: { type: 'array', items: SERVED_RECORD },
    withheld: { type: 'integer', description: 'records of the range the consent on-chain does not cover' },
    nextFromLeaf: uint,
    access: { type: 'object', properties: { leafIndex: uint } },
  },
} as const;

import { defineErrors } from '../protocol/errors.ts';

/**
 * Stable codes of the edge agent. Quarantine reasons are either a protocol decoder's code
 * (ENVELOPE_*, CBOR_*) or one of the AGENT_* codes below.
 */
export const AGENT_ERRORS = defineErrors(
  'agent',
  {
    CONFIG_INVALID: { message: 'configuration is invalid', exit: 'usage' },
    CONFIG_FILE_UNREADABLE: { message: 'configuration file cannot be read or parsed', exit: 'usage' },
    STORE_SCHEMA_TOO_NEW: { message: 'database schema is newer than this agent', exit: 'invalid-input' },
    STORE_LOG_CORRUPT: { message: 'stored transparency log does not match its leaves', exit: 'invalid-input' },
    AGENT_TOPIC_INVALID: { message: 'topic is not vs/v1/<device>/<kind>', exit: 'invalid-input' },
    AGENT_DEVICE_MISMATCH: { message: 'envelope device differs from the topic/link device', exit: 'invalid-input' },
    AGENT_UNKNOWN_KID: { message: 'envelope kid is not a ticket known for this device', exit: 'invalid-input' },
    AGENT_SEQ_REPLAY: { message: 'envelope reuses a sequence number already stored with other content', exit: 'invalid-input' },
    AGENT_SEQ_JUMP: {
      message: "envelope sequence number jumps further above the device's highest than ingest.maxSeqJump allows",
      exit: 'invalid-input',
    },
    AGENT_TS_OUT_OF_RANGE: { message: 'envelope timestamp is too far in the future or before its ticket', exit: 'invalid-input' },
    AGENT_DEVICE_REVOKED: {
      message: 'the device was revoked by the operator: its readings are refused until it is provisioned again',
      exit: 'invalid-input',
    },
    AGENT_IDENTITY_REVOKED: {
      message: "the device's identity key was revoked: no ticket is issued and no reading accepted under it until a new key is registered",
      exit: 'invalid-input',
      http: 409,
    },
    AGENT_IDENTITY_KEY_INVALID: {
      message: 'identity key is not a 32-byte X25519 public key (64 hex digits), or was registered for this device before',
      exit: 'invalid-input',
      http: 400,
    },
    AGENT_BASE_MODE_REFUSED: {
      message:
        'reading is sealed in HPKE base mode where Auth mode is required (ingest.requireAuthMode, or its ticket certifies a device identity key)',
      exit: 'invalid-input',
    },
    AGENT_NOT_FOUND: { message: 'record or device not found', exit: 'invalid-input', http: 404 },
    AGENT_UNAUTHORIZED: { message: 'missing or wrong admin token', exit: 'invalid-input', http: 401 },
    AGENT_BAD_REQUEST: { message: 'request is invalid', exit: 'invalid-input', http: 400 },
    AGENT_SHUTTING_DOWN: { message: 'agent is shutting down', exit: 'invalid-input', http: 503 },
    AGENT_SESSION_KEY_TAKEN: {
      message: 'the session key is registered to another patient (a key belongs to one patient forever)',
      exit: 'invalid-input',
      http: 409,
    },
    AGENT_DEVICE_NOT_ASSIGNED: { message: 'the device is not assigned to this patient by the ward', exit: 'invalid-input', http: 409 },
    AGENT_PAIRING_NOT_FOUND: {
      message: 'no pending pairing request for this device with this code (wrong, used or expired)',
      exit: 'invalid-input',
      http: 404,
    },
    STORE_SYNC_FAILED: {
      message: 'the store could not make a commit durable (fdatasync failed); nothing is acknowledged until a later commit is durable',
      exit: 'invalid-input',
    },
    STORE_FULL: {
      message:
        'the store is full (SQLITE_FULL: no space on the disk or the database cannot grow); nothing is acknowledged until a commit succeeds',
      exit: 'invalid-input',
    },
    STORE_COMMIT_FAILED: { message: 'a group commit failed and was rolled back; nothing of it is acknowledged', exit: 'invalid-input' },
    AGENT_KEY_FILE_INVALID: {
      message: 'a key file in the agent data directory is not a vitalseal key file (version 1)',
      exit: 'invalid-input',
    },
    AGENT_BROKER_UNREACHABLE: { message: 'the external MQTT broker does not answer', exit: 'unavailable', http: 503 },
    TLS_CA_MISSING: {
      message: 'the ward CA does not exist in the data directory (vitalseal ward ca init, or start the agent with TLS on)',
      exit: 'invalid-input',
      http: 409,
    },
    TLS_CA_EXISTS: {
      message: 'the ward CA already exists in the data directory (it is never overwritten)',
      exit: 'invalid-input',
      http: 409,
    },
    TLS_FILE_INVALID: { message: 'a TLS key, certificate or CRL file is missing or unreadable', exit: 'invalid-input' },
    TLS_PUBLIC_KEY_INVALID: { message: 'the public key is not an ECDSA P-256 SubjectPublicKeyInfo', exit: 'invalid-input', http: 400 },
    TLS_CERT_NOT_FOUND: { message: 'no certificate with this serial was issued by the ward CA', exit: 'invalid-input', http: 404 },
  },
  { http: 400 },
);

/** Message of every agent code. */
export const AGENT_ERROR_CODES = AGENT_ERRORS.messages;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends AGENT_ERRORS.Error {
  override readonly name = 'AgentError';
}

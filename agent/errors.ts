import { CodedError } from '../protocol/errors.ts';

/**
 * Stable codes of the edge agent. Quarantine reasons are either a protocol decoder's code
 * (ENVELOPE_*, CBOR_*) or one of the AGENT_* codes below.
 */
export const AGENT_ERROR_CODES = {
  CONFIG_INVALID: 'configuration is invalid',
  CONFIG_FILE_UNREADABLE: 'configuration file cannot be read or parsed',
  STORE_SCHEMA_TOO_NEW: 'database schema is newer than this agent',
  STORE_LOG_CORRUPT: 'stored transparency log does not match its leaves',
  AGENT_TOPIC_INVALID: 'topic is not vs/v1/<device>/<kind>',
  AGENT_DEVICE_MISMATCH: 'envelope device differs from the topic/link device',
  AGENT_UNKNOWN_KID: 'envelope kid is not a ticket known for this device',
  AGENT_SEQ_REPLAY: 'envelope reuses a sequence number already stored with other content',
  AGENT_SEQ_JUMP: 'envelope sequence number jumps further above the device\'s highest than ingest.maxSeqJump allows',
  AGENT_TS_OUT_OF_RANGE: 'envelope timestamp is too far in the future or before its ticket',
  AGENT_DEVICE_REVOKED: 'the device was revoked by the operator: its readings are refused until it is provisioned again',
  AGENT_NOT_FOUND: 'record or device not found',
  AGENT_UNAUTHORIZED: 'missing or wrong admin token',
  AGENT_BAD_REQUEST: 'request is invalid',
  AGENT_SHUTTING_DOWN: 'agent is shutting down',
  AGENT_SESSION_KEY_TAKEN: 'the session key is registered to another patient (a key belongs to one patient forever)',
  AGENT_DEVICE_NOT_ASSIGNED: 'the device is not assigned to this patient by the ward',
  AGENT_PAIRING_NOT_FOUND: 'no pending pairing request for this device with this code (wrong, used or expired)',
  STORE_SYNC_FAILED: 'the store could not make a commit durable (fdatasync failed); nothing is acknowledged until a later commit is durable',
  STORE_FULL: 'the store is full (SQLITE_FULL: no space on the disk or the database cannot grow); nothing is acknowledged until a commit succeeds',
  STORE_COMMIT_FAILED: 'a group commit failed and was rolled back; nothing of it is acknowledged',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends CodedError<AgentErrorCode> {
  override readonly name = 'AgentError';
  constructor(code: AgentErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, AGENT_ERROR_CODES, message, options);
  }
}

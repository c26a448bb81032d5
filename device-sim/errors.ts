import { CodedError } from '../protocol/errors.ts';

/**
 * Errors of the device simulator: one class, stable codes. Messages are short and never
 * contain a key, a device secret or a plaintext reading.
 */
export const SIM_ERROR_CODES = {
  SIM_CONFIG_INVALID: 'simulator configuration is invalid',
  SIM_FLEET_FILE_INVALID: 'fleet file is not valid',
  SIM_PROFILE_UNKNOWN: 'unknown device profile',
  SIM_SCENARIO_INVALID: 'scenario specification is invalid',
  SIM_FAULT_SPEC_INVALID: 'fault specification is invalid',
  SIM_DURATION_INVALID: 'duration is invalid',
  SIM_NVM_CORRUPT: 'device NVM state is corrupt',
  SIM_NVM_IO: 'device NVM could not be read or written',
  SIM_NVM_LOCKED: 'device NVM directory is in use by another simulator',
  SIM_LINK_DOWN: 'the link is down',
  SIM_LINK_REFUSED: 'the broker refused the connection',
  SIM_LINK_TIMEOUT: 'the link did not come up in time',
  SIM_SERIAL_UNAVAILABLE: 'the serial port could not be opened',
  SIM_NO_TICKET: 'the device has no valid session ticket',
  SIM_TICKET_EXHAUSTED: 'the session ticket allows no more readings',
  SIM_NO_AUTHORITY_KEY: 'no ward authority key is pinned: a ticket from the link cannot be verified',
} as const;

export type SimErrorCode = keyof typeof SIM_ERROR_CODES;

export class SimError extends CodedError<SimErrorCode> {
  override readonly name = 'SimError';
  constructor(code: SimErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, SIM_ERROR_CODES, message, options);
  }
}

export function simFail(code: SimErrorCode, message?: string, cause?: unknown): never {
  throw new SimError(code, message, cause === undefined ? undefined : { cause });
}

export function isSimError(e: unknown, code?: SimErrorCode): e is SimError {
  return e instanceof SimError && (code === undefined || e.code === code);
}

/** The stable code of any error (SimError, VitalsealError, Node system error), or 'INTERNAL'. */
export function errorCodeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : 'INTERNAL';
}

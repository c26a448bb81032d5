import { defineErrors } from '../protocol/errors.ts';

/**
 * Errors of the device simulator: one class, stable codes. Messages are short and never
 * contain a key, a device secret or a plaintext reading.
 */
export const SIM_ERRORS = defineErrors('device-sim', {
  SIM_CONFIG_INVALID: { message: 'simulator configuration is invalid', exit: 'usage' },
  SIM_FLEET_FILE_INVALID: { message: 'fleet file is not valid', exit: 'invalid-input' },
  SIM_PROFILE_UNKNOWN: { message: 'unknown device profile', exit: 'usage' },
  SIM_SCENARIO_INVALID: { message: 'scenario specification is invalid', exit: 'usage' },
  SIM_FAULT_SPEC_INVALID: { message: 'fault specification is invalid', exit: 'usage' },
  SIM_DURATION_INVALID: { message: 'duration is invalid', exit: 'usage' },
  SIM_NVM_CORRUPT: { message: 'device NVM state is corrupt', exit: 'invalid-input' },
  SIM_NVM_IO: { message: 'device NVM could not be read or written', exit: 'invalid-input' },
  SIM_NVM_LOCKED: { message: 'device NVM directory is in use by another simulator', exit: 'usage' },
  SIM_LINK_DOWN: { message: 'the link is down', exit: 'unavailable' },
  SIM_LINK_REFUSED: { message: 'the broker refused the connection', exit: 'unavailable' },
  SIM_LINK_TIMEOUT: { message: 'the link did not come up in time', exit: 'invalid-input' },
  SIM_SERIAL_UNAVAILABLE: { message: 'the serial port could not be opened', exit: 'unavailable' },
  SIM_NO_TICKET: { message: 'the device has no valid session ticket', exit: 'invalid-input' },
  SIM_TICKET_EXHAUSTED: { message: 'the session ticket allows no more readings', exit: 'invalid-input' },
  SIM_IDENTITY_KEY_MISMATCH: {
    message: "the ticket certifies another identity key than this device's: it cannot seal readings that verify against it",
    exit: 'invalid-input',
  },
  SIM_IDENTITY_KEY_ROTATED: {
    message:
      "the ticket certifies this device's previous identity key (it rotated its key): it waits for a ticket that certifies the new one",
    exit: 'invalid-input',
  },
  SIM_NO_IDENTITY_KEY: { message: 'the device has no identity key yet (it generates one at its first boot)', exit: 'invalid-input' },
  SIM_NO_AUTHORITY_KEY: { message: 'no ward authority key is pinned: a ticket from the link cannot be verified', exit: 'invalid-input' },
});

/** Message of every simulator code. */
export const SIM_ERROR_CODES = SIM_ERRORS.messages;

export type SimErrorCode = keyof typeof SIM_ERROR_CODES;

export class SimError extends SIM_ERRORS.Error {
  override readonly name = 'SimError';
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

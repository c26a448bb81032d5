import { defineErrors } from '../protocol/errors.ts';

/**
 * Errors of the conformance kit (issue #18): the kit could not run (bad configuration, a link it
 * cannot open, a reboot it cannot perform). A device that misbehaves is never an error of the kit:
 * it gets fail verdicts. Messages never contain a key or a plaintext reading.
 */
export const CONFORM_ERRORS = defineErrors('conform', {
  CONFORM_CONFIG_INVALID: { message: 'conformance kit configuration is invalid', exit: 'usage' },
  CONFORM_LINK_FAILED: { message: 'the kit could not open its link to the device', exit: 'unavailable' },
  CONFORM_REBOOT_FAILED: { message: 'the device could not be rebooted', exit: 'unavailable' },
  CONFORM_ROTATE_FAILED: { message: 'the device could not be made to rotate its identity key', exit: 'unavailable' },
  CONFORM_KEY_FILE_INVALID: { message: 'the authority key file is not valid', exit: 'invalid-input' },
  CONFORM_CASE_UNKNOWN: { message: 'unknown conformance case id', exit: 'usage' },
  CONFORM_REPORT_FAILED: { message: 'the conformance report could not be written', exit: 'failure' },
});

export type ConformErrorCode = (typeof CONFORM_ERRORS.codes)[number];

export class ConformError extends CONFORM_ERRORS.Error {
  override readonly name = 'ConformError';
}

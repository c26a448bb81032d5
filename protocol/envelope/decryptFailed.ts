import { fail, isVitalsealError } from '../errors.ts';

/**
 * Runs an HPKE/AEAD step and reports any failure as ENVELOPE_DECRYPT_FAILED
 * (cause chained), except a malformed secret key, which is the caller's error.
 */
export function orDecryptFailed<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (isVitalsealError(e, 'HPKE_BAD_SECRET_KEY')) throw e;
    return fail('ENVELOPE_DECRYPT_FAILED', undefined, e);
  }
}

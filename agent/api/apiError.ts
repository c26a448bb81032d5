import { defineErrors } from '../../protocol/errors.ts';

/**
 * Refusals of the signed query API: every one has a stable code and one HTTP status.
 * Messages are short and never carry a key, a signature's secret or a plaintext.
 */
export const API_TABLE = defineErrors('api', {
  API_BAD_REQUEST: { message: 'request is malformed', exit: 'invalid-input', http: 400 },
  API_BAD_SIGNATURE: { message: 'the EIP-712 signature does not match the requester', exit: 'invalid-input', http: 401 },
  API_EXPIRED: { message: 'the request has expired', exit: 'invalid-input', http: 401 },
  API_EXPIRY_TOO_FAR: { message: 'the request expiry is too far in the future', exit: 'invalid-input', http: 400 },
  API_REPLAYED: { message: 'the request nonce was already used', exit: 'invalid-input', http: 409 },
  API_RATE_LIMITED: { message: 'too many requests from this requester', exit: 'invalid-input', http: 429 },
  API_NOT_REGISTERED: { message: 'the requester holds no active registration', exit: 'invalid-input', http: 403 },
  API_CONSENT_DENIED: { message: 'no consent on-chain for the requested records', exit: 'invalid-input', http: 403 },
  API_CHAIN_UNAVAILABLE: { message: 'the chain cannot be queried (anchoring off or node down)', exit: 'unavailable', http: 503 },
  API_NOT_PATIENT: { message: 'the requester is not a registered patient', exit: 'invalid-input', http: 403 },
  API_SESSION_INVALID: { message: 'the session request is invalid', exit: 'invalid-input', http: 400 },
  API_DEVICE_NOT_ASSIGNED: { message: 'the ward has not assigned this device to the requester', exit: 'invalid-input', http: 403 },
  API_SESSION_KEY_TAKEN: { message: 'this session key is registered to another patient', exit: 'invalid-input', http: 409 },
  API_SESSION_NOT_FOUND: { message: 'no such session of this patient', exit: 'invalid-input', http: 404 },
  API_ESCROW_INVALID: { message: 'the emergency escrow does not open with the ward key', exit: 'invalid-input', http: 400 },
  API_ESCROW_NOT_FOUND: { message: 'no emergency escrow for this patient', exit: 'invalid-input', http: 404 },
  API_NOT_EMERGENCY_CLINICIAN: { message: 'the requester is not a registered emergency clinician', exit: 'invalid-input', http: 403 },
  API_RECIPIENT_KEY_MISMATCH: {
    message: 'the key to re-seal to is not the one the clinician registered on-chain',
    exit: 'invalid-input',
    http: 400,
  },
  API_BREAK_GLASS_CLOSED: {
    message: 'no open break-glass window on-chain for this clinician and patient',
    exit: 'invalid-input',
    http: 403,
  },
  // client errors of the HTTP layer itself (fastify's own codes mapped in agent/http/errorReply.ts)
  API_MALFORMED_BODY: { message: 'the request body is not valid JSON (or is empty)', exit: 'invalid-input', http: 400 },
  API_BODY_TOO_LARGE: { message: 'the request body exceeds the size limit', exit: 'invalid-input', http: 413 },
  API_UNSUPPORTED_MEDIA_TYPE: {
    message: 'the request content-type is not accepted (use application/json)',
    exit: 'invalid-input',
    http: 415,
  },
  API_URL_INVALID: { message: 'the request URL is malformed', exit: 'invalid-input', http: 400 },
  API_URL_TOO_LONG: { message: 'a path parameter of the request URL is too long', exit: 'invalid-input', http: 414 },
  API_ROUTE_NOT_FOUND: { message: 'no such route', exit: 'invalid-input', http: 404 },
});

export type ApiErrorCode = (typeof API_TABLE.codes)[number];

/** Status and message of every API code (the OpenAPI document lists them). */
export const API_ERRORS = Object.fromEntries(
  API_TABLE.codes.map((c) => [c, { status: API_TABLE.specs[c].http, message: API_TABLE.specs[c].message }]),
) as {
  readonly [K in ApiErrorCode]: { readonly status: number; readonly message: string };
};

export class ApiError extends API_TABLE.Error {
  override readonly name = 'ApiError';
  get status(): number {
    return API_ERRORS[this.code].status;
  }
}

/** API_RATE_LIMITED with the seconds after which the client may try again (the Retry-After header). */
export class RateLimitedError extends ApiError {
  constructor(readonly retryAfterSec: number) {
    super('API_RATE_LIMITED');
  }
}

import { CodedError } from '../../protocol/errors.ts';

/**
 * Refusals of the signed query API: every one has a stable code and one HTTP status.
 * Messages are short and never carry a key, a signature's secret or a plaintext.
 */
export const API_ERRORS = {
  API_BAD_REQUEST: { status: 400, message: 'request is malformed' },
  API_BAD_SIGNATURE: { status: 401, message: 'the EIP-712 signature does not match the requester' },
  API_EXPIRED: { status: 401, message: 'the request has expired' },
  API_EXPIRY_TOO_FAR: { status: 400, message: 'the request expiry is too far in the future' },
  API_REPLAYED: { status: 409, message: 'the request nonce was already used' },
  API_RATE_LIMITED: { status: 429, message: 'too many requests from this requester' },
  API_NOT_REGISTERED: { status: 403, message: 'the requester holds no active registration' },
  API_CONSENT_DENIED: { status: 403, message: 'no consent on-chain for the requested records' },
  API_CHAIN_UNAVAILABLE: { status: 503, message: 'the chain cannot be queried (anchoring off or node down)' },
  API_NOT_PATIENT: { status: 403, message: 'the requester is not a registered patient' },
  API_SESSION_INVALID: { status: 400, message: 'the session request is invalid' },
  API_DEVICE_NOT_ASSIGNED: { status: 403, message: 'the ward has not assigned this device to the requester' },
  API_SESSION_KEY_TAKEN: { status: 409, message: 'this session key is registered to another patient' },
  API_SESSION_NOT_FOUND: { status: 404, message: 'no such session of this patient' },
  API_ESCROW_INVALID: { status: 400, message: 'the emergency escrow does not open with the ward key' },
  API_ESCROW_NOT_FOUND: { status: 404, message: 'no emergency escrow for this patient' },
  API_NOT_EMERGENCY_CLINICIAN: { status: 403, message: 'the requester is not a registered emergency clinician' },
  API_RECIPIENT_KEY_MISMATCH: { status: 400, message: 'the key to re-seal to is not the one the clinician registered on-chain' },
  API_BREAK_GLASS_CLOSED: { status: 403, message: 'no open break-glass window on-chain for this clinician and patient' },
  // client errors of the HTTP layer itself (fastify's own codes mapped in agent/http/errorReply.ts)
  API_MALFORMED_BODY: { status: 400, message: 'the request body is not valid JSON (or is empty)' },
  API_BODY_TOO_LARGE: { status: 413, message: 'the request body exceeds the size limit' },
  API_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request content-type is not accepted (use application/json)' },
  API_URL_INVALID: { status: 400, message: 'the request URL is malformed' },
  API_URL_TOO_LONG: { status: 414, message: 'a path parameter of the request URL is too long' },
  API_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

const MESSAGES = Object.fromEntries(Object.entries(API_ERRORS).map(([k, v]) => [k, v.message])) as Record<ApiErrorCode, string>;

export class ApiError extends CodedError<ApiErrorCode> {
  override readonly name = 'ApiError';
  constructor(code: ApiErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, MESSAGES, message, options);
  }
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

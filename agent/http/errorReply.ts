import type { FastifyReply } from 'fastify';
import { CodedError, errorTableOf } from '../../protocol/errors.ts';
import '../errors.ts'; // the agent's table (the protocol and API tables load with the imports here)
import { API_ERRORS, RateLimitedError, type ApiErrorCode } from '../api/apiError.ts';

/**
 * The one place that maps an error to its HTTP answer. A stable code's status comes from its
 * error table (`http` of the protocol, agent and API tables: protocol/errors.ts, agent/errors.ts,
 * agent/api/apiError.ts); fastify's own client errors become typed API_* codes (mapped here);
 * anything else, a code of a table without HTTP statuses included, is a 500 INTERNAL (our bug,
 * never the client's input).
 */

/** fastify's client-error codes (its body parsers and router) and the typed code each is answered with. */
const FRAMEWORK_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'API_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'API_BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'API_MALFORMED_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'API_MALFORMED_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'API_MALFORMED_BODY',
  FST_ERR_BAD_URL: 'API_URL_INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'API_URL_TOO_LONG',
};

/** Status of a stable code, from its table; a code without one is a refusal of the client's input (400). */
export function httpStatusOf(code: string): number {
  const table = errorTableOf(code);
  return (table?.has(code) ? table.httpStatusOf(code) : undefined) ?? 400;
}

export interface ErrorReply {
  status: number;
  code: string;
  message: string;
  retryAfterSec?: number;
}

/** The answer to a thrown error: typed code, status, a message that never echoes secrets (nor, for framework errors, the input). */
export function errorReplyOf(err: unknown): ErrorReply {
  if (err instanceof CodedError && err.httpStatus !== undefined) {
    const r: ErrorReply = { status: err.httpStatus, code: err.code, message: err.message };
    if (err instanceof RateLimitedError) r.retryAfterSec = err.retryAfterSec;
    return r;
  }
  const e = err as { code?: unknown; validation?: unknown; statusCode?: unknown; message?: unknown };
  if (e?.validation) return { status: 400, code: 'AGENT_BAD_REQUEST', message: String(e.message) };
  const framework = typeof e?.code === 'string' ? FRAMEWORK_CODES[e.code] : undefined;
  if (framework) return apiReply(framework);
  // any other client error fastify raises (a JSON SyntaxError carries statusCode 400, ...)
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 413) return apiReply('API_BODY_TOO_LARGE');
  if (status === 415) return apiReply('API_UNSUPPORTED_MEDIA_TYPE');
  if (status === 414) return apiReply('API_URL_TOO_LONG');
  if (status >= 400 && status < 500) return apiReply(err instanceof SyntaxError ? 'API_MALFORMED_BODY' : 'API_BAD_REQUEST');
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}

function apiReply(code: ApiErrorCode): ErrorReply {
  return { status: API_ERRORS[code].status, code, message: API_ERRORS[code].message };
}

/** Sends `{ error: { code, message } }` with the mapped status (and Retry-After when rate limited). */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const r = errorReplyOf(err);
  if (r.retryAfterSec !== undefined) void reply.header('retry-after', String(r.retryAfterSec));
  return reply.status(r.status).send({ error: { code: r.code, message: r.message } });
}

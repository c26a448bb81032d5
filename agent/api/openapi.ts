import { API_ERRORS } from './apiError.ts';
import { ERROR_RESPONSE } from './schemas.ts';

export interface RouteDoc {
  method: 'get' | 'post';
  url: string;
  summary: string;
  body?: unknown;
  response?: unknown;
  /** Stable error codes the route can answer with (their HTTP statuses come from API_ERRORS). */
  codes: string[];
}

/** OpenAPI 3.1 description generated from the same schema objects fastify validates with. */
export function buildOpenApi(routes: readonly RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {
      '200': { description: 'ok', ...(r.response ? { content: { 'application/json': { schema: r.response } } } : {}) },
    };
    const byStatus = new Map<number, string[]>();
    for (const code of r.codes) {
      const s = (API_ERRORS as Record<string, { status: number }>)[code]?.status ?? 400;
      byStatus.set(s, [...(byStatus.get(s) ?? []), code]);
    }
    for (const [s, codes] of byStatus)
      responses[String(s)] = { description: codes.join(', '), content: { 'application/json': { schema: ERROR_RESPONSE } } };
    paths[r.url] = {
      ...paths[r.url],
      [r.method]: {
        summary: r.summary,
        ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
        responses,
        'x-error-codes': r.codes,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'vitalseal agent query API', version: '1' },
    paths,
    components: {
      schemas: { Error: ERROR_RESPONSE },
      'x-error-codes': Object.fromEntries(Object.entries(API_ERRORS).map(([k, v]) => [k, v])),
    },
  };
}

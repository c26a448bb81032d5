import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { tempDir } from '../support/services.ts';

/**
 * Issue #15, defect 8.1: a network client sends malformed input to every kind of route (public, signed
 * API, admin). Every answer must be a 4xx with a typed, stable code — never a 500 "internal error",
 * never fastify's own untyped body.
 */
let agent: RunningAgent;
let base: string;
let auth: Record<string, string>;

beforeAll(async () => {
  agent = await startAgent(
    parseAgentConfig({ dataDir: tempDir('vitalseal-adv-http-'), mqtt: { port: 0 }, http: { port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
  base = `http://127.0.0.1:${agent.httpAddress.port}`;
  auth = { authorization: `Bearer ${agent.adminToken}` };
});

afterAll(async () => {
  await agent?.stop();
});

async function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; code: unknown }> {
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: unknown } };
  return { status: res.status, code: json.error?.code };
}

const json = { 'content-type': 'application/json' };

describe('defect 8.1: client errors are answered 4xx with a typed code, never 500', () => {
  const cases: Array<{
    what: string;
    method: string;
    path: string;
    headers: () => Record<string, string>;
    body?: string;
    status: number;
    code: string;
  }> = [
    {
      what: 'malformed JSON on an admin route',
      method: 'POST',
      path: '/admin/devices',
      headers: () => ({ ...auth, ...json }),
      body: '{"id": ',
      status: 400,
      code: 'API_MALFORMED_BODY',
    },
    {
      what: 'an empty JSON body on an admin route',
      method: 'POST',
      path: '/admin/devices',
      headers: () => ({ ...auth, ...json }),
      body: '',
      status: 400,
      code: 'API_MALFORMED_BODY',
    },
    {
      what: 'a body over the limit on an admin route',
      method: 'POST',
      path: '/admin/tickets',
      headers: () => ({ ...auth, ...json }),
      body: JSON.stringify({ ticket: 'A'.repeat(100_000) }),
      status: 413,
      code: 'API_BODY_TOO_LARGE',
    },
    {
      what: 'an invalid id on an admin route',
      method: 'POST',
      path: '/admin/devices',
      headers: () => ({ ...auth, ...json }),
      body: JSON.stringify({ id: 'a b' }),
      status: 400,
      code: 'AGENT_BAD_REQUEST',
    },
    {
      what: 'an over-long path parameter on an admin route',
      method: 'DELETE',
      path: `/admin/devices/${'x'.repeat(300)}`,
      headers: () => auth,
      status: 414,
      code: 'API_URL_TOO_LONG',
    },
    {
      what: 'malformed JSON on the signed API',
      method: 'POST',
      path: '/v1/query/records',
      headers: () => json,
      body: '{"message": {',
      status: 400,
      code: 'API_MALFORMED_BODY',
    },
    {
      what: 'a wrong content-type on the signed API',
      method: 'POST',
      path: '/v1/query/records',
      headers: () => ({ 'content-type': 'application/xml' }),
      body: '<q/>',
      status: 415,
      code: 'API_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      what: 'a body over the limit on the signed API',
      method: 'POST',
      path: '/v1/sessions',
      headers: () => json,
      body: JSON.stringify({ message: 'x'.repeat(100_000) }),
      status: 413,
      code: 'API_BODY_TOO_LARGE',
    },
    {
      what: 'a body of the wrong shape on the signed API',
      method: 'POST',
      path: '/v1/access',
      headers: () => json,
      body: '[1,2,3]',
      status: 400,
      code: 'AGENT_BAD_REQUEST',
    },
    {
      what: 'a bad record id on a public route',
      method: 'GET',
      path: '/v1/records/zz',
      headers: () => ({}),
      status: 400,
      code: 'AGENT_BAD_REQUEST',
    },
    {
      what: 'a broken percent-escape on a public route',
      method: 'GET',
      path: '/v1/records/%zz',
      headers: () => ({}),
      status: 400,
      code: 'API_URL_INVALID',
    },
    {
      what: 'a non-integer query parameter on a public route',
      method: 'GET',
      path: '/v1/log/consistency?from=abc',
      headers: () => ({}),
      status: 400,
      code: 'AGENT_BAD_REQUEST',
    },
    {
      what: 'a body on a GET route with a wrong content-type',
      method: 'POST',
      path: '/v1/ward',
      headers: () => ({ 'content-type': 'application/octet-stream' }),
      body: 'xx',
      status: 404,
      code: 'API_ROUTE_NOT_FOUND',
    },
    { what: 'an unknown route', method: 'GET', path: '/v1/nothing-here', headers: () => ({}), status: 404, code: 'API_ROUTE_NOT_FOUND' },
  ];
  for (const c of cases) {
    it(`answers ${c.status} ${c.code} to ${c.what}`, async () => {
      const r = await send(c.method, c.path, c.headers(), c.body);
      expect(r).toEqual({ status: c.status, code: c.code });
    });
  }

  it('answers a typed code (never INTERNAL, never a fastify FST_ code) to a burst of garbage on every route', async () => {
    const routes: Array<[string, string, Record<string, string>]> = [
      ['POST', '/admin/devices', { ...auth }],
      ['POST', '/admin/tickets', { ...auth }],
      ['POST', '/v1/query/records', {}],
      ['POST', '/v1/sessions', {}],
      ['POST', '/v1/sessions/end', {}],
      ['POST', '/v1/emergency/escrow', {}],
      ['POST', '/v1/emergency/release', {}],
      ['POST', '/v1/access', {}],
    ];
    const bodies: Array<[string, string]> = [
      ['application/json', '{'],
      ['application/json', 'null'],
      ['application/json', '"str"'],
      ['application/json', '{"__proto__": {"x": 1}}'],
      ['application/json; charset=utf-16', '{}'],
      ['text/plain', 'hello'],
      ['multipart/form-data; boundary=x', '--x--'],
      ['application/x-www-form-urlencoded', 'a=b'],
    ];
    for (const [method, path, h] of routes) {
      for (const [type, body] of bodies) {
        const r = await send(method, path, { ...h, 'content-type': type }, body);
        expect(r.status, `${method} ${path} ${type}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path} ${type}`).toBeLessThan(500);
        expect(String(r.code), `${method} ${path} ${type}`).toMatch(/^(API|AGENT|TICKET|INPUT|CBOR|COSE|LOG)_[A-Z_]+$/);
      }
    }
  });
});

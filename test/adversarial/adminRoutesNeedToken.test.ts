import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { tlsPaths } from '../../agent/tls/wardCa.ts';
import { tempDir } from '../support/services.ts';
import { httpsJson } from '../support/tlsClient.ts';

/**
 * Issue #20's new admin routes (identity keys, device certificates, certificate revocation, TLS key
 * rotation/reload, ward authority rotation) beside the older ones: a caller on the ward network
 * without the admin token, or with a wrong one, is refused on every one of them (401; 429 once its failed tokens are rate-limited) and changes
 * nothing (the identity key, the TLS certificate and the authority key stay as they were).
 */
let agent: RunningAgent;
let api: string;
let ca: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir('vitalseal-adv-admin-');
  agent = await startAgent(
    parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, tls: { enabled: true, port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
  api = `https://127.0.0.1:${agent.httpAddress.port}`;
  ca = readFileSync(tlsPaths(dataDir).caCert, 'utf8');
});

afterAll(async () => {
  await agent?.stop();
});

const KEY = '11'.repeat(32);
const ROUTES: ReadonlyArray<readonly [method: string, path: string, body?: unknown]> = [
  ['GET', '/admin/devices'],
  ['POST', '/admin/devices', { id: 'evil-01' }],
  ['POST', '/admin/tickets', { ticket: '00' }],
  ['GET', '/admin/metrics'],
  ['GET', '/admin/quarantine'],
  ['GET', '/admin/assignments'],
  ['POST', '/admin/assignments', { device: 'oxi-01', patient: 'p' }],
  ['DELETE', '/admin/assignments/oxi-01'],
  ['PUT', '/admin/devices/oxi-01/identity', { idk: KEY }],
  ['GET', '/admin/devices/oxi-01/identity'],
  ['DELETE', '/admin/devices/oxi-01/identity'],
  ['DELETE', `/admin/devices/oxi-01/identity?idk=${KEY}`],
  ['POST', '/admin/devices/oxi-01/certificates', { publicKey: KEY }],
  ['DELETE', '/admin/certificates/01'],
  ['GET', '/admin/tls'],
  ['POST', '/admin/tls/rotate'],
  ['POST', '/admin/tls/reload'],
  ['POST', '/admin/ward/authority-rotate'],
];

describe('every admin route needs the admin token (issue #20 routes included)', () => {
  it('refuses (401, or 429 when failed tokens are rate-limited) without a token and with a wrong one, and changes nothing', async () => {
    const wardKeys = (await httpsJson(`${api}/v1/ward`, { ca })).text;
    const serverCert = agent.tls?.certPem;
    for (const [method, path, body] of ROUTES) {
      for (const token of [undefined, 'not-the-token']) {
        const r = await httpsJson(api + path, { ca, method, ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
        // 401, or 429 once the per-IP bucket of failed admin tokens is empty (issue #15 defect 8.5)
        expect([401, 429], `${method} ${path} token=${token ?? 'none'}: ${r.status}`).toContain(r.status);
      }
    }
    expect((await httpsJson(`${api}/v1/ward`, { ca })).text).toBe(wardKeys); // authority not rotated
    expect(agent.tls?.certPem).toBe(serverCert); // TLS key not rotated
    const idk = await httpsJson(`${api}/admin/devices/oxi-01/identity`, { ca, token: agent.adminToken });
    expect(JSON.stringify(idk.json)).not.toContain(KEY); // no identity key registered
  });
});

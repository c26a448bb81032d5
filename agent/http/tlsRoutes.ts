import type { FastifyInstance } from 'fastify';
import type { AgentTls } from '../tls/agentTls.ts';
import { AgentError } from '../errors.ts';
import { DEVICE_ID_PATTERN } from '../../protocol/deviceId.ts';

/**
 * Admin routes of the agent's TLS (issue #20), under the admin token:
 * - GET  /admin/tls                         the ward CA certificate, its fingerprint, the issued certificates;
 * - POST /admin/devices/:id/certificates    a client certificate for a provisioned device's public key
 *                                           (SPKI PEM: the device's private key never reaches the agent);
 * - DELETE /admin/certificates/:serial      revokes one certificate (a rotation's old one): CRL reloaded, its connection closed;
 * - POST /admin/tls/rotate                  a new TLS key and server certificate for the agent, reloaded without closing connections;
 * - POST /admin/tls/reload                  re-reads operator-managed key/certificate/CA/CRL files.
 */
export function registerTlsRoutes(
  admin: FastifyInstance,
  tls: AgentTls,
  deviceState: (id: string) => 'active' | 'revoked' | 'unknown',
): void {
  const ca = (): NonNullable<AgentTls['ca']> => {
    if (!tls.ca) throw new AgentError('TLS_CA_MISSING', 'the agent uses operator-managed TLS files, not a ward CA');
    return tls.ca;
  };
  admin.get('/admin/tls', async () => ({
    caCert: tls.caPem,
    serverCert: tls.certPem,
    wardCa: tls.ca ? { fingerprint: tls.ca.fingerprint, issued: tls.ca.issued() } : null,
  }));
  admin.post<{ Params: { id: string }; Body: { publicKey: string; validDays?: number } }>(
    '/admin/devices/:id/certificates',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', pattern: DEVICE_ID_PATTERN } }, required: ['id'] },
        body: {
          type: 'object',
          properties: { publicKey: { type: 'string', maxLength: 4096 }, validDays: { type: 'integer', minimum: 1, maximum: 3650 } },
          required: ['publicKey'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const state = deviceState(req.params.id);
      if (state === 'unknown') throw new AgentError('AGENT_NOT_FOUND', 'no such device (vitalseal device add first)');
      if (state === 'revoked') throw new AgentError('AGENT_DEVICE_REVOKED');
      const r = await ca().issueDevice(
        req.params.id,
        req.body.publicKey,
        req.body.validDays !== undefined ? { validDays: req.body.validDays } : {},
      );
      return { device: req.params.id, serial: r.serial, cert: r.certPem, caCert: tls.caPem };
    },
  );
  admin.delete<{ Params: { serial: string } }>(
    '/admin/certificates/:serial',
    {
      schema: {
        params: { type: 'object', properties: { serial: { type: 'string', pattern: '^[0-9a-fA-F]{1,40}$' } }, required: ['serial'] },
      },
    },
    async (req) => ({ serial: req.params.serial, revoked: (await tls.revoke({ serial: req.params.serial })).length > 0 }),
  );
  admin.post('/admin/tls/rotate', async () => {
    ca();
    const r = await tls.rotateServerKey();
    return { rotated: true, serial: r.serial };
  });
  admin.post('/admin/tls/reload', async () => {
    await tls.reload();
    return { reloaded: true };
  });
}

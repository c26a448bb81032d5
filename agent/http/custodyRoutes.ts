import type { FastifyInstance } from 'fastify';
import type { DeviceCustody } from '../custody/deviceCustody.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { DEVICE_ID_PATTERN } from '../../protocol/deviceId.ts';

const DEVICE = { type: 'string', pattern: DEVICE_ID_PATTERN } as const;

/**
 * Ward operator routes for device custody (inside the admin scope: bearer admin token).
 * POST /admin/assignments {device, code}: confirm the pairing code the patient shows at the bedside;
 * {device, patient}: assign by patient reference (the operator identified the patient otherwise).
 * DELETE /admin/assignments/:device releases the device; both end the previous patient's sessions.
 */
export function registerCustodyRoutes(admin: FastifyInstance, custody: DeviceCustody): void {
  admin.get('/admin/assignments', async () => ({ assignments: custody.assignments() }));
  admin.post<{ Body: { device: string; code?: string; patient?: string } }>(
    '/admin/assignments',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            device: DEVICE,
            code: { type: 'string', minLength: 8, maxLength: 16 },
            patient: { type: 'string', minLength: 1, maxLength: 128 },
          },
          required: ['device'],
          oneOf: [{ required: ['code'] }, { required: ['patient'] }],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const b = req.body;
      return b.code !== undefined ? custody.confirmPairing(b.device, b.code) : custody.assign(b.device, b.patient!, 'operator');
    },
  );
  admin.delete<{ Params: { device: string } }>(
    '/admin/assignments/:device',
    { schema: { params: { type: 'object', properties: { device: DEVICE }, required: ['device'] } } },
    async (req) => custody.release(req.params.device),
  );

  // Device identity keys (issue #20, docs/PROTOCOL.md §3.6): register (or rotate to) the public key the
  // device reported, list a device's keys, revoke its current key. The secret never reaches the agent.
  const deviceParams = { params: { type: 'object', properties: { device: DEVICE }, required: ['device'] } } as const;
  admin.put<{ Params: { device: string }; Body: { idk: string } }>(
    '/admin/devices/:device/identity',
    {
      schema: {
        ...deviceParams,
        body: {
          type: 'object',
          properties: { idk: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
          required: ['idk'],
          additionalProperties: false,
        },
      },
    },
    async (req) => custody.registerIdentityKey(req.params.device, fromHex(req.body.idk.toLowerCase())),
  );
  // `reported`: the idk the device last reported in its online status (compare with the current key before registering)
  admin.get<{ Params: { device: string } }>('/admin/devices/:device/identity', { schema: deviceParams }, async (req) => ({
    device: req.params.device,
    keys: custody.identityKeys(req.params.device),
    reported: custody.reportedIdentityKey(req.params.device),
  }));
  // ?idk=<hex>: revoke that key, also an earlier (rotated) one; without it: the current key
  admin.delete<{ Params: { device: string }; Querystring: { idk?: string } }>(
    '/admin/devices/:device/identity',
    {
      schema: {
        ...deviceParams,
        querystring: {
          type: 'object',
          properties: { idk: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
          additionalProperties: false,
        },
      },
    },
    async (req) =>
      custody.revokeIdentityKey(req.params.device, req.query.idk === undefined ? undefined : fromHex(req.query.idk.toLowerCase())),
  );
}

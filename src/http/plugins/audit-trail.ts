/**
 * Records every successful destructive request in the audit log before the answer goes out: who (the
 * key id, or "anonymous" when access control is off), what, on what, when.
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ANONYMOUS, type AuditLog } from '../../library/audit-log.js';

type Describe = (request: FastifyRequest) => { action: string; target: string };

const param = (request: FastifyRequest, name: string): string =>
  String((request.params as Record<string, unknown> | undefined)?.[name] ?? '');

const bodyField = (request: FastifyRequest, name: string): string => {
  const body = request.body;
  return typeof body === 'object' && body !== null ? String((body as Record<string, unknown>)[name] ?? '') : '';
};

/** The destructive routes: what is removed or unbound. */
const DESTRUCTIVE: Readonly<Record<string, Describe>> = {
  'DELETE /api/faces/:faceToken': (request) => ({ action: 'face.delete', target: param(request, 'faceToken') }),
  'DELETE /api/faces/image/:imageId': (request) => ({ action: 'image.delete', target: param(request, 'imageId') }),
  'DELETE /api/faces/facesLib': () => ({ action: 'library.wipe', target: '' }),
  'DELETE /api/faceGroups/:groupId': (request) => ({
    action: `group.delete:${bodyField(request, 'deleteAllFace')}`,
    target: param(request, 'groupId'),
  }),
  'DELETE /api/faceGroups/unbind/:faceToken': (request) => ({
    action: `face.unbind:${bodyField(request, 'faceGroupList')}`,
    target: param(request, 'faceToken'),
  }),
};

export interface AuditTrailOptions {
  audit: AuditLog;
}

export const auditTrail = fp<AuditTrailOptions>(
  async (app, { audit }) => {
    app.addHook('onSend', async (request, reply, payload) => {
      const describe = DESTRUCTIVE[`${request.method} ${request.routeOptions.url}`];
      if (describe === undefined || reply.statusCode !== 200) return payload;
      const { action, target } = describe(request);
      await audit.record(request.apiKey?.keyId ?? ANONYMOUS, action, target);
      return payload;
    });
  },
  { name: 'visage-audit-trail' },
);

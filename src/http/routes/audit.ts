/** The audit log of destructive operations, for operators (scope `admin` when access control is on). */
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../../library/audit-log.js';
import { success } from '../envelope.js';
import { pageQuery, parseQuery } from '../schemas.js';

export interface AuditRoutesOptions {
  audit: AuditLog;
}

export const auditRoutes: FastifyPluginAsync<AuditRoutesOptions> = async (app, { audit }) => {
  // Oldest first, like the other lists; `total` tells where the newest page starts.
  app.get('/api/audit', async (request) => {
    const { pageOffset, pageSize } = parseQuery(pageQuery, request.query);
    const page = await audit.list({ offset: pageOffset, size: pageSize });
    return success({ total: page.total, entries: page.entries });
  });
};

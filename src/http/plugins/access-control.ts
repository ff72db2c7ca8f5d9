/**
 * API keys with scopes, checked before the body is read. Off by default (the original device has no
 * authentication, so an unchanged client keeps working); `VISAGE_AUTH=on` turns it on.
 *
 * A client passes its key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. No key, an unknown or
 * a revoked one → 401; a valid key without the route's scope → 403. Scopes do not imply each other.
 */
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeys, AuthenticatedKey, Scope } from '../../access/api-keys.js';
import { transportFailure } from '../envelope.js';
import { sendFailure } from '../reply.js';

/** `public` routes need no key (health checks, docs). */
export type RouteScope = Scope | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's key when access control is on and the key was valid. */
    apiKey?: AuthenticatedKey;
  }
  interface FastifyContextConfig {
    /** Overrides ROUTE_SCOPES for a route that declares it. */
    scope?: RouteScope;
  }
}

/**
 * Every route's scope: reading and recognising are `read`; changing faces and their bindings is
 * `write`; groups (which set thresholds and hold whole populations), wiping the library and the audit
 * log are `admin`. A route missing here needs `admin` (fail closed) unless it declares `config.scope`.
 */
export const ROUTE_SCOPES: Readonly<Record<string, RouteScope>> = {
  'GET /api/faces': 'read',
  'GET /api/faces/faceToken/:faceToken': 'read',
  'GET /api/faces/image/:imageId': 'read',
  'GET /api/faceGroups': 'read',
  'GET /api/faceGroups/:groupId': 'read',
  'POST /api/face/compare': 'read',
  'POST /api/face/search': 'read',
  'POST /api/face/detect': 'read',
  'POST /api/faces': 'write',
  'DELETE /api/faces/:faceToken': 'write',
  'DELETE /api/faces/image/:imageId': 'write',
  'POST /api/faceGroups/binding/:faceToken': 'write',
  'DELETE /api/faceGroups/unbind/:faceToken': 'write',
  'DELETE /api/faces/facesLib': 'admin',
  'POST /api/faceGroups': 'admin',
  'PUT /api/faceGroups': 'admin',
  'DELETE /api/faceGroups/:groupId': 'admin',
  'GET /api/audit': 'admin',
  'GET /healthz': 'public',
  'GET /metrics': 'admin',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
  'GET /': 'public',
  'GET /console/main.js': 'public',
  'GET /console/main.css': 'public',
};

export function routeScope(request: FastifyRequest): RouteScope {
  const declared = request.routeOptions.config.scope;
  if (declared !== undefined) return declared;
  // CORS preflights carry no credentials by design; HEAD is GET without the body.
  if (request.method === 'OPTIONS') return 'public';
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return ROUTE_SCOPES[`${method} ${request.routeOptions.url}`] ?? 'admin';
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = request.headers.authorization;
  const bearer = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return bearer?.[1];
}

export interface AccessControlOptions {
  /** Undefined: access control is off. */
  keys: ApiKeys | undefined;
}

export const accessControl = fp<AccessControlOptions>(
  async (app, { keys }) => {
    if (keys === undefined) return;
    app.addHook('onRequest', async (request, reply) => {
      // Unknown routes answer 404 whoever asks: that reveals nothing.
      if (request.routeOptions.url === undefined) return;
      const scope = routeScope(request);
      if (scope === 'public') return;
      const presented = presentedKey(request);
      const key = presented === undefined ? undefined : await keys.authenticate(presented);
      if (key === undefined) {
        reply.header('www-authenticate', 'Bearer realm="visage"');
        return sendFailure(reply, transportFailure('UNAUTHORIZED'));
      }
      request.apiKey = key;
      if (!key.scopes.has(scope)) return sendFailure(reply, transportFailure('FORBIDDEN'));
    });
  },
  { name: 'visage-access-control' },
);

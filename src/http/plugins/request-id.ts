/**
 * Request ids: every request gets one, logged with each of its log lines (`reqId`) and echoed in the
 * `X-Request-Id` response header. A caller's own `X-Request-Id` (a proxy's, say) is kept when it is a
 * short plain token, so one id follows the request across services; anything else is replaced.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { IncomingMessage } from 'node:http';
import fastifyPlugin from 'fastify-plugin';

const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_ID = /^[\w.:-]{1,64}$/;

/** Fastify's `genReqId`. */
export function requestId(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
}

const echoRequestId: FastifyPluginAsync = async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
};

/** Not encapsulated: every answer carries its id, 404s included. */
export const requestIdPlugin = fastifyPlugin(echoRequestId, { name: 'visage-request-id' });

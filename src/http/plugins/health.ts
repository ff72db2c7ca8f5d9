/**
 * Liveness (`/healthz`: the process answers), readiness (`/readyz`: models loaded, store reachable), and
 * draining: from the moment the server starts closing, new requests get `503 NOT_READY` in the envelope
 * (Fastify's own 503 would not be), while requests already in flight finish.
 */
import type { FastifyPluginAsync } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { ReadinessProbe } from '../../readiness.js';
import { success, transportFailure } from '../envelope.js';
import { sendFailure } from '../reply.js';

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

export interface HealthOptions {
  readiness: ReadinessProbe;
}

const health: FastifyPluginAsync<HealthOptions> = async (app, { readiness }) => {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!draining) return;
    reply.header('connection', 'close');
    return sendFailure(reply, transportFailure('NOT_READY', { status: 'shutting down' }));
  });
  // The connection of a request that was in flight when draining began closes after its answer.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  // Probes need no API key: orchestrators do not hold one.
  app.get(HEALTH_PATH, { config: { scope: 'public' } }, async () => success({ status: 'ok' }));
  app.get(READY_PATH, { config: { scope: 'public' } }, async (_request, reply) => {
    const { ready, checks } = await readiness();
    if (ready) return success({ status: 'ready', checks });
    return sendFailure(reply, transportFailure('NOT_READY', { status: 'not ready', checks }));
  });
};

/** Not encapsulated: draining applies to every route. */
export const healthPlugin = fastifyPlugin(health, { name: 'visage-health' });

/**
 * Prometheus metrics at `/metrics` (text exposition format), and the HTTP latency histogram: every answered
 * request by method, route template (never the raw URL, which would make one series per faceToken) and status.
 */
import type { FastifyPluginAsync } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { Metrics } from '../../metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsOptions {
  metrics: Metrics;
}

const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, { metrics }) => {
  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) };
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  app.get(METRICS_PATH, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
};

/** Not encapsulated: the latency hook must see every route. */
export const metricsPlugin = fastifyPlugin(metricsRoutes, { name: 'visage-metrics' });

/**
 * CORS, off unless `VISAGE_CORS_ORIGINS` lists the origins (comma-separated, or `*`) whose browser pages
 * may call the API. Without it browsers keep their same-origin rule.
 */
import fastifyCors from '@fastify/cors';
import fp from 'fastify-plugin';

export interface CorsOptions {
  origins: readonly string[];
}

export const cors = fp<CorsOptions>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    await app.register(fastifyCors, {
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'x-api-key'],
      exposedHeaders: ['retry-after'],
      maxAge: 600,
    });
  },
  { name: 'visage-cors' },
);

/**
 * Per-key rate limiting (@fastify/rate-limit): `VISAGE_RATE_LIMIT` requests per minute for each API key,
 * or each client address when access control is off; 0 turns it off. Over the limit → 429 envelope
 * with `Retry-After`. Registered after access control, so the key is known when the limit is counted.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';

export interface RateLimitOptions {
  perMinute: number;
}

export const rateLimit = fp<RateLimitOptions>(
  async (app, { perMinute }) => {
    if (perMinute <= 0) return;
    await app.register(fastifyRateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.keyId}` : `ip:${request.ip}`),
    });
  },
  { name: 'visage-rate-limit', dependencies: ['visage-access-control'] },
);

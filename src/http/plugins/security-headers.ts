/**
 * A few response headers by hand rather than @fastify/helmet, whose default Content-Security-Policy would
 * also fall on HTML pages other modules serve. Every response: no MIME sniffing, no framing, no referrer.
 * API answers (JSON) additionally: never stored by a cache (they carry faces and names) and no active
 * content at all.
 */
import fp from 'fastify-plugin';

const EVERY_RESPONSE: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

const JSON_RESPONSE: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

export const securityHeaders = fp(
  async (app) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(EVERY_RESPONSE);
      if (/^application\/json/.test(String(reply.getHeader('content-type') ?? ''))) reply.headers(JSON_RESPONSE);
      return payload;
    });
  },
  { name: 'visage-security-headers' },
);

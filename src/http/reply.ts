/** Sending a failure envelope, from hooks and handlers alike. */
import type { FastifyReply } from 'fastify';
import type { FailureResponse } from './envelope.js';

/**
 * Seconds a shed client is told to wait (RFC 9110 Retry-After): a full queue takes about that long to drain on
 * two workers (64 analyses of 30–100 ms each, two at a time), so retrying sooner would only be shed again.
 * It also bounds how often a client that ignores it makes the server drain a refused body (overload-guard.ts
 * holds the connection up to that long, then reads and drops the rest of the refused body): at 1 s, with 200
 * connections sending 4096×2160 photos, the collections of those dropped buffers stalled the loop 21–39 ms in 6
 * of 7 runs at 1 M faces, from the moment the first holds ended; at 2 s in none after the opening burst
 * (README, "ninth pass").
 */
export const RETRY_AFTER_SECONDS = 2;

export function sendFailure(reply: FastifyReply, failure: FailureResponse): FastifyReply {
  if (failure.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(failure.status).type('application/json; charset=utf-8').send(failure.body);
}

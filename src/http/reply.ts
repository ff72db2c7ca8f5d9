/** Sending a failure envelope, from hooks and handlers alike. */
import type { FastifyReply } from 'fastify';
import type { FailureResponse } from './envelope.js';

/**
 * Seconds a shed client is told to wait (RFC 9110 Retry-After): a full queue drains in about a second on two
 * workers (64 analyses of 30–100 ms each, two at a time), so retrying sooner would only be shed again.
 */
export const RETRY_AFTER_SECONDS = 1;

export function sendFailure(reply: FastifyReply, failure: FailureResponse): FastifyReply {
  if (failure.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(failure.status).type('application/json; charset=utf-8').send(failure.body);
}

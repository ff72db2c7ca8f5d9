/**
 * Load shedding for the routes that run the vision pipeline: past `maxPending` of them in flight, a request
 * is answered `503 OVERLOADED` with `Retry-After` before its body is read, and its connection is then not
 * read again for about that long (`holdConnection`).
 *
 * Why hold the connection: a refused body still has to come off the connection before the next request on
 * it can be read. Node reads it and drops it, so that a client that sends its whole body before reading gets
 * its answer instead of a reset. A client that ignores Retry-After and sends again at once therefore made
 * the server read, and refuse, body after body. Under `bench:http`'s overload case (200 connections sending
 * 1080p photos), that was about 1 GB/s of bodies through the loop, and the garbage collections those buffers
 * caused stalled it. Holding the connection turns Retry-After into TCP backpressure for the clients that
 * ignore it. A client that honours it is not delayed: the hold ends within Retry-After.
 */
import { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { transportFailure } from './envelope.js';
import { RETRY_AFTER_SECONDS, sendFailure } from './reply.js';

/** The routes that run the vision pipeline: the ones worth shedding under load. */
const ANALYSIS_ROUTES = new Set(['POST /api/faces', 'POST /api/face/compare', 'POST /api/face/search', 'POST /api/face/detect']);

/** Longest hold of a refused request's connection: the Retry-After the answer gives. */
export const DEFAULT_REFUSAL_HOLD_MS = RETRY_AFTER_SECONDS * 1000;

/**
 * The fields of Node's HTTP server socket `holdConnection` uses. `_paused` is the flag of the server's own
 * backpressure (it pauses a connection whose answers are not being read): while it is set, Node does not
 * resume the socket, not even to drain a refused body, which a plain `socket.pause()` would not survive.
 */
interface ServerSocket extends Socket {
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

export function installOverloadGuard(app: FastifyInstance, maxPending: number, holdMs = DEFAULT_REFUSAL_HOLD_MS): void {
  let pending = 0;
  const counted = new WeakSet<object>();
  const release = (request: object) => {
    if (counted.delete(request)) pending -= 1;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (!ANALYSIS_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    if (pending >= maxPending) {
      holdConnection(request.raw, reply.raw, holdMs);
      return sendFailure(reply, transportFailure('OVERLOADED'));
    }
    pending += 1;
    counted.add(request);
  });
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));
}

/**
 * Once the refusal is sent, stops reading its connection for between half of `maxMs` and all of it (spread,
 * so that connections refused together do not all come back together), then reads on: the rest of the
 * refused body, then the next request. Nothing is dropped and nothing is reset. A connection without a real
 * socket (an injected request) is left alone.
 */
export function holdConnection(request: IncomingMessage, response: ServerResponse, maxMs: number): void {
  const socket = request.socket as ServerSocket | null;
  if (!(socket instanceof Socket) || maxMs <= 0) return;
  // After Node's own 'finish' handler, which starts draining the refused body.
  response.once('finish', () => {
    if (socket.destroyed || socket._paused) return;
    socket._paused = true;
    socket.pause();
    socket.parser?.pause();
    const timer = setTimeout(() => {
      socket.off('close', cancel);
      if (socket.destroyed || !socket._paused) return;
      socket._paused = false;
      socket.parser?.resume();
      socket.resume();
    }, maxMs * (0.5 + Math.random() / 2));
    const cancel = () => clearTimeout(timer);
    socket.once('close', cancel);
  });
}

/**
 * Load shedding for the routes that run the vision pipeline: past `maxPending` of them in flight, or past
 * `maxPendingBytes` of their bodies, a request is answered `503 OVERLOADED` with `Retry-After` before its body
 * is read, and its connection is then not read again for about that long (`holdConnection`).
 *
 * Why a byte budget beside the count: each admitted request may hold a body of up to the body limit (12 MB)
 * while it waits for a worker, so 64 of them could hold ~770 MB, on top of a million faces' index. Counted by
 * `Content-Length` (the body limit when a request declares none), the budget bounds what the queue holds
 * whatever the photos weigh; a request is still admitted alone, whatever its size, when nothing is pending.
 *
 * Why hold the connection: a refused body still has to come off the connection before the next request on
 * it can be read. Node reads it and drops it, so that a client that sends its whole body before reading gets
 * its answer instead of a reset. A client that ignores Retry-After and sends again at once therefore made
 * the server read, and refuse, body after body. Under `bench:http`'s overload case (200 connections sending
 * 1080p photos), that was about 1 GB/s of bodies through the loop, and the garbage collections those buffers
 * caused stalled it. Holding the connection turns Retry-After into TCP backpressure for the clients that
 * ignore it. A client that honours it is not delayed: the hold ends within Retry-After.
 *
 * Why let at most STARTS_PER_TURN of these requests go on an event-loop turn, admitted or refused: one turn
 * serves every request that has arrived, and under the same flood one turn took up to ~80 refusals (~0.25 ms
 * each through Fastify, ~20 ms in all) or, once refusals were paced, ~50–60 admissions (the start of their
 * body reads included, 26–33 ms). Admission or refusal is decided on arrival, in order; the rest of the
 * request's way (its answer, or its body read) waits for a later turn when this one has let its share go on.
 */
import { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { transportFailure } from './envelope.js';
import { RETRY_AFTER_SECONDS, sendFailure } from './reply.js';
import { TurnBudget } from './turn-budget.js';

/** The routes that run the vision pipeline: the ones worth shedding under load. */
const ANALYSIS_ROUTES = new Set(['POST /api/faces', 'POST /api/face/compare', 'POST /api/face/search', 'POST /api/face/detect']);

/** Analysis requests that go on per event-loop turn; the rest go on in the turns after. */
const STARTS_PER_TURN = 8;

/** Longest hold of a refused request's connection: the Retry-After the answer gives. */
const DEFAULT_REFUSAL_HOLD_MS = RETRY_AFTER_SECONDS * 1000;

/**
 * The fields of Node's HTTP server socket `holdConnection` uses. `_paused` is the flag of the server's own
 * backpressure (it pauses a connection whose answers are not being read): while it is set, Node does not
 * resume the socket, not even to drain a refused body, which a plain `socket.pause()` would not survive.
 */
interface ServerSocket extends Socket {
  _paused?: boolean;
  parser?: { pause(): void; resume(): void } | null;
}

export interface OverloadLimits {
  /** Analysis requests admitted and not yet answered. */
  maxPending: number;
  /** Their bodies' bytes, by Content-Length. */
  maxPendingBytes: number;
  /** The largest body a request may send (what one without Content-Length is counted as). */
  bodyLimit: number;
  /** Longest hold of a refused request's connection (default: Retry-After). */
  holdMs?: number;
}

export function installOverloadGuard(app: FastifyInstance, limits: OverloadLimits): void {
  const { maxPending, maxPendingBytes, bodyLimit, holdMs = DEFAULT_REFUSAL_HOLD_MS } = limits;
  let pending = 0;
  let pendingBytes = 0;
  const counted = new WeakMap<object, number>();
  const starts = new TurnBudget(STARTS_PER_TURN, STARTS_PER_TURN);
  const release = (request: object) => {
    const bytes = counted.get(request);
    if (bytes === undefined) return;
    counted.delete(request);
    pending -= 1;
    pendingBytes -= bytes;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (!ANALYSIS_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    const declared = Number(request.headers['content-length']);
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, bodyLimit) : bodyLimit;
    const refused = pending >= maxPending || (pending > 0 && pendingBytes + bytes > maxPendingBytes);
    if (!refused) {
      pending += 1;
      pendingBytes += bytes;
      counted.set(request, bytes);
    }
    while (!starts.hasRoom) await new Promise<void>((goOn) => starts.later(goOn));
    starts.spend(1);
    if (!refused) return;
    holdConnection(request.raw, reply.raw, holdMs);
    return sendFailure(reply, transportFailure('OVERLOADED'));
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
function holdConnection(request: IncomingMessage, response: ServerResponse, maxMs: number): void {
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

/**
 * The HTTP server: lenient JSON body reading, the three api.md sections, and one error path that
 * always answers with the envelope (never Fastify's default error JSON, an HTML page or a stack).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { FaceLibrary, GroupLibrary } from '../library/types.js';
import type { Recognition } from '../recognition/types.js';
import { failureFor, transportFailure, type FailureResponse } from './envelope.js';
import { faceRoutes } from './routes/faces.js';
import { groupRoutes } from './routes/groups.js';
import { recognitionRoutes } from './routes/recognition.js';
import { MALFORMED_BODY } from './schemas.js';

/** Two 4 MB images in base64 (2 × 5.6 MB) plus the rest of the JSON. */
export const DEFAULT_BODY_LIMIT = 12 * 1024 * 1024;
/** Image-analysing requests allowed in flight before new ones get 503 (each may hold a 12 MB body). */
export const DEFAULT_MAX_PENDING_ANALYSES = 64;

export interface ServerDependencies {
  faces: FaceLibrary;
  groups: GroupLibrary;
  recognition: Recognition;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  maxPendingAnalyses?: number;
}

/** The routes that run the vision pipeline: the ones worth shedding under load. */
const ANALYSIS_ROUTES = new Set(['POST /api/faces', 'POST /api/face/compare', 'POST /api/face/search']);

/**
 * The parsed JSON; undefined for an empty body (routes that need one then name the first missing
 * field); MALFORMED_BODY for anything else, which only routes that read a body refuse.
 */
function parseJsonLeniently(text: string): unknown {
  const json = text.replace(/^\uFEFF/, '');
  if (json.trim() === '') return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return MALFORMED_BODY;
  }
}

function sendFailure(reply: FastifyReply, failure: FailureResponse): FastifyReply {
  return reply.code(failure.status).type('application/json; charset=utf-8').send(failure.body);
}

/** Answers 503 instead of reading yet another body when too many analyses are already waiting. */
function installOverloadGuard(app: FastifyInstance, maxPending: number): void {
  let pending = 0;
  const counted = new WeakSet<object>();
  const release = (request: object) => {
    if (counted.delete(request)) pending -= 1;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (!ANALYSIS_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return;
    if (pending >= maxPending) return sendFailure(reply, transportFailure('OVERLOADED'));
    pending += 1;
    counted.add(request);
  });
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));
}

export function buildServer(dependencies: ServerDependencies): FastifyInstance {
  const app = Fastify({
    logger: dependencies.logger ?? false,
    bodyLimit: dependencies.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // Errors raised before routing (a URL with a broken %-escape) bypass setErrorHandler.
    frameworkErrors: (error, _request, reply) => sendFailure(reply, failureFor(error)),
  });

  // The API speaks JSON only. Old clients send it as text/plain, without a content type, or with a
  // malformed one; dropping the header makes every body go through the one JSON parser below, and
  // lets body-less DELETEs through whatever they declare.
  app.addHook('onRequest', async (request) => {
    delete request.raw.headers['content-type'];
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseJsonLeniently(typeof body === 'string' ? body : body.toString('utf8')));
  });

  installOverloadGuard(app, dependencies.maxPendingAnalyses ?? DEFAULT_MAX_PENDING_ANALYSES);

  app.setErrorHandler((error, request, reply) => {
    const failure = failureFor(error);
    if (failure.unexpected) request.log.error({ err: error }, 'request failed unexpectedly');
    return sendFailure(reply, failure);
  });
  app.setNotFoundHandler((_request, reply) => sendFailure(reply, transportFailure('NOT_FOUND')));

  app.register(faceRoutes, { faces: dependencies.faces });
  app.register(groupRoutes, { groups: dependencies.groups });
  app.register(recognitionRoutes, { recognition: dependencies.recognition });
  return app;
}

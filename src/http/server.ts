/**
 * The HTTP server: lenient JSON body reading, the three api.md sections, and one error path that
 * always answers with the envelope (never Fastify's default error JSON, an HTML page or a stack).
 */
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FaceLibrary, GroupLibrary } from '../library/types.js';
import type { Recognition } from '../recognition/types.js';
import type { ApiKeys } from '../access/api-keys.js';
import type { SecurityOptions } from '../config.js';
import type { AuditLog } from '../library/audit-log.js';
import type { Metrics } from '../metrics.js';
import type { ReadinessProbe } from '../readiness.js';
import { failureFor, transportFailure } from './envelope.js';
import { installOverloadGuard } from './overload-guard.js';
import { accessControl } from './plugins/access-control.js';
import { auditTrail } from './plugins/audit-trail.js';
import { healthPlugin } from './plugins/health.js';
import { metricsPlugin } from './plugins/metrics.js';
import { openApiPlugin } from './plugins/openapi.js';
import { requestId, requestIdPlugin } from './plugins/request-id.js';
import { cors } from './plugins/cors.js';
import { rateLimit } from './plugins/rate-limit.js';
import { securityHeaders } from './plugins/security-headers.js';
import { sendFailure } from './reply.js';
import { parseJsonBody, type ParsedJson } from './body-parse.js';
import { BodyThread } from './body-thread.js';
import { ReadPacer } from './read-pacing.js';
import { auditRoutes } from './routes/audit.js';
import { consolePlugin } from './plugins/console.js';
import { detectRoutes } from './routes/detect.js';
import { faceRoutes } from './routes/faces.js';
import { groupRoutes } from './routes/groups.js';
import { recognitionRoutes } from './routes/recognition.js';
import { MALFORMED_BODY } from './schemas.js';

/** Two 4 MB images in base64 (2 × 5.6 MB) plus the rest of the JSON. */
export const DEFAULT_BODY_LIMIT = 12 * 1024 * 1024;
/**
 * An over-limit body is still read (and dropped) up to this size before the 413 goes out: a client that is
 * still sending when the server closes gets a broken pipe instead of the envelope. Beyond it, we hang up.
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;
/** Longest path parameter the router matches; a longer id is answered by its route (not-exist), not a 500. */
const MAX_PARAM_LENGTH = 16 * 1024;
/** Bodies from this size on (a photo) are parsed, and their images decoded, in the body thread (body-thread.ts). */
const LARGE_BODY = 64 * 1024;
/** Image-analysing requests allowed in flight before new ones get 503 (each may hold a 12 MB body). */
export const DEFAULT_MAX_PENDING_ANALYSES = 64;
/** Their bodies' bytes before new ones get 503: what the queue may hold whatever the photos weigh. */
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

export interface ServerDependencies {
  faces: FaceLibrary;
  groups: GroupLibrary;
  recognition: Recognition;
  /** Required when `security.auth` is on. */
  keys?: ApiKeys;
  /** Without it, destructive requests are not audited (tests of the HTTP edge alone). */
  audit?: AuditLog;
  /** Default: everything off, like the original device. */
  security?: SecurityOptions;
  /** Without it, no /metrics (tests of the HTTP edge alone). */
  metrics?: Metrics;
  /** Without it, no /healthz and /readyz. */
  readiness?: ReadinessProbe;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  maxPendingAnalyses?: number;
  /** Bytes of the bodies of those requests (by Content-Length) before new ones get 503 (overload-guard.ts). */
  maxPendingBytes?: number;
}

class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
}

/**
 * Reads the whole body, paced (read-pacing.ts); over `limit` it drains the rest (up to DRAIN_LIMIT) and then
 * refuses it.
 */
function readBody(stream: Readable, limit: number, pacer: ReadPacer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      pacer.chunkRead(stream, chunk.length);
      if (size <= limit) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) stream.emit('error', new BodyTooLargeError());
      else chunks.length = 0;
    });
    stream.on('end', () => (size > limit ? reject(new BodyTooLargeError()) : resolve(chunks)));
    stream.on('error', reject);
  });
}

export function buildServer(dependencies: ServerDependencies): FastifyInstance {
  const bodyLimit = dependencies.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    logger: dependencies.logger ?? false,
    genReqId: requestId,
    // The id goes with every log line of the request; the default label (`reqId`) is kept.
    // The body reader below enforces bodyLimit itself, so that it can drain before answering 413.
    bodyLimit: DRAIN_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: MAX_PARAM_LENGTH },
    // Errors raised before routing (a URL with a broken %-escape) bypass setErrorHandler.
    frameworkErrors: (error, request, reply) => {
      const failure = failureFor(error);
      if (failure.unexpected) request.log.error({ err: error }, 'request failed before routing');
      return sendFailure(reply, failure);
    },
  });

  // The API speaks JSON only. Old clients send it as text/plain, without a content type, or with a
  // malformed one; dropping the header makes every body go through the one JSON parser below, and
  // lets body-less DELETEs through whatever they declare.
  app.addHook('onRequest', async (request) => {
    delete request.raw.headers['content-type'];
  });
  app.removeAllContentTypeParsers();
  const largeBodies = new BodyThread();
  const pacer = new ReadPacer();
  app.addHook('onClose', () => largeBodies.close());
  // The parsed JSON; undefined for an empty body (routes that need one then name the first missing field);
  // MALFORMED_BODY for anything else, which only routes that read a body refuse.
  const toBody = (parsed: ParsedJson) => (parsed.ok ? parsed.value : MALFORMED_BODY);
  app.addContentTypeParser('*', (_request, payload, done) => {
    readBody(payload, bodyLimit, pacer)
      .then((chunks) => {
        const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        return size < LARGE_BODY ? toBody(parseJsonBody(Buffer.concat(chunks, size))) : largeBodies.parse(chunks).then(toBody);
      })
      .then(
        (body) => done(null, body),
        (error: Error) => done(error, undefined),
      );
  });

  installOverloadGuard(app, {
    maxPending: dependencies.maxPendingAnalyses ?? DEFAULT_MAX_PENDING_ANALYSES,
    maxPendingBytes: dependencies.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    bodyLimit,
  });

  app.setErrorHandler((error, request, reply) => {
    const failure = failureFor(error);
    if (failure.unexpected) request.log.error({ err: error }, 'request failed unexpectedly');
    return sendFailure(reply, failure);
  });
  app.setNotFoundHandler((_request, reply) => sendFailure(reply, transportFailure('NOT_FOUND')));

  const { keys, audit, security = { auth: false, rateLimitPerMinute: 0, corsOrigins: [] } } = dependencies;
  if (security.auth && keys === undefined) throw new Error('access control is on but no key store was given');
  // First: every answer carries its request id; the route watch of the API docs sees every later route; a
  // draining server refuses new requests before anything else looks at them.
  app.register(requestIdPlugin);
  app.register(openApiPlugin);
  if (dependencies.readiness) app.register(healthPlugin, { readiness: dependencies.readiness });
  app.register(securityHeaders);
  app.register(cors, { origins: security.corsOrigins });
  app.register(accessControl, { keys: security.auth ? keys : undefined });
  app.register(rateLimit, { perMinute: security.rateLimitPerMinute });
  if (audit) app.register(auditTrail, { audit });

  if (dependencies.metrics) app.register(metricsPlugin, { metrics: dependencies.metrics });
  app.register(faceRoutes, { faces: dependencies.faces });
  app.register(groupRoutes, { groups: dependencies.groups });
  app.register(recognitionRoutes, { recognition: dependencies.recognition });
  if (audit) app.register(auditRoutes, { audit });
  app.register(detectRoutes, { recognition: dependencies.recognition });
  app.register(consolePlugin);
  return app;
}

/**
 * The `{code, msg, data}` envelope of every response, and the mapping of every failure onto it.
 *
 * Business errors (VisageError) are HTTP 400 with their api.md code. Failures api.md gives only an
 * HTTP status for carry that status as their code too, so a client can switch on `code` alone:
 *
 * | HTTP | code   | msg                    | when                                                  |
 * |------|--------|------------------------|-------------------------------------------------------|
 * | 400  | 100001 | INVALID_PARAM:body     | body is not JSON, or not a JSON object                |
 * | 400  | 100001 | INVALID_PARAM:url      | the URL cannot be decoded (bad %-escape)              |
 * | 401  | 401    | UNAUTHORIZED           | access control on; no key, or an unknown/revoked one   |
 * | 403  | 403    | FORBIDDEN              | the key lacks the route's scope                       |
 * | 404  | 404    | NOT_FOUND              | no such route (method + path)                         |
 * | 413  | 413    | BODY_TOO_LARGE         | body over the server's limit                          |
 * | 429  | 429    | TOO_MANY_REQUESTS      | over the per-key rate limit (Retry-After says when)   |
 * | 500  | 500    | INTERNAL_ERROR         | a bug; logged with its stack, which never leaves here |
 * | 503  | 503    | OVERLOADED             | too many requests waiting for the inference workers   |
 * | 503  | 503    | NOT_READY              | /readyz failing, or the server is shutting down        |
 */
import { VisageError, invalidParam } from '../errors.js';

export interface Envelope<Data extends object = object> {
  code: number;
  msg: string;
  data: Data;
}

export const SUCCESS_CODE = 0;
export const SUCCESS_MSG = 'SUCCESS';

export const TransportFailure = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
  OVERLOADED: 503,
  NOT_READY: 503,
} as const;
export type TransportFailureName = keyof typeof TransportFailure;

export function success<Data extends object>(data: Data): Envelope<Data> {
  return { code: SUCCESS_CODE, msg: SUCCESS_MSG, data };
}

/** The `data: {}` of responses that carry nothing. */
export function emptySuccess(): Envelope<Record<string, never>> {
  return success({});
}

/** An HTTP status with the envelope to send, and whether the cause is a bug worth logging. */
export interface FailureResponse {
  status: number;
  body: Envelope<Record<string, unknown>>;
  unexpected: boolean;
}

export function transportFailure(name: TransportFailureName, data: Record<string, unknown> = {}): FailureResponse {
  const status = TransportFailure[name];
  return { status, body: { code: status, msg: name, data }, unexpected: name === 'INTERNAL_ERROR' };
}

function businessFailure(error: VisageError): FailureResponse {
  return { status: 400, body: { code: error.code, msg: error.message, data: error.data }, unexpected: false };
}

/** The Fastify/Node/piscina error fields we look at; everything else about the error stays private. */
interface ErrorTraits {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/** Fastify's body-reading errors that mean "the client sent something that is not a JSON body". */
const BAD_BODY_CODES = new Set([
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'FST_ERR_CTP_INVALID_JSON_BODY',
]);

/** piscina's message when its task queue is full (maxQueue): the pool is saturated. */
const QUEUE_FULL_MESSAGE = 'Task queue is at limit';

/** Maps anything thrown while handling a request to the response the client gets. */
export function failureFor(error: unknown): FailureResponse {
  if (error instanceof VisageError) return businessFailure(error);
  if (typeof error !== 'object' || error === null) return transportFailure('INTERNAL_ERROR');

  const { code, statusCode, message } = error as ErrorTraits;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) return transportFailure('BODY_TOO_LARGE');
  if (typeof code === 'string' && BAD_BODY_CODES.has(code)) return businessFailure(invalidParam('body'));
  if (error instanceof SyntaxError && statusCode === 400) return businessFailure(invalidParam('body'));
  if (code === 'FST_ERR_BAD_URL') return businessFailure(invalidParam('url'));
  if (statusCode === 429) return transportFailure('TOO_MANY_REQUESTS');
  if (statusCode === 503 || message === QUEUE_FULL_MESSAGE) return transportFailure('OVERLOADED');
  return transportFailure('INTERNAL_ERROR');
}

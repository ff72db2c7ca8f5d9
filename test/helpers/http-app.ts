/**
 * The real application (models, SQLite store in a temp dir, worker pool) behind Fastify's inject,
 * one per test file because loading the models takes seconds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type VisageApp } from '../../src/app.js';
import { loadConfig, type VisageConfig } from '../../src/config.js';
import type { Envelope } from '../../src/http/envelope.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface ApiReply<Data extends object = Record<string, unknown>> {
  status: number;
  body: Envelope<Data>;
  headers: Record<string, unknown>;
}

export interface RawRequest {
  /** Sent as is (no JSON encoding). */
  payload?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: VisageApp;
  config: VisageConfig;
  /** JSON request: `body` is JSON-encoded and sent as application/json. */
  call<Data extends object = Record<string, unknown>>(method: HttpMethod, url: string, body?: unknown): Promise<ApiReply<Data>>;
  /** Request with a hand-made payload and headers. */
  raw<Data extends object = Record<string, unknown>>(method: HttpMethod, url: string, request: RawRequest): Promise<ApiReply<Data>>;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Partial<VisageConfig> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'visage-http-'));
  const config: VisageConfig = { ...loadConfig({}), dataDir, logLevel: 'silent', ...overrides };
  const app = await createApp(config);

  const raw = async <Data extends object>(method: HttpMethod, url: string, request: RawRequest): Promise<ApiReply<Data>> => {
    const response = await app.server.inject({
      method,
      url,
      ...(request.payload === undefined ? {} : { payload: request.payload }),
      headers: request.headers ?? {},
    });
    assert.match(String(response.headers['content-type']), /^application\/json/, `${method} ${url} did not answer JSON`);
    return { status: response.statusCode, body: response.json<Envelope<Data>>(), headers: response.headers };
  };

  return {
    app,
    config,
    raw,
    call: (method, url, body) =>
      raw(method, url, body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asserts a success envelope and returns its data. */
export function expectSuccess<Data extends object>(reply: ApiReply<Data>): Data {
  assert.deepEqual(
    { status: reply.status, code: reply.body.code, msg: reply.body.msg },
    { status: 200, code: 0, msg: 'SUCCESS' },
    `expected success, got ${JSON.stringify(reply.body).slice(0, 300)}`,
  );
  return reply.body.data;
}

/** Asserts a business error: HTTP 400, the api.md code, the exact message (or a pattern). */
export function expectError(reply: ApiReply<object>, code: number, msg: string | RegExp): void {
  assert.equal(reply.status, 400, `expected HTTP 400, got ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
  assert.equal(reply.body.code, code, `expected code ${code}, got ${JSON.stringify(reply.body).slice(0, 300)}`);
  if (typeof msg === 'string') assert.equal(reply.body.msg, msg);
  else assert.match(reply.body.msg, msg);
  assert.equal(typeof reply.body.data, 'object');
}

/** The error codes of api.md, written out rather than imported so a wrong constant in src/errors.ts fails. */
export const Code = {
  INVALID_PARAM: 100001,
  FACE_NOT_FOUND: 104200,
  BAD_QUALITY: 104201,
  IMAGE_INVALID: 104202,
  FACE_ALREADY_EXIST: 104204,
  FACE_TOKEN_NOT_EXIST: 104205,
  IMAGE_ID_NOT_EXIST: 104206,
  GROUP_NAME_CONFLICT: 104300,
  GROUP_OVER_LIMIT: 104302,
  GROUP_BEUSED: 104304,
  GROUP_ID_CONFLICT: 104310,
  GROUP_ID_NOT_EXIST: 104311,
} as const;

/** A row of 2.4 (a group's faces), as api.md writes it out; 1.2 rows add the numeric `id`. */
export interface ListedFace {
  imageId: string;
  imgId: string;
  imgeld: string;
  faceToken: string;
  description: string;
  name: string;
  gender: string;
}

/** The `{totalFaces, face}` page of 1.2 and 2.4. */
export interface FacePage<Row extends ListedFace = ListedFace> {
  totalFaces: number;
  face: Row[];
}

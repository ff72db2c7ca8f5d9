/**
 * The envelope for everything that is not a success: every api.md business code through HTTP, and
 * the statuses api.md fixes without a code (404, 413, 500, 503), body leniency and malformed input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { z } from 'zod';
import { failureFor } from '../src/http/envelope.js';
import { requestSchemas } from '../src/http/schemas.js';
import { buildServer } from '../src/http/server.js';
import type { FaceLibrary, GroupLibrary } from '../src/library/types.js';
import type { Recognition } from '../src/recognition/types.js';
import { Code, expectError, expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, gradientImage, samplePhoto } from './helpers/images.js';

const BODY_LIMIT = 12 * 1024 * 1024;

describe('errors and the envelope', () => {
  let api: TestApp;
  before(async () => {
    // A small group limit to reach 104302 quickly; one analysis at a time to provoke 503.
    api = await startTestApp({ groupLimit: 3, maxPendingAnalyses: 1 });
  });
  after(async () => {
    await api.close();
  });

  it('answers every business code of api.md with HTTP 400 and its message', async () => {
    const photo = dataUrl(samplePhoto(5));
    const registered = expectSuccess(await api.call<{ faceToken: string }>('POST', '/api/faces', { image: photo }));
    const blurred = dataUrl(await sharp(samplePhoto(5)).blur(8).jpeg().toBuffer());
    const noFace = dataUrl(await gradientImage(300, 300, 'jpeg'));
    expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'g1', groupName: 'one' }));

    // Requests start one at a time: this app analyses one image at a time.
    const table: Array<[() => Promise<Parameters<typeof expectError>[0]>, number, string | RegExp]> = [
      [() => api.call('POST', '/api/faces', { image: noFace }), Code.FACE_NOT_FOUND, 'FACE_NOT_FOUND'],
      [() => api.call('POST', '/api/faces', { image: blurred }), Code.BAD_QUALITY, /^BAD_QUALITY:([A-Z]+,)*[A-Z]+$/],
      [() => api.call('POST', '/api/faces', { image: '!!' }), Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64'],
      [() => api.call('POST', '/api/faces', { image: photo }), Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST'],
      [() => api.call('GET', '/api/faces/faceToken/nothing'), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST'],
      [() => api.call('GET', '/api/faces/image/nothing'), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST'],
      [() => api.call('POST', '/api/faceGroups', { groupId: 'g2', groupName: 'one' }), Code.GROUP_NAME_CONFLICT, 'GROUP_NAME_CONFLICT'],
      [() => api.call('POST', '/api/faceGroups', { groupId: 'g1', groupName: 'uno' }), Code.GROUP_ID_CONFLICT, 'GROUP_ID_CONFLICT'],
      [() => api.call('DELETE', '/api/faceGroups/default', { deleteAllFace: 1 }), Code.GROUP_BEUSED, 'GROUP_BEUSED'],
      [() => api.call('GET', '/api/faceGroups/g9'), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST'],
      [() => api.call('POST', `/api/faceGroups/binding/${registered.faceToken}`, { faceGroupList: [] }), Code.INVALID_PARAM, 'INVALID_PARAM:faceGroupList'],
    ];
    for (const [request, code, msg] of table) expectError(await request(), code, msg);

    // The limit (3 here, `default` included) is checked once the group is otherwise valid.
    expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'g2', groupName: 'two' }));
    expectError(await api.call('POST', '/api/faceGroups', { groupId: 'g3', groupName: 'three' }), Code.GROUP_OVER_LIMIT, 'GROUP_OVER_LIMIT');
  });

  it('answers unknown routes and methods with a 404 envelope', async () => {
    for (const [method, url] of [
      // `/` is the console; its asset paths are the only other static ones.
      ['GET', '/console/missing.js'],
      ['GET', '/index.html'],
      ['GET', '/api/nothing'],
      ['PATCH', '/api/faces'],
      ['POST', '/api/faces/facesLib'],
      ['GET', '/api/face/search'],
    ] as const) {
      const reply = await api.call(method, url);
      assert.equal(reply.status, 404, `${method} ${url}`);
      assert.deepEqual(reply.body, { code: 404, msg: 'NOT_FOUND', data: {} });
    }
  });

  it('answers a body over the limit with a 413 envelope, and fits two 4 MB images under it', async () => {
    const tooBig = await api.raw('POST', '/api/face/compare', {
      payload: JSON.stringify({ image1: 'A'.repeat(BODY_LIMIT), image2: '' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(tooBig.status, 413);
    assert.deepEqual(tooBig.body, { code: 413, msg: 'BODY_TOO_LARGE', data: {} });

    // Two images just over 4 MB decoded still reach validation (and fail there, not at the limit).
    const justOver = Buffer.alloc(4 * 1024 * 1024 + 1, 1).toString('base64');
    const twoImages = await api.call('POST', '/api/face/compare', { image1: justOver, image2: justOver });
    expectError(twoImages, Code.IMAGE_INVALID, 'IMAGE_INVALID:TOO_LARGE');
  });

  it('answers path ids of any length with the not-exist code, never a 500', async () => {
    for (const length of [33, 101, 5000]) {
      const id = 'x'.repeat(length);
      expectError(await api.call('GET', `/api/faces/faceToken/${id}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('GET', `/api/faces/image/${id}`), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
      expectError(await api.call('GET', `/api/faceGroups/${id}`), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
    }
  });

  it('answers a body that is not a JSON object with INVALID_PARAM:body', async () => {
    const bodies: Array<[string, string]> = [
      ['{"groupId": "x", ', 'application/json'],
      ['[1, 2]', 'application/json'],
      ['"text"', 'application/json'],
      ['null', 'application/json'],
      ['42', 'text/plain'],
      ['groupId=x&groupName=y', 'application/x-www-form-urlencoded'],
      ['--boundary\r\n', 'multipart/form-data; boundary=boundary'],
    ];
    for (const [payload, contentType] of bodies) {
      const reply = await api.raw('POST', '/api/faceGroups', { payload, headers: { 'content-type': contentType } });
      expectError(reply, Code.INVALID_PARAM, 'INVALID_PARAM:body');
    }
  });

  it('reads JSON whatever the content type says (text/plain, none, malformed), with a BOM too', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['lenient-1', { 'content-type': 'text/plain' }],
      ['lenient-2', {}],
      ['lenient-3', { 'content-type': 'nonsense' }],
      ['lenient-4', { 'content-type': 'application/json; charset=utf-8' }],
    ];
    expectSuccess(await api.call('DELETE', '/api/faceGroups/g1', { deleteAllFace: 1 }));
    expectSuccess(await api.call('DELETE', '/api/faceGroups/g2', { deleteAllFace: 1 }));
    for (const [groupId, headers] of cases) {
      const payload = `\uFEFF${JSON.stringify({ groupId, groupName: groupId })}`;
      expectSuccess(await api.raw('POST', '/api/faceGroups', { payload, headers }));
      expectSuccess(await api.call('DELETE', `/api/faceGroups/${groupId}`, { deleteAllFace: 1 }));
    }
  });

  it('lets GET and body-less DELETE through with no, empty or odd bodies and any content type', async () => {
    const headerSets: Array<Record<string, string>> = [{}, { 'content-type': 'application/json' }, { 'content-type': 'nonsense' }, { 'content-type': 'text/plain' }];
    for (const headers of headerSets) {
      expectSuccess(await api.raw('GET', '/api/faceGroups', { headers }));
      expectSuccess(await api.raw('GET', '/api/faceGroups', { headers, payload: '' }));
      expectSuccess(await api.raw('DELETE', '/api/faces/facesLib', { headers }));
      expectSuccess(await api.raw('DELETE', '/api/faces/facesLib', { headers, payload: '' }));
      expectSuccess(await api.raw('DELETE', '/api/faces/facesLib', { headers, payload: 'not json' }));
      // A missing resource is reported as such, not as a body problem.
      expectError(await api.raw('DELETE', '/api/faces/unknownToken', { headers, payload: '' }), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    }
  });

  it('answers a URL with a broken %-escape with INVALID_PARAM:url', async () => {
    expectError(await api.call('GET', '/api/faceGroups/%E0%A4%A'), Code.INVALID_PARAM, 'INVALID_PARAM:url');
  });

  it('tolerates a trailing slash', async () => {
    expectSuccess(await api.call('GET', '/api/faceGroups/'));
    expectSuccess(await api.call('GET', '/api/faceGroups/default/?pageSize=5'));
  });

  it('sheds image analyses beyond the configured number in flight with a 503 envelope and Retry-After', async () => {
    const body = { image: dataUrl(samplePhoto(6)), group: ['default'] };
    const replies = await Promise.all([1, 2, 3].map(() => api.call('POST', '/api/face/search', body)));
    const statuses = replies.map((reply) => reply.status);
    assert.equal(statuses[0], 200, JSON.stringify(replies[0]!.body).slice(0, 200));
    assert.ok(statuses.includes(503), `statuses ${statuses.join(',')}`);
    for (const reply of replies.filter((entry) => entry.status === 503)) {
      assert.deepEqual(reply.body, { code: 503, msg: 'OVERLOADED', data: {} });
      assert.equal(reply.headers['retry-after'], '2');
    }
    // Capacity comes back once the first one finished.
    expectSuccess(await api.call('POST', '/api/face/search', body));
  });

  it('serves the same over a real socket', async () => {
    const address = await api.app.server.listen({ port: 0, host: '127.0.0.1' });
    const listed = await fetch(`${address}/api/faceGroups`);
    assert.equal(listed.status, 200);
    assert.match(listed.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await listed.json()) as { code: number }).code, 0);

    const created = await fetch(`${address}/api/faceGroups`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ groupId: 'socket', groupName: 'socket' }),
    });
    assert.deepEqual(await created.json(), { code: 0, msg: 'SUCCESS', data: {} });

    const deleted = await fetch(`${address}/api/faceGroups/socket`, { method: 'DELETE', body: '{"deleteAllFace":1}' });
    assert.deepEqual(await deleted.json(), { code: 0, msg: 'SUCCESS', data: {} });

    const missing = await fetch(`${address}/api/unknown`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { code: 404, msg: 'NOT_FOUND', data: {} });

    const malformed = await fetch(`${address}/api/face/search`, { method: 'POST', body: '{oops' });
    assert.equal(malformed.status, 400);
    assert.deepEqual(await malformed.json(), { code: 100001, msg: 'INVALID_PARAM:body', data: {} });

    // A body over the limit: fetch streams it without waiting for 100-continue, so the server must read it
    // before answering, or the client gets a broken pipe instead of the 413 envelope.
    for (const megabytes of [13, 13, 13, 40]) {
      const tooBig = await fetch(`${address}/api/faces`, { method: 'POST', body: JSON.stringify({ image: 'A'.repeat(megabytes * 1024 * 1024) }) });
      assert.equal(tooBig.status, 413);
      assert.deepEqual(await tooBig.json(), { code: 413, msg: 'BODY_TOO_LARGE', data: {} });
    }
  });
});

describe('unexpected failures', () => {
  const secret = 'SQLITE_CORRUPT at /var/lib/visage/secret.db';
  const explode = async (): Promise<never> => {
    throw new Error(secret);
  };
  const faces: FaceLibrary = {
    register: explode,
    list: explode,
    deleteFace: explode,
    deleteImage: explode,
    getFace: explode,
    getImage: explode,
    wipe: async () => {
      // Not even an Error object.
      throw 'plain string';
    },
  };
  const groups: GroupLibrary = {
    list: explode,
    create: explode,
    update: explode,
    delete: explode,
    members: explode,
    bind: explode,
    unbind: explode,
  };
  const recognition: Recognition = { compare: explode, search: explode, detect: explode };

  it('answers a bug with a generic 500 envelope: no message, no stack', async () => {
    const server = buildServer({ faces, groups, recognition });
    for (const [method, url] of [
      ['GET', '/api/faces'],
      ['GET', '/api/faceGroups'],
      ['DELETE', '/api/faces/facesLib'],
    ] as const) {
      const reply = await server.inject({ method, url });
      assert.equal(reply.statusCode, 500);
      assert.match(String(reply.headers['content-type']), /^application\/json/);
      assert.deepEqual(reply.json(), { code: 500, msg: 'INTERNAL_ERROR', data: {} });
      assert.ok(!reply.body.includes('secret') && !reply.body.includes('plain string'));
    }
    await server.close();
  });

  it('maps a saturated worker pool (piscina queue limit) to 503', () => {
    const failure = failureFor(new Error('Task queue is at limit'));
    assert.equal(failure.status, 503);
    assert.deepEqual(failure.body, { code: 503, msg: 'OVERLOADED', data: {} });
  });
});

describe('request schemas', () => {
  it('describe every endpoint as JSON Schema (for generated API docs)', () => {
    for (const [endpoint, parts] of Object.entries(requestSchemas)) {
      for (const [part, schema] of Object.entries(parts)) {
        const jsonSchema = z.toJSONSchema(schema, { io: 'input' });
        assert.equal(jsonSchema.type, 'object', `${endpoint} ${part}`);
      }
    }
  });
});

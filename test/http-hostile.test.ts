/**
 * Hostile input: malformed, oversized, mistyped and mislabelled requests against the real app holding a
 * library. Every one must get the envelope with a 4xx status (never a 5xx, never a hang), and the data
 * directory must be byte-for-byte what it was before (test/http-errors.test.ts covers the basic cases of
 * each error code; this file adds the hostile ones). Then generated requests (fast-check) on every route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { requestSchemas } from '../src/http/schemas.js';
import { expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { snapshotDataDir } from './helpers/data-dir.js';
import { bmpWithHeader, icoFile, photoAs, pngBomb, pngOfSize } from './helpers/hostile-images.js';
import { dataUrl, samplePhoto } from './helpers/images.js';
import { anyBody } from './helpers/request-arbitraries.js';

/** The most a hostile request may take before it counts as a hang. */
const ANSWER_WITHIN_MS = 20_000;

interface HostileCase {
  name: string;
  request: InjectOptions;
  /** Expected status and message (exact, or a pattern); the code follows from them. */
  status: number;
  msg: string | RegExp;
}

const json = (method: InjectOptions['method'], url: string, body: unknown): InjectOptions => ({
  method,
  url,
  payload: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/json' },
});
const register = (body: unknown) => json('POST', '/api/faces', body);
const image = (bytes: Uint8Array, mime = 'image/jpeg') => register({ image: dataUrl(bytes, mime) });

const deeplyNested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

async function hostileCases(faceToken: string): Promise<HostileCase[]> {
  const photo = samplePhoto(5);
  const invalid = (reason: string) => `IMAGE_INVALID:${reason}`;
  const jpeg = await photoAs('jpeg');
  return [
    // ---- broken or empty base64 ----
    { name: 'whitespace-only image', request: register({ image: ' \n\t ' }), status: 400, msg: 'INVALID_PARAM:image' },
    { name: 'data URL with nothing after it', request: register({ image: 'data:image/jpeg;base64,' }), status: 400, msg: 'INVALID_PARAM:image' },
    { name: 'data URL without ;base64', request: register({ image: 'data:image/jpeg,/9j/4AAQ' }), status: 400, msg: invalid('NOT_BASE64') },
    { name: 'padding in the middle', request: register({ image: 'QQ==QUJD' }), status: 400, msg: invalid('NOT_BASE64') },
    { name: 'URL-safe alphabet', request: register({ image: '_-_-' }), status: 400, msg: invalid('NOT_BASE64') },
    { name: 'one character too many (length 4n+1)', request: register({ image: 'QUJDR' }), status: 400, msg: invalid('NOT_BASE64') },
    { name: 'NUL inside the base64', request: register({ image: 'QUJD\u0000QUJD' }), status: 400, msg: invalid('NOT_BASE64') },
    { name: 'base64 of plain text', request: register({ image: Buffer.from('hello, this is not an image').toString('base64') }), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    // ---- truncated, corrupt and mislabelled images ----
    { name: 'JPEG cut in half', request: image(photo.subarray(0, photo.length >> 1)), status: 400, msg: /^(IMAGE_INVALID:CORRUPT|FACE_NOT_FOUND)$/ },
    { name: 'JPEG header only', request: image(photo.subarray(0, 300)), status: 400, msg: invalid('CORRUPT') },
    { name: 'JPEG magic and nothing else', request: image(Buffer.from([0xff, 0xd8, 0xff])), status: 400, msg: invalid('CORRUPT') },
    { name: 'PNG signature only', request: image(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'), status: 400, msg: invalid('CORRUPT') },
    { name: 'PNG with its pixel data cut off', request: image((await pngOfSize(300, 300)).subarray(0, 200), 'image/png'), status: 400, msg: invalid('CORRUPT') },
    { name: 'text labelled image/png', request: image(Buffer.from('<html>not a png</html>'), 'image/png'), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    { name: 'SVG labelled image/jpeg', request: image(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500"/>')), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    { name: 'WebP cut short', request: image((await photoAs('webp')).subarray(0, 100), 'image/webp'), status: 400, msg: invalid('CORRUPT') },
    // ---- formats the API does not take ----
    { name: 'GIF', request: image(await photoAs('gif'), 'image/gif'), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    { name: 'TIFF', request: image(await photoAs('tiff'), 'image/tiff'), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    { name: 'ICO', request: image(await icoFile(), 'image/x-icon'), status: 400, msg: invalid('UNSUPPORTED_FORMAT') },
    // ---- sizes ----
    { name: '1×1 PNG', request: image(await pngOfSize(1, 1), 'image/png'), status: 400, msg: invalid('TOO_SMALL') },
    { name: '50×50 PNG', request: image(await pngOfSize(50, 50), 'image/png'), status: 400, msg: invalid('TOO_SMALL') },
    { name: '10000×10000 PNG bomb of a few KB', request: image(pngBomb(), 'image/png'), status: 400, msg: invalid('TOO_BIG_DIMENSIONS') },
    { name: 'BMP whose header claims 10000×10000', request: image(await bmpWithHeader(10_000, 10_000), 'image/bmp'), status: 400, msg: invalid('TOO_BIG_DIMENSIONS') },
    { name: 'BMP whose header claims more rows than it has', request: image(await bmpWithHeader(200, 1500), 'image/bmp'), status: 400, msg: invalid('CORRUPT') },
    { name: 'BMP of width 0', request: image(await bmpWithHeader(0, 150), 'image/bmp'), status: 400, msg: /^IMAGE_INVALID:(CORRUPT|TOO_SMALL)$/ },
    { name: 'compare with one good and one bomb', request: json('POST', '/api/face/compare', { image1: dataUrl(jpeg), image2: dataUrl(pngBomb(), 'image/png') }), status: 400, msg: invalid('TOO_BIG_DIMENSIONS') },
    // ---- bodies ----
    { name: 'body one byte over the limit', request: json('POST', '/api/faceGroups', `{"groupId":"${'x'.repeat(12 * 1024 * 1024 - 13)}"}`), status: 413, msg: 'BODY_TOO_LARGE' },
    { name: 'JSON nested 100000 deep', request: json('POST', '/api/faceGroups', deeplyNested(100_000)), status: 400, msg: 'INVALID_PARAM:body' },
    { name: 'JSON nested 1000 deep in a field', request: json('POST', '/api/faceGroups', `{"groupId":${deeplyNested(1000)},"groupName":"n"}`), status: 400, msg: 'INVALID_PARAM:groupId' },
    { name: 'invalid UTF-8 in a string', request: { method: 'POST', url: '/api/faceGroups', payload: Buffer.concat([Buffer.from('{"groupId":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('","groupName":"u"}')]) }, status: 400, msg: 'INVALID_PARAM:body' },
    { name: 'UTF-16 body', request: { method: 'POST', url: '/api/faceGroups', payload: Buffer.from('{"groupId":"u16","groupName":"u"}', 'utf16le') }, status: 400, msg: 'INVALID_PARAM:body' },
    { name: '__proto__ carrying the required field', request: json('POST', '/api/faceGroups', '{"__proto__":{"groupId":"proto","groupName":"p"}}'), status: 400, msg: 'INVALID_PARAM:groupId' },
    { name: 'constructor.prototype carrying a field', request: json('POST', '/api/faceGroups', '{"constructor":{"prototype":{"groupName":"p"}},"groupId":"ctor"}'), status: 400, msg: 'INVALID_PARAM:groupName' },
    { name: '__proto__ as the binding list', request: json('POST', `/api/faceGroups/binding/${faceToken}`, '{"__proto__":["default"]}'), status: 400, msg: 'INVALID_PARAM:faceGroupList' },
    // ---- wrong JSON types ----
    { name: 'image as a number', request: register({ image: 12345 }), status: 400, msg: 'INVALID_PARAM:image' },
    { name: 'image as an array of strings', request: register({ image: ['/9j/', '4AAQ'] }), status: 400, msg: 'INVALID_PARAM:image' },
    { name: 'name as an object', request: register({ image: 'QUJD', name: { first: 'Ann' } }), status: 400, msg: 'INVALID_PARAM:name' },
    { name: 'group as a string', request: json('POST', '/api/face/search', { image: 'QUJD', group: 'default' }), status: 400, msg: 'INVALID_PARAM:group' },
    { name: 'group list of numbers', request: json('POST', '/api/face/search', { image: 'QUJD', group: [1, 2] }), status: 400, msg: 'INVALID_PARAM:group' },
    { name: 'livenessEnabled as "true"', request: json('POST', '/api/face/compare', { image1: 'QUJD', image2: 'QUJD', livenessEnabled: 'true' }), status: 400, msg: 'INVALID_PARAM:livenessEnabled' },
    { name: 'deleteAllFace as "1"', request: json('DELETE', '/api/faceGroups/default', { deleteAllFace: '1' }), status: 400, msg: 'INVALID_PARAM:deleteAllFace' },
    { name: 'deleteAllFace 5', request: json('DELETE', '/api/faceGroups/default', { deleteAllFace: 5 }), status: 400, msg: 'INVALID_PARAM:deleteAllFace' },
    // ---- byte limits counted in UTF-8 ----
    { name: 'name of 43 CJK characters (129 bytes > 128)', request: register({ image: 'QUJD', name: '张'.repeat(43) }), status: 400, msg: 'INVALID_PARAM:name' },
    { name: 'gender of 5 emoji (20 bytes > 16)', request: register({ image: 'QUJD', gender: '👩'.repeat(5) }), status: 400, msg: 'INVALID_PARAM:gender' },
    { name: 'description of 256 bytes', request: register({ image: 'QUJD', description: 'é'.repeat(128) }), status: 400, msg: 'INVALID_PARAM:description' },
    { name: 'groupId of 9 emoji (36 bytes > 32)', request: json('POST', '/api/faceGroups', { groupId: '😀'.repeat(9), groupName: 'e' }), status: 400, msg: 'INVALID_PARAM:groupId' },
    { name: 'groupName of 129 bytes', request: json('PUT', '/api/faceGroups', { groupId: 'default', groupName: `${'a'.repeat(127)}é` }), status: 400, msg: 'INVALID_PARAM:groupName' },
    // ---- identifiers ----
    { name: 'imageMd5 with ../', request: register({ image: 'QUJD', imageMd5: '../../etc/passwd' }), status: 400, msg: 'INVALID_PARAM:imageMd5' },
    { name: 'groupId with NUL', request: json('POST', '/api/faceGroups', { groupId: 'a\u0000b', groupName: 'nul' }), status: 400, msg: 'INVALID_PARAM:groupId' },
    { name: 'groupId with a newline', request: json('POST', '/api/faceGroups', { groupId: 'a\nb', groupName: 'newline' }), status: 400, msg: 'INVALID_PARAM:groupId' },
    { name: 'faceToken ../ escaped in the path', request: { method: 'GET', url: '/api/faces/faceToken/..%2F..%2Fvisage.db' }, status: 400, msg: 'FACE_TOKEN_NOT_EXIST' },
    { name: 'imageId ../../ in the path', request: { method: 'GET', url: '/api/faces/image/..%2F..%2F' }, status: 400, msg: 'IMAGE_ID_NOT_EXIST' },
    { name: 'imageId with NUL in the path', request: { method: 'DELETE', url: '/api/faces/image/abc%00def' }, status: 400, msg: 'IMAGE_ID_NOT_EXIST' },
    { name: 'faceToken of emoji in the path', request: { method: 'DELETE', url: '/api/faces/%F0%9F%98%80%F0%9F%98%80' }, status: 400, msg: 'FACE_TOKEN_NOT_EXIST' },
    { name: 'groupId with NUL in the path', request: json('DELETE', '/api/faceGroups/default%00', { deleteAllFace: 2 }), status: 400, msg: 'GROUP_ID_NOT_EXIST' },
    { name: 'unbind from a token with a slash', request: json('DELETE', `/api/faceGroups/unbind/${faceToken}%2F..`, { faceGroupList: ['default'] }), status: 400, msg: 'FACE_TOKEN_NOT_EXIST' },
    // ---- paging, topN, groupScore out of range ----
    { name: 'pageSize 0', request: { method: 'GET', url: '/api/faces?pageSize=0' }, status: 400, msg: 'INVALID_PARAM:pageSize' },
    { name: 'pageSize 1001', request: { method: 'GET', url: '/api/faceGroups/default?pageSize=1001' }, status: 400, msg: 'INVALID_PARAM:pageSize' },
    { name: 'pageOffset -1', request: { method: 'GET', url: '/api/faces?pageOffset=-1' }, status: 400, msg: 'INVALID_PARAM:pageOffset' },
    { name: 'pageOffset 1e3', request: { method: 'GET', url: '/api/faces?pageOffset=1e3' }, status: 400, msg: 'INVALID_PARAM:pageOffset' },
    { name: 'pageOffset of 20 digits', request: { method: 'GET', url: '/api/faces?pageOffset=99999999999999999999' }, status: 400, msg: 'INVALID_PARAM:pageOffset' },
    { name: 'pageSize given twice', request: { method: 'GET', url: '/api/faces?pageSize=1&pageSize=2' }, status: 400, msg: 'INVALID_PARAM:pageSize' },
    { name: 'topN 0', request: json('POST', '/api/face/search', { image: 'QUJD', group: ['default'], topN: 0 }), status: 400, msg: 'INVALID_PARAM:topN' },
    { name: 'topN 6', request: json('POST', '/api/face/search', { image: 'QUJD', group: ['default'], topN: 6 }), status: 400, msg: 'INVALID_PARAM:topN' },
    { name: 'topN 1e308', request: json('POST', '/api/face/search', '{"image":"QUJD","group":["default"],"topN":1e308}'), status: 400, msg: 'INVALID_PARAM:topN' },
    { name: 'groupScore 101', request: json('POST', '/api/faceGroups', { groupId: 'hi', groupName: 'hi', groupScore: 101 }), status: 400, msg: 'INVALID_PARAM:groupScore' },
    { name: 'groupScore -1', request: json('PUT', '/api/faceGroups', { groupId: 'default', groupScore: -1 }), status: 400, msg: 'INVALID_PARAM:groupScore' },
    { name: 'groupScore NaN spelled out', request: json('PUT', '/api/faceGroups', '{"groupId":"default","groupScore":NaN}'), status: 400, msg: 'INVALID_PARAM:body' },
    // ---- unknown methods and routes ----
    { name: 'PATCH a group', request: json('PATCH', '/api/faceGroups', { groupId: 'default' }), status: 404, msg: 'NOT_FOUND' },
    { name: 'OPTIONS without CORS', request: { method: 'OPTIONS', url: '/api/faces' }, status: 404, msg: 'NOT_FOUND' },
    { name: 'PUT a face', request: json('PUT', `/api/faces/${faceToken}`, { name: 'x' }), status: 404, msg: 'NOT_FOUND' },
    { name: 'path traversal to the database', request: { method: 'GET', url: '/api/../visage.db' }, status: 404, msg: 'NOT_FOUND' },
    { name: 'deeper path than any route', request: { method: 'GET', url: `/api/faces/faceToken/${faceToken}/extra` }, status: 404, msg: 'NOT_FOUND' },
  ];
}

describe('hostile input', () => {
  let api: TestApp;
  let faceToken: string;
  before(async () => {
    api = await startTestApp();
    ({ faceToken } = expectSuccess(await api.call<{ faceToken: string }>('POST', '/api/faces', { image: dataUrl(samplePhoto(6)), name: 'Resident' })));
    expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'staff', groupName: 'Staff' }));
    expectSuccess(await api.call('POST', `/api/faceGroups/binding/${faceToken}`, { faceGroupList: ['staff'] }));
  });
  after(async () => {
    await api.close();
  });

  it('answers every malformed request with a 4xx envelope and leaves the library byte-for-byte unchanged', async () => {
    const cases = await hostileCases(faceToken);
    assert.ok(cases.length >= 60, `${cases.length} cases`);
    assert.equal(new Set(cases.map((entry) => entry.name)).size, cases.length, 'case names are unique');
    const before = snapshotDataDir(api.config.dataDir);
    const failures: string[] = [];
    for (const entry of cases) {
      const started = Date.now();
      const reply = await api.app.server.inject(entry.request);
      const elapsed = Date.now() - started;
      const body = reply.json<{ code: unknown; msg: unknown; data: unknown }>();
      const problems: string[] = [];
      if (reply.statusCode !== entry.status) problems.push(`status ${reply.statusCode}`);
      if (!/^application\/json/.test(String(reply.headers['content-type']))) problems.push('not JSON');
      if (typeof body.code !== 'number' || typeof body.msg !== 'string' || typeof body.data !== 'object' || body.data === null) problems.push('not the envelope');
      if (typeof entry.msg === 'string' ? body.msg !== entry.msg : !entry.msg.test(String(body.msg))) problems.push(`msg ${String(body.msg)}`);
      if (reply.statusCode !== 400 && body.code !== reply.statusCode) problems.push(`code ${String(body.code)}`);
      if (elapsed > ANSWER_WITHIN_MS) problems.push(`took ${elapsed} ms`);
      if (problems.length > 0) failures.push(`${entry.name}: ${problems.join(', ')} (${reply.body.slice(0, 120)})`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(snapshotDataDir(api.config.dataDir), before);
    // Nothing reached a prototype.
    assert.equal(({} as Record<string, unknown>).groupId, undefined);
    assert.equal(({} as Record<string, unknown>).groupName, undefined);
    // And the library still answers as before.
    const groups = expectSuccess(await api.call<{ faceGroupList: Array<{ groupId: string; groupFaces: number }> }>('GET', '/api/faceGroups'));
    assert.deepEqual(groups.faceGroupList.map(({ groupId, groupFaces }) => [groupId, groupFaces]), [['default', 1], ['staff', 1]]);
  });

  it('answers generated requests on every route with the envelope and never a 5xx (fast-check)', async () => {
    const routes = Object.keys(requestSchemas).map((endpoint) => endpoint.split(' ') as [InjectOptions['method'], string]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(anyBody.map((body) => JSON.stringify(body) ?? ''), fc.string({ maxLength: 200 })),
        fc.oneof(fc.string({ maxLength: 40 }), fc.constant(faceToken), fc.constant('default')),
        fc.string({ maxLength: 30 }),
        async ([method, path], payload, pathId, query) => {
          const url = `${path.replace(/\{\w+\}/g, encodeURIComponent(pathId))}?${query}`;
          const reply = await api.app.server.inject({ method, url, payload });
          assert.ok(reply.statusCode < 500, `${method} ${url} → ${reply.statusCode} ${reply.body.slice(0, 200)}`);
          const body = reply.json<{ code: unknown; msg: unknown; data: unknown }>();
          assert.equal(typeof body.code, 'number');
          assert.equal(typeof body.msg, 'string');
          assert.equal(typeof body.data, 'object');
          assert.equal(body.code === 0, reply.statusCode === 200, `${reply.statusCode} with code ${String(body.code)}`);
        },
      ),
      { numRuns: 250 },
    );
  });
});

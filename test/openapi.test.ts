/**
 * The OpenAPI document against the running server: every route is documented, the document's request schemas
 * accept and refuse the same bodies and queries as the server, real responses match the documented response
 * schemas, every field is described in English and Chinese, and Swagger UI is served from local files.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Code, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, samplePhoto, toJpeg } from './helpers/images.js';

interface JsonObject {
  [key: string]: unknown;
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `/api/faces/{faceToken}` → `/api/faces/:faceToken` (Fastify's spelling). */
const fastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
/** JSON pointer escaping of one path segment. */
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

describe('OpenAPI document', () => {
  let api: TestApp;
  let document: JsonObject;
  let ajv: Ajv2020;
  /** Operation object by `METHOD /path`. */
  const operations = new Map<string, JsonObject>();

  /** A validator for the schema at a JSON pointer inside the document (so its $refs resolve). */
  const validatorAt = (path: string) => ajv.compile({ $ref: `openapi.json#${path}` });

  before(async () => {
    api = await startTestApp();
    const reply = await api.app.server.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(reply.statusCode, 200);
    document = reply.json<JsonObject>();
    // The document is not itself a JSON Schema (paths, info…): strict mode would refuse those keywords.
    ajv = new Ajv2020({ strict: false, allErrors: false });
    ajv.addSchema(document, 'openapi.json');
    for (const [path, item] of Object.entries(document.paths as JsonObject)) {
      for (const [method, operation] of Object.entries(item as JsonObject)) {
        operations.set(`${method.toUpperCase()} ${path}`, operation as JsonObject);
      }
    }
  });
  after(() => api.close());

  it('documents every route the server registers, and only those', () => {
    assert.ok(document.openapi === '3.1.0');
    assert.deepEqual(api.app.server.undocumentedApiRoutes(), []);
    for (const key of operations.keys()) {
      const [method, path] = key.split(' ') as [string, string];
      assert.ok(
        api.app.server.hasRoute({ method: method as 'GET', url: fastifyPath(path) }),
        `${key} is documented but not served`,
      );
    }
    assert.ok(operations.size >= 17, `only ${operations.size} operations`);
  });

  it('describes every field in English and Chinese', () => {
    const missing: string[] = [];
    const visit = (node: unknown, at: string) => {
      if (Array.isArray(node)) node.forEach((child, index) => visit(child, `${at}/${index}`));
      if (!isObject(node)) return;
      if (isObject(node.properties)) {
        for (const [name, property] of Object.entries(node.properties)) {
          const description = isObject(property) ? property.description : undefined;
          const refersToDescribed = isObject(property) && typeof property.$ref === 'string';
          const bilingual = typeof description === 'string' && /[A-Za-z]/.test(description) && /[\u4e00-\u9fff]/.test(description);
          if (!bilingual && !refersToDescribed) missing.push(`${at}/properties/${name}`);
        }
      }
      for (const [key, child] of Object.entries(node)) visit(child, `${at}/${key}`);
    };
    visit(document.paths, '#/paths');
    visit(document.components, '#/components');
    // Referenced components (Rect, DetectionResult…) carry their own description where the spec gives one.
    assert.deepEqual(missing, []);
  });

  it('lists the error codes of each endpoint with the failure envelope', () => {
    const register = operations.get('POST /api/faces')!;
    const responses = register.responses as Record<string, JsonObject>;
    const table = String(responses['400']!.description);
    for (const code of [Code.INVALID_PARAM, Code.IMAGE_INVALID, Code.FACE_NOT_FOUND, Code.BAD_QUALITY, Code.FACE_ALREADY_EXIST]) {
      assert.match(table, new RegExp(`\\| ${code} \\|`));
    }
    for (const status of ['404', '413', '500', '503']) assert.ok(responses[status], `POST /api/faces has no ${status}`);
  });

  describe('request schemas refuse exactly what the server refuses', () => {
    /** Values every field is tried with; the server and the document must agree on each body. */
    const variants: unknown[] = [null, 0, -1, 1, 2.5, 6, 101, true, 'true', '', 'x', 'a/b', 'a'.repeat(300), [], ['default'], [1], {}];

    /** One valid body per endpoint; ids in paths are unknown ones, so accepted bodies change nothing. */
    const examples = async (): Promise<Array<{ key: string; url: string; body: JsonObject }>> => {
      // A real JPEG too small to analyse (IMAGE_INVALID:TOO_SMALL): it passes the schema, and the models never run.
      const photo = dataUrl(await toJpeg(samplePhoto(1), 64));
      return [
        { key: 'POST /api/faces', url: '/api/faces', body: { image: photo, description: 'd', imageMd5: '', name: 'n', gender: '' } },
        { key: 'POST /api/faceGroups', url: '/api/faceGroups', body: { groupId: 'g', groupName: '', groupType: 't', groupScore: 80 } },
        { key: 'PUT /api/faceGroups', url: '/api/faceGroups', body: { groupId: 'nope', groupName: 'n', groupType: 't', groupScore: 80 } },
        { key: 'DELETE /api/faceGroups/{groupId}', url: '/api/faceGroups/nope', body: { deleteAllFace: 1 } },
        { key: 'POST /api/faceGroups/binding/{faceToken}', url: '/api/faceGroups/binding/nope', body: { faceGroupList: ['default'] } },
        { key: 'DELETE /api/faceGroups/unbind/{faceToken}', url: '/api/faceGroups/unbind/nope', body: { faceGroupList: ['default'] } },
        { key: 'POST /api/face/compare', url: '/api/face/compare', body: { image1: photo, image2: photo, livenessEnabled: false } },
        { key: 'POST /api/face/detect', url: '/api/face/detect', body: { image: photo, livenessEnabled: true } },
        {
          key: 'POST /api/face/search',
          url: '/api/face/search',
          body: { image: photo, group: ['default'], topN: 5, livenessEnabled: false, featureUpload: false },
        },
      ];
    };

    it('for every field of every body, in every variant', async () => {
      const disagreements: string[] = [];
      let tried = 0;
      for (const { key, url, body } of await examples()) {
        const [method, path] = key.split(' ') as ['POST' | 'PUT' | 'DELETE', string];
        assert.ok(operations.has(key), `${key} is not documented`);
        const documentValidates = validatorAt(`/paths/${pointer(path)}/${method.toLowerCase()}/requestBody/content/application~1json/schema`);
        const bodies: JsonObject[] = [body, {}, { ...body, unknownField: 1 }];
        for (const field of Object.keys(body)) {
          const { [field]: _omitted, ...without } = body;
          bodies.push(without);
          for (const value of variants) bodies.push({ ...body, [field]: value });
        }
        for (const candidate of bodies) {
          const reply = await api.call(method, url, candidate);
          const serverAccepts = reply.body.code !== Code.INVALID_PARAM;
          const documentAccepts = documentValidates(candidate);
          tried += 1;
          if (serverAccepts !== documentAccepts) {
            disagreements.push(`${key} ${JSON.stringify(candidate).slice(0, 120)}: server ${reply.body.msg}, document ${documentAccepts}`);
          }
        }
      }
      assert.deepEqual(disagreements, []);
      assert.ok(tried > 300, `only ${tried} bodies tried`);
    });

    it('for the paging query parameters', async () => {
      const parameters = operations.get('GET /api/faces')!.parameters as Array<{ name: string; in: string; schema: unknown }>;
      const query = parameters.filter((parameter) => parameter.in === 'query');
      assert.deepEqual(query.map((parameter) => parameter.name).sort(), ['pageOffset', 'pageSize']);
      const validates = ajv.compile({
        type: 'object',
        properties: Object.fromEntries(query.map((parameter) => [parameter.name, parameter.schema])),
      });
      const disagreements: string[] = [];
      for (const name of ['pageOffset', 'pageSize']) {
        for (const value of ['', '0', '1', '20', '1000', '1001', '-1', '1.5', 'abc', '99999999999999999']) {
          const reply = await api.call('GET', `/api/faces?${name}=${encodeURIComponent(value)}`);
          const serverAccepts = reply.body.code !== Code.INVALID_PARAM;
          if (serverAccepts !== validates({ [name]: value })) disagreements.push(`${name}=${value}: server ${reply.body.msg}`);
        }
      }
      // The document cannot say "integer 1..1000" of a query string beyond its digit pattern: those two differ
      // and are stated in the parameters' descriptions.
      assert.deepEqual(disagreements.sort(), ['pageSize=0: server INVALID_PARAM:pageSize', 'pageSize=1001: server INVALID_PARAM:pageSize']);
    });
  });

  it('matches what the server really answers, success and failure', async () => {
    const photo = dataUrl(await toJpeg(samplePhoto(1), 640));
    const checks: Array<{ key: string; status: string; body: unknown }> = [];
    const run = async (key: string, url: string, body?: unknown) => {
      const [method] = key.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE'];
      const reply = await api.call(method, url, body);
      checks.push({ key, status: String(reply.status), body: reply.body });
      return reply.body.data as JsonObject;
    };

    const registered = await run('POST /api/faces', '/api/faces', { image: photo, description: 'doc' });
    const faceToken = String(registered.faceToken);
    const imageId = String(registered.imageId);
    await run('POST /api/faces', '/api/faces', { image: photo }); // FACE_ALREADY_EXIST
    await run('GET /api/faces', '/api/faces?pageSize=5');
    await run('GET /api/faces/faceToken/{faceToken}', `/api/faces/faceToken/${faceToken}`);
    await run('GET /api/faces/image/{imageId}', `/api/faces/image/${imageId}`);
    await run('POST /api/faceGroups', '/api/faceGroups', { groupId: 'doc', groupName: 'Doc' });
    await run('PUT /api/faceGroups', '/api/faceGroups', { groupId: 'doc', groupScore: 70 });
    await run('GET /api/faceGroups', '/api/faceGroups');
    await run('POST /api/faceGroups/binding/{faceToken}', `/api/faceGroups/binding/${faceToken}`, { faceGroupList: ['doc', 'nope'] });
    await run('GET /api/faceGroups/{groupId}', '/api/faceGroups/doc');
    await run('POST /api/face/compare', '/api/face/compare', { image1: photo, image2: photo, livenessEnabled: true });
    await run('POST /api/face/search', '/api/face/search', { image: photo, group: ['doc'], topN: 3, featureUpload: true });
    await run('POST /api/face/search', '/api/face/search', { image: photo, group: ['doc'], allFaces: true, livenessEnabled: true });
    await run('POST /api/face/search', '/api/face/search', { image: photo, group: ['missing'] }); // GROUP_ID_NOT_EXIST
    await run('POST /api/face/detect', '/api/face/detect', { image: photo, livenessEnabled: true });
    await run('DELETE /api/faceGroups/unbind/{faceToken}', `/api/faceGroups/unbind/${faceToken}`, { faceGroupList: ['doc'] });
    await run('DELETE /api/faceGroups/{groupId}', '/api/faceGroups/doc', { deleteAllFace: 1 });
    await run('DELETE /api/faces/{faceToken}', `/api/faces/${faceToken}`);
    await run('DELETE /api/faces/image/{imageId}', `/api/faces/image/${imageId}`);
    await run('DELETE /api/faces/facesLib', '/api/faces/facesLib');
    await run('GET /api/faces/faceToken/{faceToken}', '/api/faces/faceToken/gone'); // FACE_TOKEN_NOT_EXIST
    await run('GET /api/audit', '/api/audit?pageSize=50');

    const documentedKeys = new Set(checks.map((check) => check.key));
    const apiKeys = [...operations.keys()].filter((key) => key.includes(' /api/'));
    assert.deepEqual(apiKeys.filter((key) => !documentedKeys.has(key)), [], 'an API operation is not exercised here');
    assert.ok(checks.some((check) => check.status === '400'));
    for (const { key, status, body } of checks) {
      const [method, path] = key.split(' ') as [string, string];
      const validates = validatorAt(`/paths/${pointer(path)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`);
      assert.ok(validates(body), `${key} → ${status}: ${JSON.stringify(validates.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
    }
  });

  it('serves Swagger UI and its assets from the server itself', async () => {
    const page = await api.app.server.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.doesNotMatch(asset, /^(https?:)?\/\//, `the page loads ${asset} from elsewhere`);
      const reply = await api.app.server.inject({ method: 'GET', url: new URL(asset, 'http://visage/docs/').pathname });
      assert.equal(reply.statusCode, 200, `${asset} is not served`);
    }
    const initializer = await api.app.server.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(initializer.statusCode, 200);
    assert.match(initializer.body, /validatorUrl: null/);
  });
});

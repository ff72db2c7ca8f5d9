/**
 * Access control (API keys with scopes), per-key rate limiting, CORS, security headers and the audit log,
 * on the real app with VISAGE_AUTH on. Keys are made the way an operator makes them: `keys create` on the
 * data directory of the running server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keysCommand } from '../src/cli/keys.js';
import { ROUTE_SCOPES } from '../src/http/plugins/access-control.js';
import { requestSchemas } from '../src/http/schemas.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { Code, expectError, expectSuccess, startTestApp, type ApiReply, type TestApp } from './helpers/http-app.js';

const RATE_LIMIT = 40;
const ALLOWED_ORIGIN = 'https://console.example';

interface AuditList {
  total: number;
  entries: Array<{ id: number; at: string; actor: string; action: string; target: string }>;
}

describe('access control on', () => {
  let api: TestApp;
  let operatorStore: Store;
  const keys: Record<'read' | 'write' | 'admin' | 'readWrite', { key: string; keyId: string }> = {} as never;

  /** `visage keys ...` on the server's data directory; returns what it printed. */
  const visageKeys = async (...args: string[]): Promise<string[]> => {
    const printed: string[] = [];
    const openStore = () => openSqliteStore({ dataDir: api.config.dataDir, checkConsistency: false });
    await keysCommand({ openStore, print: (line) => printed.push(line) }).parseAsync(args, { from: 'user' });
    return printed;
  };
  const createKey = async (scopes: string) => {
    const [key] = await visageKeys('create', '--label', `test ${scopes}`, '--scopes', scopes);
    assert.match(key!, /^vsg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    return { key: key!, keyId: key!.slice(4, 20) };
  };
  const withKey = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });
  const as = (key: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    api.raw(method, url, { headers: withKey(key), ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  const expectTransport = (reply: ApiReply, status: number, msg: string) => {
    assert.equal(reply.status, status, JSON.stringify(reply.body));
    assert.deepEqual(reply.body, { code: status, msg, data: {} });
  };

  before(async () => {
    api = await startTestApp({ security: { auth: true, rateLimitPerMinute: RATE_LIMIT, corsOrigins: [ALLOWED_ORIGIN] } });
    operatorStore = await openSqliteStore({ dataDir: api.config.dataDir, checkConsistency: false });
    keys.read = await createKey('read');
    keys.write = await createKey('write');
    keys.admin = await createKey('admin');
    keys.readWrite = await createKey('read,write');
  });
  after(async () => {
    await operatorStore.close();
    await api.close();
  });

  it('maps every API route to a scope', () => {
    for (const endpoint of Object.keys(requestSchemas)) {
      const route = endpoint.replace(/\{(\w+)\}/g, ':$1');
      assert.ok(ROUTE_SCOPES[route] !== undefined, `${route} has no scope`);
    }
  });

  it('answers 401 without a valid key, before reading the body', async () => {
    const unauthenticated: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer ' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: `Bearer ${keys.read.key.slice(0, -1)}x` }, // right id, wrong secret
      { 'x-api-key': 'vsg_0000000000000000_' + 'A'.repeat(43) }, // unknown id
      { 'x-api-key': 'not a key at all' },
    ];
    for (const headers of unauthenticated) {
      const reply = await api.raw('POST', '/api/faces', { headers, payload: '{"image": "x"' });
      expectTransport(reply, 401, 'UNAUTHORIZED');
      assert.equal(reply.headers['www-authenticate'], 'Bearer realm="visage"');
    }
  });

  it('answers 403 when the key lacks the scope, and lets it through when it has it', async () => {
    // read: lists and recognition; not registration, deletion or groups.
    expectSuccess(await as(keys.read.key, 'GET', '/api/faces'));
    expectSuccess(await as(keys.read.key, 'GET', '/api/faceGroups'));
    expectError(await as(keys.read.key, 'POST', '/api/face/search', {}), Code.INVALID_PARAM, 'INVALID_PARAM:image');
    expectError(await as(keys.read.key, 'POST', '/api/face/detect', {}), Code.INVALID_PARAM, 'INVALID_PARAM:image');
    expectTransport(await as(keys.read.key, 'POST', '/api/faces', {}), 403, 'FORBIDDEN');
    expectTransport(await as(keys.read.key, 'DELETE', '/api/faces/sometoken'), 403, 'FORBIDDEN');
    expectTransport(await as(keys.read.key, 'POST', '/api/faceGroups', { groupId: 'g' }), 403, 'FORBIDDEN');
    // write: registration, deletion and bindings; scopes do not imply each other, so no listing.
    expectError(await as(keys.write.key, 'POST', '/api/faces', {}), Code.INVALID_PARAM, 'INVALID_PARAM:image');
    expectError(await as(keys.write.key, 'DELETE', '/api/faces/sometoken'), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    expectError(await as(keys.write.key, 'POST', '/api/faceGroups/binding/sometoken', { faceGroupList: ['default'] }), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    expectTransport(await as(keys.write.key, 'GET', '/api/faces'), 403, 'FORBIDDEN');
    expectTransport(await as(keys.write.key, 'DELETE', '/api/faces/facesLib'), 403, 'FORBIDDEN');
    expectTransport(await as(keys.write.key, 'PUT', '/api/faceGroups', { groupId: 'default', groupScore: 70 }), 403, 'FORBIDDEN');
    // admin: groups, wiping the library, the audit log.
    expectSuccess(await as(keys.admin.key, 'POST', '/api/faceGroups', { groupId: 'staff', groupName: 'Staff' }));
    expectSuccess(await as(keys.admin.key, 'DELETE', '/api/faces/facesLib'));
    expectSuccess(await as(keys.admin.key, 'GET', '/api/audit'));
    expectTransport(await as(keys.readWrite.key, 'GET', '/api/audit'), 403, 'FORBIDDEN');
    // X-Api-Key works like the bearer token.
    expectSuccess(await api.raw('GET', '/api/faces', { headers: { 'x-api-key': keys.readWrite.key } }));
  });

  it('serves the web console without a key (its API calls carry one)', async () => {
    for (const url of ['/', '/console/main.js', '/console/main.css']) {
      const reply = await api.app.server.inject({ method: 'GET', url });
      assert.equal(reply.statusCode, 200, url);
      assert.match(String(reply.headers['content-type']), /^text\/(html|javascript|css)/);
    }
    expectTransport(await api.raw('POST', '/api/face/detect', {}), 401, 'UNAUTHORIZED');
  });

  it('serves the API documentation without a key, Swagger UI assets included', async () => {
    for (const url of ['/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/swagger-ui.css', '/docs/static/swagger-initializer.js']) {
      const reply = await api.app.server.inject({ method: 'GET', url });
      assert.equal(reply.statusCode, 200, `${url} answered ${reply.statusCode}`);
    }
  });

  it('answers unknown routes with 404 whoever asks', async () => {
    expectTransport(await api.raw('GET', '/api/nothing', {}), 404, 'NOT_FOUND');
  });

  it('refuses a revoked key on the very next request', async () => {
    const doomed = await createKey('read');
    expectSuccess(await as(doomed.key, 'GET', '/api/faces'));
    assert.deepEqual(await visageKeys('revoke', doomed.keyId), [`revoked ${doomed.keyId}`]);
    expectTransport(await as(doomed.key, 'GET', '/api/faces'), 401, 'UNAUTHORIZED');
  });

  it('stores only a hash of each key', async () => {
    const stored = await operatorStore.listApiKeys();
    assert.ok(stored.length >= 4);
    const database = readFileSync(join(api.config.dataDir, 'visage.db'));
    const wal = readFileSync(join(api.config.dataDir, 'visage.db-wal'));
    for (const { key, keyId } of Object.values(keys)) {
      const secret = key.slice(21);
      assert.ok(stored.some((record) => record.keyId === keyId && record.secretHash !== secret && /^[0-9a-f]{64}$/.test(record.secretHash)));
      assert.equal(database.includes(secret), false);
      assert.equal(wal.includes(secret), false);
    }
  });

  it('audits destructive requests with the key id as the actor', async () => {
    expectSuccess(await as(keys.admin.key, 'DELETE', '/api/faceGroups/staff', { deleteAllFace: 2 }));
    const audit = expectSuccess(await as(keys.admin.key, 'GET', '/api/audit?pageOffset=0&pageSize=100')) as unknown as AuditList;
    const actions = audit.entries.map(({ actor, action, target }) => ({ actor, action, target }));
    const adminId = keys.admin.keyId;
    // Refused attempts (403, not-exist) leave no entry; key management by the operator does.
    assert.deepEqual(
      actions.filter((entry) => !entry.action.startsWith('key.')),
      [
        { actor: adminId, action: 'library.wipe', target: '' },
        { actor: adminId, action: 'group.delete:2', target: 'staff' },
      ],
    );
    assert.ok(actions.some((entry) => entry.action === 'key.create' && entry.actor.startsWith('cli:')));
    assert.ok(actions.some((entry) => entry.action === 'key.revoke'));
    for (const entry of audit.entries) assert.ok(Math.abs(Date.parse(entry.at) - Date.now()) < 60_000);
  });

  it('limits each key to its own request rate, answering 429 in the envelope', async () => {
    const limited = await createKey('read');
    const replies: ApiReply[] = [];
    for (let i = 0; i <= RATE_LIMIT; i++) replies.push(await as(limited.key, 'GET', '/api/faceGroups'));
    for (const reply of replies.slice(0, RATE_LIMIT)) assert.equal(reply.status, 200);
    const refused = replies[RATE_LIMIT]!;
    expectTransport(refused, 429, 'TOO_MANY_REQUESTS');
    assert.ok(Number(refused.headers['retry-after']) > 0, `retry-after ${String(refused.headers['retry-after'])}`);
    // Another key is not affected.
    expectSuccess(await as(keys.read.key, 'GET', '/api/faceGroups'));
  });

  it('answers CORS preflights for the configured origin only, without a key', async () => {
    const preflight = (origin: string) =>
      api.app.server.inject({
        method: 'OPTIONS',
        url: '/api/face/search',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.statusCode, 204);
    assert.equal(allowed.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
    assert.match(String(allowed.headers['access-control-allow-headers']), /authorization/);
    const other = await preflight('https://evil.example');
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  it('sends security headers, and no-store on API answers', async () => {
    for (const reply of [await as(keys.read.key, 'GET', '/api/faces'), await api.raw('GET', '/api/faces', {})]) {
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
      assert.equal(reply.headers['x-frame-options'], 'DENY');
      assert.equal(reply.headers['referrer-policy'], 'no-referrer');
      assert.equal(reply.headers['cache-control'], 'no-store');
      assert.match(String(reply.headers['content-security-policy']), /default-src 'none'/);
    }
  });
});

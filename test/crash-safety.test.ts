/**
 * Crash safety: the server as a child process is killed with SIGKILL in the middle of 100 concurrent
 * registrations and deletions, then restarted on the same data directory. Every acknowledged write must
 * be there (and searchable), every acknowledged deletion gone, every unacknowledged write either whole or
 * absent, and no file or row without its counterpart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { blobFiles } from './helpers/data-dir.js';
import { dataUrl, portraitAround, samplePhoto } from './helpers/images.js';

interface Envelope<Data = Record<string, unknown>> {
  code: number;
  msg: string;
  data: Data;
}

async function call<Data = Record<string, unknown>>(server: ChildServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: (await response.json()) as Envelope<Data> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'visage-crash-'));
  const servers: ChildServer[] = [];
  after(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and nothing half-done across a SIGKILL during 100 concurrent writes', async () => {
    const first = await startChildServer({ VISAGE_DATA: dataDir, VISAGE_THREADS: '2', VISAGE_MAX_PENDING: '500' });
    servers.push(first);

    // A small portrait (fast to analyse), registered under many imageIds.
    const seed = await call<{ faceToken: string; rect: { left: number; top: number; right: number; bottom: number } }>(first, 'POST', '/api/faces', { image: dataUrl(samplePhoto(6)) });
    assert.equal(seed.status, 200, JSON.stringify(seed.body));
    const portrait = dataUrl(await portraitAround(samplePhoto(6), seed.body.data.rect, 0.6, 240));
    const register = (imageMd5: string) => call<{ faceToken: string }>(first, 'POST', '/api/faces', { image: portrait, imageMd5, name: imageMd5 });

    const before = await Promise.all(Array.from({ length: 30 }, (_, i) => register(`pre-${i}`)));
    const preTokens = before.map((reply) => {
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return reply.body.data.faceToken;
    });

    // 70 registrations at once, 30 deletions trickling in beside them; SIGKILL once 20 registrations are acknowledged.
    const acknowledged = { registered: new Map<string, string>(), deletedFaces: new Set<string>(), deletedImages: new Set<string>() };
    const attempted = { registrations: [] as string[], deletions: [] as number[] };
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      first.child.kill('SIGKILL');
    };
    const settle = (operation: Promise<void>) => operation.catch(() => undefined); // a killed request is unacknowledged
    const registrations = Array.from({ length: 70 }, (_, i) => {
      const imageMd5 = `storm-${i}`;
      attempted.registrations.push(imageMd5);
      return settle(
        register(imageMd5).then((reply) => {
          if (reply.status !== 200) return;
          acknowledged.registered.set(imageMd5, reply.body.data.faceToken);
          if (acknowledged.registered.size >= 20) kill();
        }),
      );
    });
    const deletions = (async () => {
      const pending: Array<Promise<void>> = [];
      for (let i = 0; i < 30 && !killed; i++) {
        attempted.deletions.push(i);
        const path = i % 2 === 0 ? `/api/faces/${preTokens[i]}` : `/api/faces/image/pre-${i}`;
        pending.push(
          settle(
            call(first, 'DELETE', path).then((reply) => {
              if (reply.status !== 200) return;
              if (i % 2 === 0) acknowledged.deletedFaces.add(preTokens[i]!);
              else acknowledged.deletedImages.add(`pre-${i}`);
            }),
          ),
        );
        await sleep(40);
      }
      await Promise.all(pending);
    })();
    await Promise.all([...registrations, deletions]);
    kill();
    await first.exited;
    assert.ok(acknowledged.registered.size >= 20 && acknowledged.registered.size < 70, `${acknowledged.registered.size} registrations acknowledged`);

    const second = await startChildServer({ VISAGE_DATA: dataDir, VISAGE_THREADS: '2', VISAGE_MAX_PENDING: '500' });
    servers.push(second);
    const faceOf = (faceToken: string) => call<{ imageId: string; image: string }>(second, 'GET', `/api/faces/faceToken/${faceToken}`);
    const imageOf = (imageId: string) => call<{ image: string; faceToken: string[] }>(second, 'GET', `/api/faces/image/${imageId}`);

    // Acknowledged registrations: face, crop and original all there.
    for (const [imageMd5, faceToken] of acknowledged.registered) {
      const face = await faceOf(faceToken);
      assert.equal(face.status, 200, `${imageMd5}: ${JSON.stringify(face.body)}`);
      assert.deepEqual((await imageOf(imageMd5)).body.data.faceToken, [faceToken]);
    }
    // Acknowledged deletions: gone.
    for (const faceToken of acknowledged.deletedFaces) assert.equal((await faceOf(faceToken)).body.msg, 'FACE_TOKEN_NOT_EXIST');
    for (const imageId of acknowledged.deletedImages) assert.equal((await imageOf(imageId)).body.msg, 'IMAGE_ID_NOT_EXIST');
    // Unacknowledged writes: whole or absent, never half there.
    for (const imageMd5 of attempted.registrations.filter((id) => !acknowledged.registered.has(id))) {
      const image = await imageOf(imageMd5);
      if (image.status !== 200) {
        assert.equal(image.body.msg, 'IMAGE_ID_NOT_EXIST');
        continue;
      }
      assert.equal(image.body.data.faceToken.length, 1, `${imageMd5} has its face`);
      assert.equal((await faceOf(image.body.data.faceToken[0]!)).status, 200);
    }
    for (const i of attempted.deletions) {
      const face = await faceOf(preTokens[i]!);
      const image = await imageOf(`pre-${i}`);
      if (i % 2 === 0) assert.ok(face.status === 200 || face.body.msg === 'FACE_TOKEN_NOT_EXIST');
      else assert.ok((face.status === 200 && image.status === 200) || (face.status !== 200 && image.body.msg === 'IMAGE_ID_NOT_EXIST'), `pre-${i} half deleted`);
    }

    // Everything listed is indexed and searchable.
    const listed = await call<{ totalFaces: number; face: Array<{ faceToken: string }> }>(second, 'GET', '/api/faces?pageSize=1000');
    assert.equal(second.indexed, listed.body.data.totalFaces);
    const listedTokens = new Set(listed.body.data.face.map((face) => face.faceToken));
    for (const faceToken of acknowledged.registered.values()) assert.ok(listedTokens.has(faceToken));
    const search = await call<Record<string, { faceToken?: string; searchScore?: number }>>(second, 'POST', '/api/face/search', { image: portrait, group: ['default'], topN: 5 });
    assert.equal(search.status, 200, JSON.stringify(search.body).slice(0, 200));
    for (const rank of ['top1', 'top2', 'top3', 'top4', 'top5']) {
      const hit = search.body.data[rank]!;
      assert.ok(hit.faceToken !== undefined && listedTokens.has(hit.faceToken), `${rank} is a listed face`);
      assert.ok(hit.searchScore! > 90);
    }

    second.child.kill('SIGTERM');
    await second.exited;
    // No orphan files or rows: exactly the files the rows reference, no temp files, a sound database.
    const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      const referenced = [
        ...(db.prepare('SELECT file FROM images').all() as Array<{ file: string }>).map((row) => `originals/${row.file.slice(0, 2)}/${row.file}`),
        ...(db.prepare('SELECT crop_file AS file FROM faces').all() as Array<{ file: string }>).map((row) => `crops/${row.file.slice(0, 2)}/${row.file}`),
      ].sort();
      assert.deepEqual(blobFiles(dataDir), referenced);
      const facelessStormImages = db.prepare(`SELECT count(*) AS n FROM images i WHERE i.image_id LIKE 'storm-%' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.image_pk = i.pk)`).get() as { n: number };
      assert.equal(facelessStormImages.n, 0);
    } finally {
      db.close();
    }
  });
});

/**
 * `visage migrate-store` through the real executable: a SQLite library copied to another SQLite
 * directory and, when PostgreSQL is available, to PostgreSQL; then compared store to store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store, StoredVector } from '../src/store/store.js';
import { runVisage } from './helpers/cli.js';
import { freshDatabase, SKIP_WITHOUT_POSTGRES } from './helpers/postgres.js';
import { openStore } from '../src/store/open-store.js';
import { parseStoreLocation } from '../src/store/location.js';
import { sampleFace, sampleImage } from './helpers/store-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-migrate-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const sourceDir = join(scratch, 'source');
const all = { offset: 0, size: 1000 };

async function vectors(store: Store): Promise<StoredVector[]> {
  const found: StoredVector[] = [];
  for await (const vector of store.streamVectors()) found.push(vector);
  return found;
}

/** Everything a client can observe of a library, read through the Store. */
async function snapshot(store: Store) {
  const faces = await store.listFaces(all);
  const details = await Promise.all(faces.rows.map((row) => store.getFace(row.faceToken)));
  const images = await Promise.all(faces.rows.map((row) => store.getImage(row.imageId)));
  return {
    faces,
    details,
    images,
    groups: await store.listGroups(),
    vectors: await vectors(store),
    keys: await store.listApiKeys(),
    audit: await store.listAudit(all),
  };
}

describe('visage migrate-store', () => {
  let expected: Awaited<ReturnType<typeof snapshot>>;
  let facelessImageId: string;

  before(async () => {
    const source = await openSqliteStore({ dataDir: sourceDir });
    try {
      await source.updateGroup({ groupId: 'default', groupScore: 75 });
      await source.createGroup({ groupId: 'staff', groupName: 'Staff', groupType: 'white', groupScore: 85 });
      for (let i = 0; i < 5; i++) {
        const face = sampleFace();
        await source.registerFace(sampleImage(), face);
        if (i % 2 === 0) await source.bind(face.faceToken, ['staff']);
      }
      const faceless = sampleImage();
      facelessImageId = faceless.imageId;
      const gone = sampleFace();
      await source.registerFace(faceless, gone);
      await source.deleteFace(gone.faceToken);
      await source.createApiKey({ keyId: 'k1', label: 'door', scopes: ['read'], secretHash: 'ab'.repeat(32), createdAt: '2026-11-26T09:00:00.000Z' });
      await source.createApiKey({ keyId: 'k2', label: '', scopes: ['admin'], secretHash: 'cd'.repeat(32), createdAt: '2026-11-26T09:01:00.000Z' });
      await source.revokeApiKey('k2', '2026-11-26T09:02:00.000Z');
      await source.appendAudit({ at: '2026-11-26T09:03:00.000Z', actor: 'k1', action: 'face.delete', target: gone.faceToken });
      expected = await snapshot(source);
    } finally {
      await source.close();
    }
  });

  async function migrateAndCompare(to: string): Promise<void> {
    const run = await runVisage(['migrate-store', '--from', `sqlite:${sourceDir}`, '--to', to]);
    assert.equal(run.exitCode, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /done: 6 image\(s\) with 5 face\(s\) copied, 0 already there; 2 group\(s\), 2 API key\(s\), 1 audit entries/);

    const target = await openStore(parseStoreLocation(to));
    try {
      const copied = await snapshot(target);
      assert.deepEqual(copied, expected);
      assert.ok(await target.getImage(facelessImageId), 'an image whose faces were deleted keeps its imageId');
    } finally {
      await target.close();
    }

    // Running it again finishes an interrupted copy: here there is nothing left to do.
    const again = await runVisage(['migrate-store', '--from', `sqlite:${sourceDir}`, '--to', to]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /0 image\(s\) with 0 face\(s\) copied, 6 already there; 2 group\(s\), 0 API key\(s\), 0 audit entries/);
  }

  it('copies a SQLite library to another SQLite directory, unchanged, once', () =>
    migrateAndCompare(`sqlite:${join(scratch, 'copy')}`));

  it('copies a SQLite library to PostgreSQL, unchanged, once', { skip: SKIP_WITHOUT_POSTGRES }, async () =>
    migrateAndCompare(await freshDatabase()));

  it('refuses a location it cannot read, saying what it expects', async () => {
    const run = await runVisage(['migrate-store', '--from', `sqlite:${sourceDir}`, '--to', 'mysql://db/visage']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /expected postgres:\/\/.*or sqlite:DIRECTORY/);
  });
});

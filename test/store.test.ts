import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { encodeCompact } from '../src/index/compact-codec.js';
import { embeddingToBytes } from '../src/store/embedding-bytes.js';
import { applyMigrations, MIGRATIONS, readSchemaVersion } from '../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { AtRestCipher, AtRestKeyError } from '../src/store/at-rest-cipher.js';
import { openConfiguredStore } from '../src/store/open-store.js';
import { blobFiles, filesContaining } from './helpers/data-dir.js';
import { assertCompactAgrees, sampleFace, sampleImage, storeConformance } from './helpers/store-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-store-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let directories = 0;
const freshDir = (): string => join(scratch, `data-${++directories}`);

const dataDirOf = new WeakMap<Store, string>();
// A small batch size so streaming crosses batch boundaries.
const openAt = async (dataDir: string, groupLimit?: number): Promise<Store> => {
  const store = await openSqliteStore({ dataDir, groupLimit, streamBatchSize: 7 });
  dataDirOf.set(store, dataDir);
  return store;
};
storeConformance('sqlite', (options) => openAt(freshDir(), options?.groupLimit), {
  async persistedCompact(store) {
    const db = new Database(join(dataDirOf.get(store)!, 'visage-vectors.db'), { readonly: true });
    try {
      const rows = db.prepare<[], { face_token: string; model_id: string; record: Buffer }>('SELECT face_token, model_id, record FROM compact_vectors').all();
      return new Map(rows.map((row) => [row.face_token, { modelId: row.model_id, record: row.record }]));
    } finally {
      db.close();
    }
  },
  async forgetCompactAndReopen(store) {
    const dataDir = dataDirOf.get(store)!;
    await store.close();
    // As a library looks with its vectors file lost, or restored from a backup of visage.db alone.
    rmSync(join(dataDir, 'visage-vectors.db'));
    return openAt(dataDir);
  },
});

async function withSqlite(dataDir: string, test: (store: Store) => Promise<void>): Promise<void> {
  const store = await openSqliteStore({ dataDir });
  try {
    await test(store);
  } finally {
    await store.close();
  }
}

describe('SQLite store specifics', () => {
  it('records numbered migrations once and runs in WAL mode', async () => {
    const dataDir = freshDir();
    await withSqlite(dataDir, async () => {});
    await withSqlite(dataDir, async (store) => {
      assert.equal((await store.listGroups()).length, 1); // default not inserted twice
    });
    const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
    try {
      const versions = db.prepare('SELECT version FROM migrations ORDER BY version').all() as Array<{ version: number }>;
      assert.deepEqual(
        versions.map((row) => row.version),
        MIGRATIONS.map((migration) => migration.version),
      );
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  it('keeps originals and crops as files with internal names, removed after the delete commits', async () => {
    const dataDir = freshDir();
    await withSqlite(dataDir, async (store) => {
      const image = sampleImage({ imageId: '../../etc/passwd' }); // never used as a file name
      const face = sampleFace();
      await store.registerFace(image, face);
      const files = blobFiles(dataDir);
      assert.equal(files.length, 2);
      for (const file of files) assert.match(file, /^(originals|crops)\/[0-9a-f]{2}\/[0-9a-f]{32}$/);

      await store.deleteFace(face.faceToken);
      assert.deepEqual(blobFiles(dataDir).map((file) => file.split('/')[0]), ['originals']);
      await store.deleteImage(image.imageId);
      assert.deepEqual(blobFiles(dataDir), []);
    });
  });

  it('removes the files of a registration the transaction refused', async () => {
    const dataDir = freshDir();
    await withSqlite(dataDir, async (store) => {
      const image = sampleImage();
      const attempts = await Promise.allSettled([
        store.registerFace(image, sampleFace()),
        store.registerFace(image, sampleFace()),
      ]);
      assert.equal(attempts.filter((attempt) => attempt.status === 'rejected').length, 1);
      assert.equal(blobFiles(dataDir).length, 2);
    });
  });

  it('wipe and group deletion remove the files they stop referencing', async () => {
    const dataDir = freshDir();
    await withSqlite(dataDir, async (store) => {
      await store.createGroup({ groupId: 'g', groupName: 'G', groupType: '', groupScore: 80 });
      const face = sampleFace();
      await store.registerFace(sampleImage(), face);
      await store.bind(face.faceToken, ['g']);
      await store.unbind(face.faceToken, ['default']);
      await store.registerFace(sampleImage(), sampleFace());
      await store.deleteGroup('g', 4); // the face and its original go
      assert.equal(blobFiles(dataDir).length, 2);
      await store.wipe();
      assert.deepEqual(blobFiles(dataDir), []);
    });
  });

  it('start-up sweep removes orphan files and temp files a crash left behind', async () => {
    const dataDir = freshDir();
    const kept = sampleFace();
    await withSqlite(dataDir, async (store) => {
      await store.registerFace(sampleImage(), kept);
    });
    const referenced = blobFiles(dataDir);
    // A file renamed into place whose commit never happened, and a half-written temp file.
    mkdirSync(join(dataDir, 'crops', 'ab'), { recursive: true });
    writeFileSync(join(dataDir, 'crops', 'ab', 'ab'.padEnd(32, '0')), 'orphan');
    mkdirSync(join(dataDir, 'originals', 'cd'), { recursive: true });
    writeFileSync(join(dataDir, 'originals', 'cd', `${'cd'.padEnd(32, '1')}.tmp`), 'partial');
    assert.equal(blobFiles(dataDir).length, referenced.length + 2);
    writeFileSync(join(dataDir, 'originals', 'stray-file'), 'junk');

    await withSqlite(dataDir, async (store) => {
      const stored = await store.getFace(kept.faceToken);
      assert.deepEqual(stored?.crop, kept.crop);
    });
    assert.deepEqual(blobFiles(dataDir), referenced);
    assert.equal(existsSync(join(dataDir, 'originals', 'stray-file')), false);
  });

  it('start-up check removes faces whose crop and images whose original went missing, keeping the rest', async () => {
    const dataDir = freshDir();
    const intact = sampleFace();
    const cropless = sampleFace();
    const orphanedImage = sampleImage();
    const faceOfOrphanedImage = sampleFace();
    await withSqlite(dataDir, async (store) => {
      await store.registerFace(sampleImage(), intact);
      await store.registerFace(sampleImage(), cropless);
      await store.registerFace(orphanedImage, faceOfOrphanedImage);
    });
    const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
    const cropFile = (db.prepare('SELECT crop_file FROM faces WHERE face_token = ?').get(cropless.faceToken) as { crop_file: string }).crop_file;
    const originalFile = (db.prepare('SELECT file FROM images WHERE image_id = ?').get(orphanedImage.imageId) as { file: string }).file;
    db.close();
    rmSync(join(dataDir, 'crops', cropFile.slice(0, 2), cropFile));
    rmSync(join(dataDir, 'originals', originalFile.slice(0, 2), originalFile));

    await withSqlite(dataDir, async (store) => {
      assert.deepEqual((await store.getFace(intact.faceToken))?.crop, intact.crop);
      assert.equal(await store.getFace(cropless.faceToken), undefined);
      assert.equal(await store.getFace(faceOfOrphanedImage.faceToken), undefined);
      assert.equal(await store.getImage(orphanedImage.imageId), undefined);
      const streamed = [];
      for await (const vector of store.streamVectors()) streamed.push(vector.faceToken);
      assert.deepEqual(streamed, [intact.faceToken]);
      assert.equal((await store.listGroups())[0]?.faceCount, 1);
    });
    // The crop of the face whose original vanished was an orphan then, and is gone too.
    assert.equal(blobFiles(dataDir).length, 3); // intact face's original and crop, cropless face's original
  });

  it('checkFiles counts files no row references and rows whose file is missing, and changes nothing', async () => {
    const dataDir = freshDir();
    const cropless = sampleFace();
    await withSqlite(dataDir, async (store) => {
      await store.registerFace(sampleImage(), sampleFace());
      await store.registerFace(sampleImage(), cropless);
    });
    const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
    const cropFile = (db.prepare('SELECT crop_file FROM faces WHERE face_token = ?').get(cropless.faceToken) as { crop_file: string }).crop_file;
    db.close();
    rmSync(join(dataDir, 'crops', cropFile.slice(0, 2), cropFile));
    mkdirSync(join(dataDir, 'crops', 'ab'), { recursive: true });
    writeFileSync(join(dataDir, 'crops', 'ab', 'ab'.padEnd(32, '0')), 'orphan');
    writeFileSync(join(dataDir, 'crops', 'ab', `${'ab'.padEnd(32, '1')}.tmp`), 'partial');
    // A blob name outside its shard directory is a stray, not the file of that name.
    writeFileSync(join(dataDir, 'crops', 'ab', 'cd'.padEnd(32, '2')), 'misplaced');
    const before = blobFiles(dataDir);

    const store = await openSqliteStore({ dataDir, checkConsistency: false });
    try {
      assert.deepEqual(await store.checkFiles(), { unreferencedFiles: 3, missingFiles: 1 });
      assert.equal((await store.listFaces({ offset: 0, size: 10 })).total, 2); // the cropless face too
    } finally {
      await store.close();
    }
    assert.deepEqual(blobFiles(dataDir), before);
  });

  it('looks a file name up through an index, originals and crops alike (the start-up check re-verifies by name)', async () => {
    const dataDir = freshDir();
    await withSqlite(dataDir, async () => {});
    const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
    try {
      for (const query of ['SELECT 1 FROM images WHERE file = ?', 'SELECT 1 FROM faces WHERE crop_file = ?']) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${query}`).all('x') as Array<{ detail: string }>;
        assert.match(plan.map((step) => step.detail).join('; '), /USING (COVERING )?INDEX/, query);
      }
    } finally {
      db.close();
    }
  });

  describe('encryption at rest', () => {
    const cipherA = new AtRestCipher(Buffer.alloc(32, 0xa1));
    const cipherB = new AtRestCipher(Buffer.alloc(32, 0xb2));
    const openWith = (dataDir: string, cipher?: AtRestCipher) => openSqliteStore({ dataDir, ...(cipher ? { cipher } : {}) });

    it('stores embeddings, originals and crops only as ciphertext and reads them back', async () => {
      const dataDir = freshDir();
      const image = sampleImage({ bytes: new Uint8Array(Buffer.from('an original image, long enough to search for')) });
      const face = sampleFace({ crop: new Uint8Array(Buffer.from('a face crop, long enough to search for')) });
      const store = await openWith(dataDir, cipherA);
      try {
        await store.registerFace(image, face);
        for (const plaintext of [image.bytes, face.crop, new Uint8Array(face.embedding.buffer), encodeCompact(face.embedding)]) {
          assert.deepEqual(filesContaining(dataDir, Buffer.from(plaintext)), []);
        }
        assert.deepEqual((await store.getImage(image.imageId))?.bytes, image.bytes);
        assert.deepEqual((await store.getFace(face.faceToken))?.crop, face.crop);
      } finally {
        await store.close();
      }
      const reopened = await openWith(dataDir, cipherA);
      try {
        const vectors = [];
        for await (const vector of reopened.streamVectors()) vectors.push(vector.embedding);
        assert.deepEqual(vectors, [face.embedding]);
        await assertCompactAgrees(reopened, face.modelId);
      } finally {
        await reopened.close();
      }
    });

    it('refuses to open with a wrong key, without a key, or to encrypt a directory holding plaintext faces', async () => {
      const encrypted = freshDir();
      await (await openWith(encrypted, cipherA)).close();
      await assert.rejects(openWith(encrypted, cipherB), (error: unknown) => error instanceof AtRestKeyError && /not the key/.test(error.message));
      await assert.rejects(openWith(encrypted), (error: unknown) => error instanceof AtRestKeyError && /set VISAGE_ENCRYPTION_KEY/.test(error.message));
      const plain = freshDir();
      await withSqlite(plain, async (store) => {
        await store.registerFace(sampleImage(), sampleFace());
      });
      await assert.rejects(openWith(plain, cipherA), (error: unknown) => error instanceof AtRestKeyError && /unencrypted/.test(error.message));
    });

    it('is refused for PostgreSQL, which does not encrypt at rest yet', async () => {
      const config = {
        dataDir: freshDir(),
        groupLimit: 10,
        databaseUrl: 'postgres://visage@127.0.0.1:1/visage',
        databasePoolSize: 1,
        encryptionKey: Buffer.alloc(32, 0xa1),
      };
      await assert.rejects(openConfiguredStore(config), (error: unknown) => error instanceof AtRestKeyError && /not supported with VISAGE_DATABASE_URL/.test(error.message));
    });

    it('fails clearly on a tampered file', async () => {
      const dataDir = freshDir();
      const face = sampleFace();
      const store = await openWith(dataDir, cipherA);
      try {
        await store.registerFace(sampleImage(), face);
        const cropPath = join(dataDir, blobFiles(dataDir).find((file) => file.startsWith('crops/'))!);
        const bytes = readFileSync(cropPath);
        bytes[bytes.length - 1]! ^= 0xff;
        writeFileSync(cropPath, bytes);
        await assert.rejects(store.getFace(face.faceToken), AtRestKeyError);
      } finally {
        await store.close();
      }
    });
  });

  describe('visage-vectors.db', () => {
    const compactTokens = async (store: Store): Promise<string[]> => {
      const tokens: string[] = [];
      for await (const batch of store.streamCompactVectors(sampleFace().modelId)) tokens.push(...batch.faceTokens);
      return tokens.sort();
    };
    /** The bytes of a closed database file (closing checkpointed and removed its WAL). */
    const closedFile = (path: string): Buffer => {
      assert.equal(existsSync(`${path}-wal`), false);
      return readFileSync(path);
    };

    it('is repaired at open after a crash between the commits of the two files, either one first, registration, deletion or promotion', async () => {
      const dataDir = freshDir();
      const mainFile = join(dataDir, 'visage.db');
      const vectorsFile = join(dataDir, 'visage-vectors.db');
      const [a, b, c, d] = [sampleFace(), sampleFace(), sampleFace(), sampleFace()];
      await withSqlite(dataDir, async (store) => {
        await store.registerFace(sampleImage(), a);
        await store.registerFace(sampleImage(), b);
      });
      // visage.db committed, visage-vectors.db not: a's deletion and c's registration never reached the vectors.
      const vectorsBefore = closedFile(vectorsFile);
      await withSqlite(dataDir, async (store) => {
        assert.equal(await store.deleteFace(a.faceToken), true);
        await store.registerFace(sampleImage(), c);
      });
      writeFileSync(vectorsFile, vectorsBefore);
      await withSqlite(dataDir, async (store) => {
        assert.deepEqual(await compactTokens(store), [b.faceToken, c.faceToken].sort());
        await assertCompactAgrees(store, b.modelId);
      });
      // visage-vectors.db committed, visage.db not: d's registration is in the vectors only (its files are orphans).
      const mainBefore = closedFile(mainFile);
      await withSqlite(dataDir, async (store) => {
        await store.registerFace(sampleImage(), d);
      });
      writeFileSync(mainFile, mainBefore);
      await withSqlite(dataDir, async (store) => {
        assert.deepEqual(await compactTokens(store), [b.faceToken, c.faceToken].sort());
        await assertCompactAgrees(store, b.modelId);
      });
      // A re-embedding promoted in visage.db only: no face may keep its old model's record.
      const newModel = 'test-model@2';
      const vectorsBeforePromotion = closedFile(vectorsFile);
      await withSqlite(dataDir, async (store) => {
        for (const face of [b, c]) assert.equal(await store.stageEmbedding(face.faceToken, newModel, sampleFace().embedding), true);
        assert.equal(await store.promoteEmbeddings(newModel), true);
      });
      writeFileSync(vectorsFile, vectorsBeforePromotion);
      await withSqlite(dataDir, async (store) => {
        assert.deepEqual(await compactTokens(store), []); // none by the old model
        assert.deepEqual(await store.modelCoverage(newModel), { faces: 2, covered: 2 });
        await assertCompactAgrees(store, newModel);
      });
    });

    it('takes the compact vectors of a library from before migration 8 out of visage.db', async () => {
      const dataDir = freshDir();
      mkdirSync(dataDir, { recursive: true });
      const faces = [sampleFace(), sampleFace(), sampleFace()];
      // Written as migration 7 left a library: the compact records in visage.db, beside the faces.
      const db = new Database(join(dataDir, 'visage.db'));
      db.pragma('journal_mode = WAL');
      applyMigrations(db, MIGRATIONS.filter((migration) => migration.version <= 7));
      db.exec(`DELETE FROM store_settings WHERE name = 'compact vectors pending'`);
      faces.forEach((face, k) => {
        const imagePk = db.prepare(`INSERT INTO images (image_id, description, format, file) VALUES (?, '', 'jpeg', 'x')`).run(`old-${k}`).lastInsertRowid;
        const faceId = db
          .prepare(
            `INSERT INTO faces (face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom, model_id, embedding, crop_file)
             VALUES (?, ?, '', '', 0, 0, 1, 1, ?, ?, ?)`,
          )
          .run(face.faceToken, imagePk, face.modelId, embeddingToBytes(face.embedding), `crop-${k}`).lastInsertRowid;
        db.prepare('INSERT INTO compact_vectors (face_id, face_token, model_id, record) VALUES (?, ?, ?, ?)').run(faceId, face.faceToken, face.modelId, encodeCompact(face.embedding));
        db.prepare('INSERT INTO bindings (face_id, group_pk) VALUES (?, 1)').run(faceId);
      });
      db.close();

      const store = await openSqliteStore({ dataDir, checkConsistency: false }); // the rows reference no files
      try {
        assert.deepEqual(await compactTokens(store), faces.map((face) => face.faceToken).sort());
        await assertCompactAgrees(store, faces[0]!.modelId);
      } finally {
        await store.close();
      }
      const migrated = new Database(join(dataDir, 'visage.db'), { readonly: true });
      try {
        assert.equal(readSchemaVersion(migrated).applied, MIGRATIONS.at(-1)!.version);
        assert.equal(migrated.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'compact_vectors'`).get(), undefined);
        assert.equal(migrated.prepare(`SELECT 1 FROM store_settings WHERE name = 'compact vectors pending'`).get(), undefined);
      } finally {
        migrated.close();
      }
    });
  });

  it('keeps embeddings bit-exact as float32 across a reopen', async () => {
    const dataDir = freshDir();
    const face = sampleFace();
    await withSqlite(dataDir, async (store) => {
      await store.registerFace(sampleImage(), face);
    });
    await withSqlite(dataDir, async (store) => {
      const vectors = [];
      for await (const vector of store.streamVectors()) vectors.push(vector);
      assert.equal(vectors.length, 1);
      assert.deepEqual(vectors[0]?.embedding, face.embedding);
    });
  });
});

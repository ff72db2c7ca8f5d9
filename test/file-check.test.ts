/**
 * The start-up files-against-rows check beside a running library (src/library/file-check.ts): its slow part
 * (listing the files, reading the names) runs outside the write queue, and what writes do meanwhile is
 * re-verified in the queue before anything is removed. The listing, a registration's file writes and the
 * queue are held open with promises, so each interleaving is forced, not hoped for.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it, mock } from 'node:test';
import Database from 'better-sqlite3';
import { VectorIndex } from '../src/index/vector-index.js';
import { createLibraryContext, type LibraryContext } from '../src/library/context.js';
import { checkStoreFiles } from '../src/library/file-check.js';
import { WriteQueue } from '../src/library/write-queue.js';
import { BlobFiles, BLOB_KINDS, type BlobKind, type BlobListing } from '../src/store/sqlite/blob-files.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { NewFace, NewImage, Store } from '../src/store/store.js';
import { blobFiles } from './helpers/data-dir.js';
import { startTestApp } from './helpers/http-app.js';
import { sampleFace, sampleImage } from './helpers/store-conformance.js';

const scratch = mkdtempSync(join(tmpdir(), 'visage-file-check-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => mock.restoreAll());
let directories = 0;

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Once every kind is listed, `listed` resolves and the listing does not return before `release()`. */
function holdListing(): { listed: Promise<void>; release: () => void } {
  const listed = signal();
  const released = signal();
  const list = BlobFiles.prototype.list;
  let calls = 0;
  mock.method(BlobFiles.prototype, 'list', async function (this: BlobFiles, kind: BlobKind): Promise<BlobListing> {
    const listing = await list.call(this, kind);
    if (++calls === BLOB_KINDS.length) {
      listed.resolve();
      await released.promise;
    }
    return listing;
  });
  return { listed: listed.promise, release: released.resolve };
}

/** The files every row references, as "kind/shard/name" (what `blobFiles` must equal after a check). */
function referencedFiles(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
  try {
    const path = (kind: BlobKind) => (row: { file: string }) => `${kind}/${row.file.slice(0, 2)}/${row.file}`;
    return [
      ...db.prepare<[], { file: string }>('SELECT file FROM images').all().map(path('originals')),
      ...db.prepare<[], { file: string }>('SELECT crop_file AS file FROM faces').all().map(path('crops')),
    ].sort();
  } finally {
    db.close();
  }
}

function fileOf(dataDir: string, sql: string, key: string): string {
  const db = new Database(join(dataDir, 'visage.db'), { readonly: true });
  try {
    return (db.prepare<[string], { file: string }>(sql).get(key) as { file: string }).file;
  } finally {
    db.close();
  }
}
const cropPath = (dataDir: string, face: NewFace) => {
  const file = fileOf(dataDir, 'SELECT crop_file AS file FROM faces WHERE face_token = ?', face.faceToken);
  return join(dataDir, 'crops', file.slice(0, 2), file);
};
const originalPath = (dataDir: string, image: NewImage) => {
  const file = fileOf(dataDir, 'SELECT file FROM images WHERE image_id = ?', image.imageId);
  return join(dataDir, 'originals', file.slice(0, 2), file);
};

interface Library {
  dataDir: string;
  store: Store;
  context: LibraryContext;
  /** Registers as the library does: store commit, then index update, in the write queue. */
  register(image: NewImage, face: NewFace): Promise<void>;
}

async function withLibrary(test: (library: Library) => Promise<void>, writes?: WriteQueue): Promise<void> {
  const dataDir = join(scratch, `data-${++directories}`);
  // No check at open: the library below runs it, as the server does once it is ready.
  const store = await openSqliteStore({ dataDir, checkConsistency: false });
  const index = new VectorIndex(sampleFace().embedding.length, { exact: (faceTokens) => store.getEmbeddings(faceTokens), scanThreads: 0 });
  const context = { ...createLibraryContext(store, index), ...(writes ? { writes } : {}) };
  const register = (image: NewImage, face: NewFace) =>
    context.writes.run(async () => {
      await store.registerFace(image, face);
      index.add(face.faceToken, face.embedding, ['default']);
    });
  try {
    await test({ dataDir, store, context, register });
  } finally {
    await store.close();
  }
}

describe('start-up file check beside a running library', () => {
  it('lists and reads outside the write queue: registrations and deletions go on meanwhile, and only real damage is repaired', { timeout: 30_000 }, async () => {
    await withLibrary(async ({ dataDir, store, context, register }) => {
      const kept = sampleFace();
      const deletedMeanwhile = sampleFace();
      const cropless = sampleFace();
      const originalless = sampleImage();
      const faceOfOriginalless = sampleFace();
      await register(sampleImage(), kept);
      await register(sampleImage(), deletedMeanwhile);
      await register(sampleImage(), cropless);
      await register(originalless, faceOfOriginalless);
      // Damage: a crop and an original deleted by hand, a committed-never file, a temp file, a stray entry.
      rmSync(cropPath(dataDir, cropless));
      rmSync(originalPath(dataDir, originalless));
      mkdirSync(join(dataDir, 'crops', 'ab'), { recursive: true });
      writeFileSync(join(dataDir, 'crops', 'ab', 'ab'.padEnd(32, '0')), 'orphan');
      mkdirSync(join(dataDir, 'originals', 'cd'), { recursive: true });
      writeFileSync(join(dataDir, 'originals', 'cd', `${'cd'.padEnd(32, '1')}.tmp`), 'partial');
      writeFileSync(join(dataDir, 'originals', 'stray-file'), 'junk');

      const listing = holdListing();
      const checking = checkStoreFiles(context);
      await listing.listed;
      // The listing is done and held open: the write queue is free. (Were the whole check in the queue, these
      // writes would wait for it, and it for them: the test would time out.)
      const registeredMeanwhile = sampleFace();
      await register(sampleImage(), registeredMeanwhile); // files written and committed after the listing
      await context.writes.run(async () => {
        assert.equal(await store.deleteFace(deletedMeanwhile.faceToken), true); // listed, its row and files gone now
        context.index.remove(deletedMeanwhile.faceToken);
      });
      listing.release();
      await checking;

      assert.deepEqual((await store.getFace(registeredMeanwhile.faceToken))?.crop, registeredMeanwhile.crop);
      assert.ok(context.index.has(registeredMeanwhile.faceToken));
      assert.deepEqual((await store.getFace(kept.faceToken))?.crop, kept.crop);
      assert.equal(await store.getFace(deletedMeanwhile.faceToken), undefined);
      for (const gone of [cropless, faceOfOriginalless]) {
        assert.equal(await store.getFace(gone.faceToken), undefined);
        assert.equal(context.index.has(gone.faceToken), false);
      }
      assert.equal(await store.getImage(originalless.imageId), undefined);
      assert.equal(context.index.size, 2);
      // Exactly the files the rows reference: the orphan, the temp file, the stray entry and the crop of the
      // face removed with its original are gone; the files of the face registered meanwhile are there.
      assert.deepEqual(blobFiles(dataDir), referencedFiles(dataDir));
      assert.equal(blobFiles(dataDir).length, 6); // kept 2, registered meanwhile 2, the originals of deleted meanwhile and cropless
      assert.equal(existsSync(join(dataDir, 'originals', 'stray-file')), false);
    });
  });

  it('keeps the files of a registration written before the listing and committed after the names were read', { timeout: 30_000 }, async () => {
    // The check asks for the write queue once its slow part is done: this queue tells when.
    const asked = signal();
    class WatchedQueue extends WriteQueue {
      runs = 0;
      override run<T>(write: () => Promise<T>): Promise<T> {
        if (++this.runs === 2) asked.resolve(); // the first is the registration's
        return super.run(write);
      }
    }
    await withLibrary(async ({ dataDir, store, context, register }) => {
      // The registration's two files are written, and its commit waits until the check asked for the queue.
      const written = signal();
      const commit = signal();
      const write = BlobFiles.prototype.write;
      let writes = 0;
      mock.method(BlobFiles.prototype, 'write', async function (this: BlobFiles, kind: BlobKind, bytes: Uint8Array): Promise<string> {
        const name = await write.call(this, kind, bytes);
        if (++writes === 2) written.resolve();
        await commit.promise;
        return name;
      });
      const inFlight = sampleFace();
      const registering = register(sampleImage(), inFlight);
      await written.promise;
      const checking = checkStoreFiles(context);
      await asked.promise; // listed with the registration's files, names read without them
      commit.resolve();
      await Promise.all([registering, checking]);

      assert.deepEqual((await store.getFace(inFlight.faceToken))?.crop, inFlight.crop);
      assert.deepEqual(blobFiles(dataDir), referencedFiles(dataDir));
      assert.equal(blobFiles(dataDir).length, 2);
    }, new WatchedQueue());
  });
});

describe('the server and its start-up file check', () => {
  it('says when the check is done: a stray temp file is gone by then', async () => {
    const dataDir = mkdtempSync(join(scratch, 'app-'));
    const stray = join(dataDir, 'originals', 'ab', `${'ab'.repeat(16)}.tmp`);
    mkdirSync(join(dataDir, 'originals', 'ab'), { recursive: true });
    writeFileSync(stray, 'left by a crash');
    const { app, close } = await startTestApp({ dataDir });
    try {
      assert.ok(app.fileCheck, 'a store with files runs the check');
      await app.fileCheck;
      assert.equal(existsSync(stray), false);
    } finally {
      await close();
    }
  });
});

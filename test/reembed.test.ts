/**
 * Model upgrade on the real pipeline: faces stored with another model's embeddings are re-embedded from their
 * kept originals in the background and switched at once; search finds them afterwards; nobody re-enrols.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reembedLibrary } from '../src/library/reembed.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { FaceAnalyzer } from '../src/vision/types.js';
import { expectSuccess, startTestApp } from './helpers/http-app.js';
import { dataUrl, portraitAround, samplePhoto } from './helpers/images.js';
import { loadConfig } from '../src/config.js';

const OLD_MODEL = 'previous-embedder@1';

describe('re-embedding stored faces when the model changes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'visage-reembed-'));
  let analyzer: FaceAnalyzer;
  after(async () => {
    await analyzer?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  before(async () => {
    analyzer = await createFaceAnalyzer({ modelDir: loadConfig({}).modelDir, threads: 1 });
  });

  /**
   * Two faces as an older version stored them: their boxes and originals are real, their vectors come from
   * the older model — here stood in for by this model's vectors of *other* people, so a search by the new
   * model cannot find them until they are re-embedded.
   */
  async function storeOldFaces(store: Store): Promise<string[]> {
    const tokens: string[] = [];
    for (const [sample, other] of [[5, 3], [3, 5]] as const) {
      const [own, stranger] = await Promise.all([
        analyzer.analyze(samplePhoto(sample), { crops: true, maxFaces: 1 }),
        analyzer.analyze(samplePhoto(other), { maxFaces: 1 }),
      ]);
      const faceToken = `old-face-${sample}`.padEnd(24, '0');
      await store.registerFace(
        { imageId: `old-${sample}`, description: '', format: 'jpeg', bytes: samplePhoto(sample) },
        { faceToken, name: `sample${sample}`, gender: '', rect: own.faces[0]!.rect, embedding: stranger.faces[0]!.embedding, modelId: OLD_MODEL, crop: own.faces[0]!.crop! },
      );
      tokens.push(faceToken);
    }
    return tokens;
  }

  it('stages with progress, then switches only when asked and complete', async () => {
    const store = await openSqliteStore({ dataDir: join(dataDir, 'cli') });
    try {
      await storeOldFaces(store);
      const progress: number[] = [];
      const staged = await reembedLibrary(store, analyzer, { stageOnly: true, onProgress: (c) => progress.push(c.covered) });
      assert.deepEqual(staged, { modelId: analyzer.modelId, staged: 2, failed: [], switched: false });
      assert.deepEqual(progress, [1, 2]);
      for await (const vector of store.streamVectors()) assert.equal(vector.modelId, OLD_MODEL, 'current vectors untouched');
      const done = await reembedLibrary(store, analyzer);
      assert.deepEqual(done, { modelId: analyzer.modelId, staged: 0, failed: [], switched: true });
      for await (const vector of store.streamVectors()) assert.equal(vector.modelId, analyzer.modelId);
    } finally {
      await store.close();
    }
  });

  it('a server finding faces of another model re-embeds them in the background; search then finds them', async () => {
    const serverDir = join(dataDir, 'server');
    const store = await openSqliteStore({ dataDir: serverDir });
    const [annToken] = await storeOldFaces(store);
    const ann = await store.getFace(annToken!);
    await store.close();

    const api = await startTestApp({ dataDir: serverDir, threads: 1 });
    try {
      assert.deepEqual(api.app.indexed, { loaded: 0, skippedOtherModel: 2 });
      const outcome = await api.app.reembedding!;
      assert.deepEqual(outcome, { modelId: analyzer.modelId, staged: 2, failed: [], switched: true });
      const portrait = dataUrl(await portraitAround(samplePhoto(5), ann!.rect, 0.5, 320));
      const found = expectSuccess(await api.call<{ top1: { faceToken?: string } }>('POST', '/api/face/search', { image: portrait, group: ['default'] }));
      assert.equal(found.top1.faceToken, annToken);
    } finally {
      await api.close();
    }
  });
});

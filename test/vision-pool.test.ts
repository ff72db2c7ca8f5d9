/**
 * The vision pool (src/vision/pool.ts): a photo handed over moves to the worker instead of being copied, and
 * only then; the analysis is the same either way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFaceAnalyzer, type PooledFaceAnalyzer } from '../src/vision/pool.js';
import { samplePhoto } from './helpers/images.js';

describe('vision pool', () => {
  let analyzer: PooledFaceAnalyzer;
  before(async () => {
    analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
  });
  after(() => analyzer.close());

  it('moves a handed-over photo to the worker, and copies one that is not', async () => {
    const photo = samplePhoto(2);
    const kept = new Uint8Array(photo);
    const copied = await analyzer.analyze(kept, { maxFaces: 1 });
    assert.equal(kept.byteLength, photo.length, 'a photo not handed over stays with the caller');

    const handed = new Uint8Array(photo);
    const moved = await analyzer.analyze(handed, { maxFaces: 1, handOver: true });
    assert.equal(handed.byteLength, 0, 'a handed-over photo has moved');
    assert.equal(moved.faces.length, 1);
    assert.deepEqual(moved.faces[0]!.rect, copied.faces[0]!.rect);
    assert.deepEqual(moved.faces[0]!.embedding, copied.faces[0]!.embedding);
  });

  it('copies a handed-over view of a larger buffer, whose other bytes stay', async () => {
    const photo = samplePhoto(2);
    const larger = new Uint8Array(photo.length + 16);
    larger.set(photo, 8);
    const view = larger.subarray(8, 8 + photo.length);
    const result = await analyzer.analyze(view, { maxFaces: 1, handOver: true });
    assert.equal(result.faces.length, 1);
    assert.equal(larger.byteLength, photo.length + 16);
    assert.deepEqual(view, new Uint8Array(photo));
  });
});

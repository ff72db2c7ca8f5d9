/**
 * Closing the vision pool (src/vision/pool.ts): the analyses already asked for finish before the workers go.
 * Terminating a worker in the midst of one could abort the whole process (std::terminate in onnxruntime's
 * binding): 3 of 6 `bench:http` overload runs ended with exit code 134 before, none of 14 after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadScoreScale } from '../src/recognition/calibration.js';
import { CompareService } from '../src/recognition/compare.js';
import { loadLivenessScale } from '../src/recognition/liveness-scale.js';
import { createFaceAnalyzer, type PooledFaceAnalyzer } from '../src/vision/pool.js';
import { samplePhoto } from './helpers/images.js';

describe('closing the vision pool', () => {
  it('lets the analyses in progress and queued finish, then refuses new ones', async () => {
    const analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
    const photo = samplePhoto(2);
    // One in the worker, two queued behind it.
    const analyses = [1, 2, 3].map(() => analyzer.analyze(photo, { maxFaces: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await analyzer.close();
    const results = await Promise.allSettled(analyses);
    assert.deepEqual(
      results.map((result) => (result.status === 'fulfilled' ? result.value.faces.length : String(result.reason))),
      [1, 1, 1],
    );
    await assert.rejects(analyzer.analyze(photo, { maxFaces: 1 }), /closed/);
  });
});

describe('the vision workers\' collector', () => {
  it('is exposed to the threads the pool starts, which collect their dead photos after each task with it', async () => {
    const analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
    try {
      // The pool sets the flag for every thread started after it; a thread started now sees what its workers saw.
      const probe = new Worker(`require('node:worker_threads').parentPort.postMessage(typeof gc)`, { eval: true });
      const seen = await new Promise((resolve) => probe.once('message', resolve));
      assert.equal(seen, 'function');
      assert.equal((await analyzer.analyze(samplePhoto(2), { maxFaces: 1 })).faces.length, 1);
    } finally {
      await analyzer.close();
    }
  });
});

describe('handing a photo to the vision pool', () => {
  // One pool for these tests: each start loads every model.
  let analyzer: PooledFaceAnalyzer;
  before(async () => {
    analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
  });
  after(() => analyzer.close());

  it('moves a copy to the worker: the caller keeps its bytes (a registration stores them afterwards)', async () => {
    const photo = samplePhoto(2);
    const bytes = new Uint8Array(photo); // fills its own ArrayBuffer, as the body thread's photos do
    const original = Buffer.from(bytes);
    const analyzed = await analyzer.analyze(bytes, { maxFaces: 1 });
    assert.equal(analyzed.faces.length, 1);
    assert.equal(bytes.buffer.byteLength, original.length, 'not detached by a transfer');
    assert.deepEqual(Buffer.from(bytes), original);
  });

  it('moves the bytes themselves when the caller hands them over: its array is left empty', async () => {
    const bytes = new Uint8Array(samplePhoto(2));
    const analyzed = await analyzer.analyze(bytes, { maxFaces: 1, handOver: true });
    assert.equal(analyzed.faces.length, 1);
    assert.equal(bytes.byteLength, 0, 'detached: moved, not copied');
  });

  it('compares a photo with itself when both are the same bytes (not moved twice)', async () => {
    const compare = new CompareService(analyzer, loadScoreScale(), { scale: loadLivenessScale(), threshold: 50 });
    const photo = new Uint8Array(samplePhoto(2));
    const result = await compare.compare({ image1: photo, image2: photo, liveness: false });
    assert.ok(result.score > 99, `score ${result.score}`);
  });
});

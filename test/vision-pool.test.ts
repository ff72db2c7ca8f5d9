/**
 * Closing the vision pool (src/vision/pool.ts): the analyses already asked for finish before the workers go.
 * Terminating a worker in the midst of one could abort the whole process (std::terminate in onnxruntime's
 * binding): 3 of 6 `bench:http` overload runs ended with exit code 134 before, none of 14 after.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFaceAnalyzer } from '../src/vision/pool.js';
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

/**
 * "Delete" deletes: after 1.4 the face's name, description, embedding, crop and original are found nowhere
 * in the data directory (database, WAL, image files) and the index no longer returns the face.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeCompact } from '../src/index/compact-codec.js';
import { filesContaining } from './helpers/data-dir.js';
import { Code, expectError, expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, fromDataUrl, samplePhoto } from './helpers/images.js';

type SearchData = { feature: number[] } & Record<string, { faceToken?: string }>;

describe('data protection', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp();
  });
  after(async () => {
    await api.close();
  });

  it('leaves no trace of a deleted image and its face in the data directory or the index', async () => {
    const original = samplePhoto(5);
    const name = Buffer.from('Zebulon Deleteme 7f3a');
    const description = Buffer.from('secret description 91c2');
    const { imageId, faceToken } = expectSuccess(
      await api.call<{ imageId: string; faceToken: string }>('POST', '/api/faces', { image: dataUrl(original), name: name.toString(), description: description.toString() }),
    );
    // A neighbour that stays, so the store and index are not simply empty afterwards.
    expectSuccess(await api.call('POST', '/api/faces', { image: dataUrl(samplePhoto(6)), name: 'Stays' }));
    const crop = fromDataUrl(expectSuccess(await api.call<{ image: string }>('GET', `/api/faces/faceToken/${faceToken}`)).image).bytes;
    const searchOriginal = () => api.call<SearchData>('POST', '/api/face/search', { image: dataUrl(original), group: ['default'], topN: 5, featureUpload: true });
    const probe = expectSuccess(await searchOriginal());
    assert.equal(probe.top1!.faceToken, faceToken);
    const embedding = Buffer.from(new Float32Array(probe.feature).buffer);

    // The traces are there before (the scan can see them) ...
    const dataDir = api.config.dataDir;
    // The compact record lives in visage-vectors.db (its code and int8 copy, without the scale's last bytes).
    const compact = Buffer.from(encodeCompact(new Float32Array(probe.feature)).subarray(0, 512));
    const traces = { name, description, embedding, compact, crop, original: original.subarray(4096, 4096 + 256) };
    for (const [what, bytes] of Object.entries(traces)) assert.notDeepEqual(filesContaining(dataDir, bytes), [], `${what} stored`);

    expectSuccess(await api.call('DELETE', `/api/faces/image/${imageId}`));

    // ... and gone after.
    for (const [what, bytes] of Object.entries(traces)) assert.deepEqual(filesContaining(dataDir, bytes), [], `${what} left behind`);
    expectError(await api.call('GET', `/api/faces/faceToken/${faceToken}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    const after = expectSuccess(await searchOriginal());
    for (const rank of ['top1', 'top2', 'top3', 'top4', 'top5']) assert.notEqual(after[rank]?.faceToken, faceToken);
  });
});

/** The optional biometric duplicate check at registration (VISAGE_DUPLICATE_THRESHOLD), on real photos. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, expectError, expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, portraitAround, samplePhoto, type Box } from './helpers/images.js';

interface Registered {
  imageId: string;
  faceToken: string;
  rect: Box;
}

describe('duplicate check at registration (extension, off by default)', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp({ duplicateThreshold: 80 });
  });
  after(async () => {
    await api.close();
  });

  const register = (image: Uint8Array, imageMd5: string) =>
    api.call<Registered>('POST', '/api/faces', { image: dataUrl(image), imageMd5, name: imageMd5, description: '' });

  it('refuses the same person\'s face under another imageId with FACE_ALREADY_EXIST and the enrolled faceToken', async () => {
    const first = expectSuccess(await register(samplePhoto(5), 'first'));
    // The same face in other pixels: cut out of the photo, scaled down and re-encoded.
    const portrait = await portraitAround(samplePhoto(5), first.rect, 0.5, 320);
    const refused = await register(portrait, 'second');
    expectError(refused, Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST');
    assert.deepEqual(refused.body.data, { faceToken: first.faceToken });
    expectError(await api.call('GET', '/api/faces/image/second'), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
    // Someone else registers normally.
    expectSuccess(await register(samplePhoto(3), 'someone-else'));
    const list = expectSuccess(await api.call<{ totalFaces: number }>('GET', '/api/faces?pageOffset=0&pageSize=10'));
    assert.equal(list.totalFaces, 2);
  });
});

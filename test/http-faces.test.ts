/** api.md section 1 through HTTP, on the real app: register, list, read, delete faces and images. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Code, expectError, expectSuccess, startTestApp, type FacePage, type ListedFace, type TestApp } from './helpers/http-app.js';
import { computedImageId, dataUrl, fromDataUrl, gradientImage, samplePhoto, toBmp, toPng } from './helpers/images.js';

interface WireRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
interface Registered {
  id: number;
  imageId: string;
  faceToken: string;
  rect: WireRect;
}
interface FaceRow extends ListedFace {
  id: number;
}
type FaceList = FacePage<FaceRow>;
interface FaceDetail {
  imageId: string;
  description: string;
  name: string;
  gender: string;
  rect: WireRect;
  faceGroupList: Array<{ groupId: string }>;
  image: string;
}
interface ImageDetail {
  image: string;
  faceToken: string[];
}

const FACE_TOKEN = /^[A-Za-z0-9_-]{24}$/;

function assertIntegerRect(rect: WireRect, width: number, height: number): void {
  for (const value of Object.values(rect)) assert.ok(Number.isInteger(value), `rect ${JSON.stringify(rect)} has a non-integer`);
  assert.ok(rect.left >= 0 && rect.left < rect.right && rect.right <= width, JSON.stringify(rect));
  assert.ok(rect.top >= 0 && rect.top < rect.bottom && rect.bottom <= height, JSON.stringify(rect));
}

describe('faces (api.md section 1)', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp();
  });
  after(async () => {
    await api.close();
  });

  const register = (image: string, fields: Record<string, unknown> = {}) =>
    api.call<Registered>('POST', '/api/faces', { image, description: '', imageMd5: '', name: '', gender: '', ...fields });

  describe('1.1 register', () => {
    it('registers the largest face of a JPEG data URL; imageId is the md5 of the bytes', async () => {
      const photo = samplePhoto(1);
      const data = expectSuccess(await register(dataUrl(photo), { description: 'sample1.jpg', name: 'Ann', gender: 'female' }));
      assert.ok(Number.isInteger(data.id) && data.id > 0);
      assert.equal(data.imageId, computedImageId(photo));
      assert.equal(data.imageId.length, 24);
      assert.match(data.faceToken, FACE_TOKEN);
      assertIntegerRect(data.rect, 1920, 1280);
      // The main face of the three: well over 100 px wide in a 1920-px photo.
      assert.ok(data.rect.right - data.rect.left > 150, JSON.stringify(data.rect));
    });

    it('refuses an imageId that exists (104204), but takes the same photo under another imageMd5', async () => {
      const photo = samplePhoto(1);
      expectError(await register(dataUrl(photo)), Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST');
      const copy = expectSuccess(await register(dataUrl(photo), { imageMd5: 'sample1-copy' }));
      assert.equal(copy.imageId, 'sample1-copy');
      assert.match(copy.faceToken, FACE_TOKEN);
      expectError(await register(dataUrl(photo), { imageMd5: 'sample1-copy' }), Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST');
    });

    it('accepts PNG without the data-URL prefix and keeps the original in its own format (1.6)', async () => {
      const png = await toPng(samplePhoto(6), 1280);
      const data = expectSuccess(await register(png.toString('base64'), { description: 'sample6.png' }));
      const image = expectSuccess(await api.call<ImageDetail>('GET', `/api/faces/image/${data.imageId}`));
      const original = fromDataUrl(image.image);
      assert.equal(original.mime, 'image/png');
      assert.ok(original.bytes.equals(png));
      assert.deepEqual(image.faceToken, [data.faceToken]);
    });

    it('accepts BMP as line-wrapped base64 and returns it as image/bmp', async () => {
      const bmp = await toBmp(samplePhoto(6), 960);
      const wrapped = bmp.toString('base64').replace(/.{76}/g, '$&\r\n');
      const data = expectSuccess(await register(`data:image/bmp;base64,${wrapped}`, { description: 'sample6.bmp' }));
      const image = expectSuccess(await api.call<ImageDetail>('GET', `/api/faces/image/${data.imageId}`));
      const original = fromDataUrl(image.image);
      assert.equal(original.mime, 'image/bmp');
      assert.ok(original.bytes.equals(bmp));
    });

    it('counts text limits in UTF-8 bytes: exactly at the limit is accepted and returned unchanged', async () => {
      const fields = {
        description: '中'.repeat(85), // 255 bytes, 85 characters
        name: 'é'.repeat(64), // 128 bytes
        gender: '女'.repeat(5) + 'x', // 16 bytes
        imageMd5: 'A'.repeat(30) + '_-', // 32 bytes
      };
      const data = expectSuccess(await register(dataUrl(samplePhoto(1)), fields));
      assert.equal(data.imageId, fields.imageMd5);
      const face = expectSuccess(await api.call<FaceDetail>('GET', `/api/faces/faceToken/${data.faceToken}`));
      assert.equal(face.description, fields.description);
      assert.equal(face.name, fields.name);
      assert.equal(face.gender, fields.gender);
    });

    it('rejects text one byte over the limit, naming the field (100001)', async () => {
      const image = dataUrl(samplePhoto(1));
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ description: '中'.repeat(85) + 'a' }, 'description'], // 256 bytes
        [{ description: '😀'.repeat(64) }, 'description'], // 256 bytes, 128 UTF-16 units
        [{ name: 'é'.repeat(64) + 'a' }, 'name'],
        [{ gender: '女'.repeat(6) }, 'gender'], // 18 bytes, 6 characters
        [{ imageMd5: 'A'.repeat(33) }, 'imageMd5'],
        [{ imageMd5: 'a/b' }, 'imageMd5'], // not URL-safe
        [{ imageMd5: '中' }, 'imageMd5'],
        [{ name: 42 }, 'name'],
        [{ description: ['x'] }, 'description'],
      ];
      for (const [fields, field] of cases) {
        expectError(await register(image, fields), Code.INVALID_PARAM, `INVALID_PARAM:${field}`);
      }
    });

    it('treats null and absent optional fields as empty strings', async () => {
      const photo = await toPng(samplePhoto(5), 1600);
      const reply = await api.call<Registered>('POST', '/api/faces', { image: dataUrl(photo, 'image/png'), description: null, name: null });
      const data = expectSuccess(reply);
      assert.equal(data.imageId, computedImageId(photo));
      const face = expectSuccess(await api.call<FaceDetail>('GET', `/api/faces/faceToken/${data.faceToken}`));
      assert.deepEqual([face.description, face.name, face.gender], ['', '', '']);
    });

    it('requires the image: missing, empty, wrong type → 100001', async () => {
      expectError(await api.call('POST', '/api/faces', { description: 'x' }), Code.INVALID_PARAM, 'INVALID_PARAM:image');
      expectError(await register(''), Code.INVALID_PARAM, 'INVALID_PARAM:image');
      expectError(await register('data:image/jpeg;base64,'), Code.INVALID_PARAM, 'INVALID_PARAM:image');
      expectError(await api.call('POST', '/api/faces', { image: 12 }), Code.INVALID_PARAM, 'INVALID_PARAM:image');
      expectError(await api.call('POST', '/api/faces', { image: null }), Code.INVALID_PARAM, 'INVALID_PARAM:image');
    });

    it('refuses text that is not strict base64 (104202 NOT_BASE64)', async () => {
      for (const text of ['not base64!', 'data:image/png;base64,@@@@', 'QUJD=QUJD', 'QUJDR', 'QUJD-_8=', 'data:image/png,QUJD']) {
        expectError(await register(text), Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64');
      }
    });

    it('refuses images over 4 MB decoded (104202 TOO_LARGE)', async () => {
      const tooLarge = Buffer.alloc(4 * 1024 * 1024 + 1, 7);
      expectError(await register(tooLarge.toString('base64')), Code.IMAGE_INVALID, 'IMAGE_INVALID:TOO_LARGE');
    });

    it('refuses undecodable, unsupported, too small and too big images (104202)', async () => {
      const gif = await sharp(await gradientImage(200, 200)).gif().toBuffer();
      const truncatedJpeg = samplePhoto(1).subarray(0, 4000);
      const tooSmall = await gradientImage(99, 300);
      const tooWide = await gradientImage(4100, 200);
      const tooTall = await gradientImage(200, 4100);
      for (const bytes of [Buffer.from('just some text, not a picture'), gif, truncatedJpeg, tooSmall, tooWide, tooTall]) {
        expectError(await register(bytes.toString('base64')), Code.IMAGE_INVALID, /^IMAGE_INVALID:[A-Z_]+$/);
      }
    });

    it('refuses a picture without a face (104200)', async () => {
      const noFace = await gradientImage(640, 480, 'jpeg');
      expectError(await register(dataUrl(noFace)), Code.FACE_NOT_FOUND, 'FACE_NOT_FOUND');
    });

    it('refuses a blurred face at the quality gate (104201 BAD_QUALITY:<reasons>)', async () => {
      const blurred = await sharp(samplePhoto(1)).blur(8).jpeg().toBuffer();
      const reply = await register(dataUrl(blurred));
      expectError(reply, Code.BAD_QUALITY, /^BAD_QUALITY:((ANGLE|BLUR|BRIGHTNESS|CONTRAST|SIZE),)*(ANGLE|BLUR|BRIGHTNESS|CONTRAST|SIZE)$/);
      assert.ok(reply.body.msg.split(':')[1]!.split(',').includes('BLUR'), reply.body.msg);
      const data = reply.body.data as unknown as Record<string, unknown>;
      for (const key of ['yaw', 'pitch', 'roll', 'blurness', 'brightness', 'contrast', 'faceSize']) {
        assert.equal(typeof data[key], 'number', `data.${key} echoes the measured value`);
      }
    });
  });

  describe('1.2 list', () => {
    it('lists faces in registration order with id, imageId/imgId/imgeld, texts', async () => {
      const all = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageOffset=0&pageSize=1000'));
      assert.equal(all.totalFaces, all.face.length);
      assert.ok(all.totalFaces >= 5);
      const ids = all.face.map((row) => row.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      const first = all.face[0]!;
      assert.deepEqual(Object.keys(first).sort(), ['description', 'faceToken', 'gender', 'id', 'imageId', 'imgId', 'imgeld', 'name']);
      assert.equal(first.imageId, computedImageId(samplePhoto(1)));
      assert.equal(first.imgId, first.imageId);
      assert.equal(first.imgeld, first.imageId);
      assert.deepEqual([first.description, first.name, first.gender], ['sample1.jpg', 'Ann', 'female']);
    });

    it('pages by item offset; defaults to offset 0, size 20', async () => {
      const all = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageSize=1000')).face;
      const page = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageOffset=1&pageSize=2'));
      assert.equal(page.totalFaces, all.length);
      assert.deepEqual(page.face, all.slice(1, 3));
      const defaults = expectSuccess(await api.call<FaceList>('GET', '/api/faces'));
      assert.deepEqual(defaults.face, all.slice(0, 20));
      const beyond = expectSuccess(await api.call<FaceList>('GET', `/api/faces?pageOffset=${all.length}&pageSize=1`));
      assert.deepEqual(beyond, { totalFaces: all.length, face: [] });
      expectSuccess(await api.call('GET', '/api/faces?pageSize=1'));
    });

    it('rejects page parameters out of range or not integers (100001)', async () => {
      const cases: Array<[string, string]> = [
        ['pageSize=0', 'pageSize'],
        ['pageSize=1001', 'pageSize'],
        ['pageSize=abc', 'pageSize'],
        ['pageSize=2.5', 'pageSize'],
        ['pageSize=-1', 'pageSize'],
        ['pageSize=1&pageSize=2', 'pageSize'],
        ['pageOffset=-1', 'pageOffset'],
        ['pageOffset=x', 'pageOffset'],
        ['pageOffset=99999999999999999999', 'pageOffset'],
      ];
      for (const [query, field] of cases) {
        expectError(await api.call('GET', `/api/faces?${query}`), Code.INVALID_PARAM, `INVALID_PARAM:${field}`);
      }
      expectSuccess(await api.call('GET', '/api/faces?pageSize=1000'));
    });
  });

  describe('1.3–1.7 read and delete', () => {
    it('1.5 returns the face: texts, rect, groups, JPEG crop', async () => {
      const row = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageSize=1')).face[0]!;
      const face = expectSuccess(await api.call<FaceDetail>('GET', `/api/faces/faceToken/${row.faceToken}`));
      assert.equal(face.imageId, row.imageId);
      assert.deepEqual([face.description, face.name, face.gender], [row.description, row.name, row.gender]);
      assertIntegerRect(face.rect, 1920, 1280);
      assert.deepEqual(face.faceGroupList, [{ groupId: 'default' }]);
      const crop = fromDataUrl(face.image);
      assert.equal(crop.mime, 'image/jpeg');
      assert.equal((await sharp(crop.bytes).metadata()).format, 'jpeg');
    });

    it('1.3 deletes a face; the image and its imageId stay (1.6 shows no token)', async () => {
      const photo = await toPng(samplePhoto(3), 1600);
      const data = expectSuccess(await register(dataUrl(photo, 'image/png')));
      expectSuccess(await api.call('DELETE', `/api/faces/${data.faceToken}`));
      expectError(await api.call('GET', `/api/faces/faceToken/${data.faceToken}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('DELETE', `/api/faces/${data.faceToken}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      const image = expectSuccess(await api.call<ImageDetail>('GET', `/api/faces/image/${data.imageId}`));
      assert.deepEqual(image.faceToken, []);
      assert.ok(fromDataUrl(image.image).bytes.equals(photo));
      // The imageId stays taken.
      expectError(await register(dataUrl(photo, 'image/png')), Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST');
      const listed = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageSize=1000'));
      assert.ok(!listed.face.some((row) => row.faceToken === data.faceToken));
    });

    it('1.4 deletes an image with its faces', async () => {
      const data = expectSuccess(await register(dataUrl(samplePhoto(2)), { imageMd5: 'to-be-deleted' }));
      expectSuccess(await api.call('DELETE', '/api/faces/image/to-be-deleted'));
      expectError(await api.call('GET', '/api/faces/image/to-be-deleted'), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
      expectError(await api.call('GET', `/api/faces/faceToken/${data.faceToken}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('DELETE', '/api/faces/image/to-be-deleted'), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
    });

    it('answers unknown and impossible identifiers with the not-exist codes', async () => {
      const tooLong = 'x'.repeat(33);
      expectError(await api.call('GET', '/api/faces/faceToken/unknownToken'), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('GET', `/api/faces/faceToken/${tooLong}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('DELETE', `/api/faces/${tooLong}`), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
      expectError(await api.call('GET', '/api/faces/image/unknownImage'), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
      expectError(await api.call('GET', `/api/faces/image/${tooLong}`), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
      expectError(await api.call('DELETE', `/api/faces/image/${encodeURIComponent('中'.repeat(11))}`), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
    });

    it('1.7 wipes every image and face; groups stay', async () => {
      expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'keeps', groupName: 'keeps' }));
      const before = expectSuccess(await api.call<FaceList>('GET', '/api/faces?pageSize=1000'));
      assert.ok(before.totalFaces > 0);
      expectSuccess(await api.call('DELETE', '/api/faces/facesLib'));
      assert.deepEqual(expectSuccess(await api.call<FaceList>('GET', '/api/faces')), { totalFaces: 0, face: [] });
      expectError(await api.call('GET', `/api/faces/image/${before.face[0]!.imageId}`), Code.IMAGE_ID_NOT_EXIST, 'IMAGE_ID_NOT_EXIST');
      const groups = expectSuccess(await api.call<{ faceGroupList: Array<{ groupId: string; groupFaces: number }> }>('GET', '/api/faceGroups'));
      assert.deepEqual(
        groups.faceGroupList.map((group) => [group.groupId, group.groupFaces]),
        [
          ['default', 0],
          ['keeps', 0],
        ],
      );
      // The wiped photo can be registered again.
      expectSuccess(await register(dataUrl(samplePhoto(1))));
    });
  });
});

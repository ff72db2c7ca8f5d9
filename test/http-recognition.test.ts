/** api.md section 3 through HTTP, on the real models: 1:1 compare and 1:N search. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, expectError, expectSuccess, startTestApp, type TestApp } from './helpers/http-app.js';
import { dataUrl, fromDataUrl, gradientImage, portraitAround, samplePhoto, type Box } from './helpers/images.js';

interface DetectionResult {
  left: number;
  top: number;
  right: number;
  bottom: number;
  roll: number;
  yaw: number;
  pitch: number;
  blurness: number;
  blurriness: number;
  quality: number;
  livenessScore?: number;
  liveness?: boolean;
}
interface CompareData {
  compareScore: number;
  detectionResult1: DetectionResult;
  detectionResult2: DetectionResult;
}
interface Hit {
  group: Array<{ groupId: string }>;
  searchScore: number;
  far: number;
  faceToken: string;
  imageId: string;
  description: string;
  name: string;
  gender: string;
  imageUrl: string;
}
type Rank = 'top1' | 'top2' | 'top3' | 'top4' | 'top5';
type Ranked = Record<Rank, Hit | Record<string, never>>;
type SearchData = { detectionResult: DetectionResult; feature?: number[]; featureModel?: string; faces?: Array<{ detectionResult: DetectionResult } & Ranked> } & Ranked;
interface Registered {
  imageId: string;
  faceToken: string;
  rect: Box;
}

const RANKS: Rank[] = ['top1', 'top2', 'top3', 'top4', 'top5'];

const wireBox = ({ left, top, right, bottom }: Box): Box => ({ left, top, right, bottom });

function assertDetectionResult(result: DetectionResult, liveness: boolean): void {
  for (const key of ['left', 'top', 'right', 'bottom', 'roll', 'yaw', 'pitch'] as const) {
    assert.ok(Number.isInteger(result[key]), `${key} = ${result[key]} is not an integer`);
  }
  assert.ok(result.left < result.right && result.top < result.bottom);
  assert.equal(result.blurriness, result.blurness);
  assert.ok(result.blurness >= 0 && result.blurness <= 100);
  assert.ok(result.quality >= 0 && result.quality <= 1);
  if (liveness) {
    assert.ok(result.livenessScore !== undefined && result.livenessScore >= 0 && result.livenessScore <= 100);
    assert.equal(result.liveness, result.livenessScore >= 50, 'liveness: livenessScore ≥ the default threshold 50');
  } else {
    assert.equal('livenessScore' in result, false);
    assert.equal('liveness' in result, false);
  }
}

function hits(data: Ranked): Hit[] {
  const found: Hit[] = [];
  for (const rank of RANKS) {
    const entry = data[rank];
    assert.ok(entry !== undefined, `${rank} is missing`);
    if (Object.keys(entry).length > 0) {
      assert.equal(found.length, RANKS.indexOf(rank), 'hits fill top1.. without gaps');
      found.push(entry as Hit);
    }
  }
  return found;
}

describe('recognition (api.md section 3)', () => {
  let api: TestApp;
  /** The largest face of sample5, registered twice (imageMd5 `ann`, `ann-copy`), bound to `staff`. */
  let ann: Registered;
  let annCopy: Registered;
  /** The largest face of sample3, bound to `others`. */
  let bea: Registered;
  /** Portraits cut around those faces and scaled down: the same people in other pixels. */
  let annPortrait: string;
  let beaPortrait: string;
  before(async () => {
    api = await startTestApp();
    const register = async (image: Buffer, imageMd5: string, name: string) =>
      expectSuccess(await api.call<Registered>('POST', '/api/faces', { image: dataUrl(image), imageMd5, name, description: `${name}.jpg` }));
    ann = await register(samplePhoto(5), 'ann', 'Ann');
    annCopy = await register(samplePhoto(5), 'ann-copy', 'Ann again');
    bea = await register(samplePhoto(3), 'bea', 'Bea');
    annPortrait = dataUrl(await portraitAround(samplePhoto(5), ann.rect, 0.5, 320));
    beaPortrait = dataUrl(await portraitAround(samplePhoto(3), bea.rect, 0.5, 320));
    expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'staff', groupName: 'staff' }));
    expectSuccess(await api.call('POST', '/api/faceGroups', { groupId: 'others', groupName: 'others' }));
    expectSuccess(await api.call('POST', `/api/faceGroups/binding/${ann.faceToken}`, { faceGroupList: ['staff'] }));
    expectSuccess(await api.call('POST', `/api/faceGroups/binding/${bea.faceToken}`, { faceGroupList: ['others'] }));
  });
  after(async () => {
    await api.close();
  });

  const search = (body: Record<string, unknown>) => api.call<SearchData>('POST', '/api/face/search', body);
  const compare = (body: Record<string, unknown>) => api.call<CompareData>('POST', '/api/face/compare', body);

  describe('3.1 compare', () => {
    it('scores the same photo 100 and describes both faces', async () => {
      const photo = dataUrl(samplePhoto(5));
      const data = expectSuccess(await compare({ image1: photo, image2: photo, livenessEnabled: false }));
      assert.equal(data.compareScore, 100);
      assertDetectionResult(data.detectionResult1, false);
      assertDetectionResult(data.detectionResult2, false);
      assert.deepEqual(data.detectionResult1, data.detectionResult2);
    });

    it('scores the same face cut out and scaled down above the 1e-4 mark (80)', async () => {
      const data = expectSuccess(await compare({ image1: dataUrl(samplePhoto(5)), image2: annPortrait }));
      assert.ok(data.compareScore >= 80, `same face scored ${data.compareScore}`);
    });

    it('scores two different people low (below the 1e-2 mark, 60)', async () => {
      const data = expectSuccess(await compare({ image1: annPortrait, image2: beaPortrait }));
      assert.ok(data.compareScore >= 0 && data.compareScore < 60, `different people scored ${data.compareScore}`);
    });

    it('adds livenessScore (0..100) only when asked', async () => {
      const data = expectSuccess(await compare({ image1: annPortrait, image2: beaPortrait, livenessEnabled: true }));
      assertDetectionResult(data.detectionResult1, true);
      assertDetectionResult(data.detectionResult2, true);
    });

    it('answers 104200 when either image has no face', async () => {
      const noFace = dataUrl(await gradientImage(400, 300, 'jpeg'));
      expectError(await compare({ image1: annPortrait, image2: noFace }), Code.FACE_NOT_FOUND, 'FACE_NOT_FOUND');
      expectError(await compare({ image1: noFace, image2: annPortrait }), Code.FACE_NOT_FOUND, 'FACE_NOT_FOUND');
    });

    it('validates its fields (100001, 104202)', async () => {
      const photo = annPortrait;
      expectError(await compare({ image2: photo }), Code.INVALID_PARAM, 'INVALID_PARAM:image1');
      expectError(await compare({ image1: photo }), Code.INVALID_PARAM, 'INVALID_PARAM:image2');
      expectError(await compare({ image1: photo, image2: photo, livenessEnabled: 'yes' }), Code.INVALID_PARAM, 'INVALID_PARAM:livenessEnabled');
      expectError(await compare({ image1: 'data:image/png;base64,%%%', image2: photo }), Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64');
      expectError(await compare({ image1: photo, image2: Buffer.from('plain text').toString('base64') }), Code.IMAGE_INVALID, /^IMAGE_INVALID:/);
    });
  });

  describe('3.2 search', () => {
    it('finds a registered face in its group with a high score; the other ranks are {}', async () => {
      const data = expectSuccess(await search({ image: annPortrait, group: ['staff'], topN: 5 }));
      assertDetectionResult(data.detectionResult, false);
      const found = hits(data);
      assert.equal(found.length, 1, 'only Ann is in staff');
      const hit = found[0]!;
      assert.equal(hit.faceToken, ann.faceToken);
      assert.equal(hit.imageId, 'ann');
      assert.deepEqual([hit.name, hit.description, hit.gender], ['Ann', 'Ann.jpg', '']);
      assert.ok(hit.searchScore >= 80, `score ${hit.searchScore}`);
      // Extension: the calibrated false-accept rate of the score; at or above 80 it is at most 1e-4.
      assert.ok(hit.far > 0 && hit.far <= 1e-4, `far ${hit.far}`);
      assert.equal('faces' in data, false, 'faces only with allFaces');
      assert.deepEqual(hit.group.map((entry) => entry.groupId).sort(), ['default', 'staff']);
      assert.equal(fromDataUrl(hit.imageUrl).mime, 'image/jpeg');
      for (const rank of RANKS.slice(1)) assert.deepEqual(data[rank], {});
      assert.equal('feature' in data, false);
    });

    it('does not find a face whose groups are not searched', async () => {
      const data = expectSuccess(await search({ image: annPortrait, group: ['others'], topN: 5 }));
      for (const rank of RANKS) assert.deepEqual(data[rank], {});
    });

    it('respects topN and orders hits by descending score', async () => {
      const image = annPortrait;
      const one = hits(expectSuccess(await search({ image, group: ['default'], topN: 1 })));
      assert.equal(one.length, 1);
      const byDefault = hits(expectSuccess(await search({ image, group: ['default'] })));
      assert.equal(byDefault.length, 1, 'topN defaults to 1');
      const five = hits(expectSuccess(await search({ image, group: ['default'], topN: 5 })));
      assert.deepEqual(five.map((hit) => hit.faceToken).sort(), [ann.faceToken, annCopy.faceToken].sort(), 'Ann twice, never Bea');
      assert.ok(five[0]!.searchScore >= five[1]!.searchScore);
      assert.ok(five.every((hit) => hit.searchScore >= 80));
    });

    it('applies each group\'s groupScore as the hit threshold', async () => {
      // Bea against both groups: Ann is a candidate but scores under staff's threshold.
      const data = expectSuccess(await search({ image: beaPortrait, group: ['staff', 'others'], topN: 5 }));
      assert.deepEqual(hits(data).map((hit) => hit.faceToken), [bea.faceToken]);
      // With a threshold of 0 every member of the group is a hit, whoever it is.
      expectSuccess(await api.call('PUT', '/api/faceGroups', { groupId: 'others', groupScore: 0 }));
      const lenient = expectSuccess(await search({ image: annPortrait, group: ['others'], topN: 5 }));
      assert.deepEqual(hits(lenient).map((hit) => hit.faceToken), [bea.faceToken]);
      expectSuccess(await api.call('PUT', '/api/faceGroups', { groupId: 'others', groupScore: 80 }));
    });

    it('returns the query embedding and model with featureUpload, liveness when asked', async () => {
      const data = expectSuccess(await search({ image: annPortrait, group: ['staff'], featureUpload: true, livenessEnabled: true }));
      assertDetectionResult(data.detectionResult, true);
      assert.ok(Array.isArray(data.feature) && data.feature.length >= 128);
      assert.ok(data.feature.every((value) => typeof value === 'number' && Number.isFinite(value)));
      const norm = Math.sqrt(data.feature.reduce((sum, value) => sum + value * value, 0));
      assert.ok(Math.abs(norm - 1) < 1e-3, `embedding norm ${norm}`);
      assert.equal(typeof data.featureModel, 'string');
      assert.ok(data.featureModel!.length > 0);
    });

    it('with allFaces searches every face of the photo, largest first, beside the main face\'s usual fields', async () => {
      const photo = dataUrl(samplePhoto(5));
      const data = expectSuccess(await search({ image: photo, group: ['default'], topN: 5, allFaces: true }));
      const faces = data.faces!;
      assert.ok(faces.length >= 3, `sample5 shows several people, found ${faces.length}`);
      const area = (r: DetectionResult) => (r.right - r.left) * (r.bottom - r.top);
      for (let i = 1; i < faces.length; i++) assert.ok(area(faces[i - 1]!.detectionResult) >= area(faces[i]!.detectionResult));
      for (const face of faces) assertDetectionResult(face.detectionResult, false);
      // The main face (Ann, registered twice) is among them with the same hits as top1..; nobody else is enrolled.
      const main = faces.filter((face) => JSON.stringify(face.detectionResult) === JSON.stringify(data.detectionResult));
      assert.equal(main.length, 1);
      assert.deepEqual(hits(main[0]!).map((hit) => hit.faceToken).sort(), [ann.faceToken, annCopy.faceToken].sort());
      assert.deepEqual(hits(main[0]!), hits(data));
      for (const other of faces.filter((face) => face !== main[0])) assert.deepEqual(hits(other), [], 'strangers find nobody');
      // sample3's other faces are not Bea: only one face of that photo finds her.
      const group = expectSuccess(await search({ image: dataUrl(samplePhoto(3)), group: ['others'], topN: 5, allFaces: true }));
      assert.deepEqual(group.faces!.flatMap((face) => hits(face).map((hit) => hit.faceToken)), [bea.faceToken]);
    });

    it('answers 104311 when any searched group is unknown', async () => {
      const image = annPortrait;
      expectError(await search({ image, group: ['nope'] }), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
      expectError(await search({ image, group: ['staff', 'nope'] }), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
    });

    it('answers 104200 for a picture without a face', async () => {
      const noFace = dataUrl(await gradientImage(400, 300, 'png'), 'image/png');
      expectError(await search({ image: noFace, group: ['staff'] }), Code.FACE_NOT_FOUND, 'FACE_NOT_FOUND');
    });

    it('validates its fields (100001, 104202)', async () => {
      const image = annPortrait;
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ group: ['staff'] }, 'image'],
        [{ image }, 'group'],
        [{ image, group: [] }, 'group'],
        [{ image, group: 'staff' }, 'group'],
        [{ image, group: [3] }, 'group'],
        [{ image, group: ['staff'], topN: 0 }, 'topN'],
        [{ image, group: ['staff'], topN: 6 }, 'topN'],
        [{ image, group: ['staff'], topN: 2.5 }, 'topN'],
        [{ image, group: ['staff'], topN: '3' }, 'topN'],
        [{ image, group: ['staff'], livenessEnabled: 1 }, 'livenessEnabled'],
        [{ image, group: ['staff'], featureUpload: 'true' }, 'featureUpload'],
      ];
      for (const [body, field] of cases) expectError(await search(body), Code.INVALID_PARAM, `INVALID_PARAM:${field}`);
      expectError(await search({ image: 'QUJ@', group: ['staff'] }), Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64');
    });
  });

  describe('extension: POST /api/face/detect', () => {
    interface DetectData {
      faceNum: number;
      faces: Array<DetectionResult & { brightness: number; contrast: number; faceSize: number }>;
    }
    const detect = (body: Record<string, unknown>) => api.call<DetectData>('POST', '/api/face/detect', body);

    it('lists every face, the main one first: the face compare, search and registration take', async () => {
      const photo = dataUrl(samplePhoto(5));
      const data = expectSuccess(await detect({ image: photo }));
      assert.ok(data.faceNum > 1, 'sample5 shows several people');
      assert.equal(data.faces.length, data.faceNum);
      for (const face of data.faces) {
        assertDetectionResult(face, false);
        assert.ok(face.faceSize > 0 && face.brightness > 0 && face.contrast > 0);
      }
      const [main] = data.faces;
      assert.deepEqual(wireBox(main!), ann.rect, 'the main face is the registered one');
      const searched = expectSuccess(await search({ image: photo, group: ['staff'] }));
      assert.deepEqual(wireBox(searched.detectionResult), ann.rect);
    });

    it('answers an empty list for a picture without a face, liveness when asked, and validates its fields', async () => {
      const noFace = dataUrl(await gradientImage(400, 300, 'png'), 'image/png');
      assert.deepEqual(expectSuccess(await detect({ image: noFace })), { faceNum: 0, faces: [] });
      const live = expectSuccess(await detect({ image: annPortrait, livenessEnabled: true }));
      assertDetectionResult(live.faces[0]!, true);
      expectError(await detect({}), Code.INVALID_PARAM, 'INVALID_PARAM:image');
      expectError(await detect({ image: annPortrait, livenessEnabled: 'yes' }), Code.INVALID_PARAM, 'INVALID_PARAM:livenessEnabled');
      expectError(await detect({ image: 'QUJ@' }), Code.IMAGE_INVALID, 'IMAGE_INVALID:NOT_BASE64');
    });
  });
});

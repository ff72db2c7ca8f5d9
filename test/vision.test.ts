/**
 * The vision pipeline on real photos (the demo group photos of @vladmandic/face-api): decoding and its
 * limits, detection, alignment geometry, embeddings, and the calibrated score scale.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { VisageError } from '../src/errors.js';
import { loadScoreScale } from '../src/recognition/calibration.js';
import { similarity } from '../src/vision/align.js';
import { decodeImage } from '../src/vision/decode.js';
import { DEFAULT_DETECTOR_OPTIONS, FaceDetector, type Detection } from '../src/vision/detect.js';
import { cosine } from '../src/vision/embed.js';
import { prominence } from '../src/vision/geometry.js';
import { loadModel } from '../src/vision/onnx.js';
import { PoseModel, poseBox, POSE_INPUT_SIZE } from '../src/vision/pose.js';
import { areaShrink } from '../src/vision/area-shrink.js';
import { cropResize, resize, ScaledPhoto, type Raster } from '../src/vision/raster.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { FaceAnalyzer } from '../src/vision/types.js';
import { encodeBmp24, samplePhoto, type SampleNumber } from './helpers/images.js';

async function rejectsImage(promise: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VisageError);
    assert.equal(error.message, `IMAGE_INVALID:${reason}`);
    return true;
  });
}

describe('decode', () => {
  it('reads BMP pixel for pixel like the PNG it was made from', async () => {
    const { data, info } = await sharp(samplePhoto(6)).resize(320).raw().toBuffer({ resolveWithObject: true });
    const bmp = encodeBmp24(data, info.width, info.height);
    const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
    const fromBmp = await decodeImage(bmp);
    const fromPng = await decodeImage(png);
    assert.equal(fromBmp.format, 'bmp');
    assert.equal(fromPng.format, 'png');
    assert.deepEqual([fromBmp.raster.width, fromBmp.raster.height], [info.width, info.height]);
    assert.deepEqual(Buffer.from(fromBmp.raster.data), Buffer.from(fromPng.raster.data));
  });

  it('applies EXIF orientation', async () => {
    const rotated = await sharp(samplePhoto(6)).resize(400).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const meta = await sharp(rotated).metadata();
    const { raster } = await decodeImage(rotated);
    // Orientation 6 means "rotate 90° clockwise to display": the decoded raster is the displayed, upright one.
    assert.equal(raster.width, meta.height);
    assert.equal(raster.height, meta.width);
  });

  it('refuses what the spec does not accept, from the header, before decoding pixels', async () => {
    await rejectsImage(decodeImage(new Uint8Array()), 'EMPTY');
    await rejectsImage(decodeImage(await sharp(samplePhoto(1)).resize(300).gif().toBuffer()), 'UNSUPPORTED_FORMAT');
    await rejectsImage(decodeImage(await sharp(samplePhoto(1)).resize(300).tiff().toBuffer()), 'UNSUPPORTED_FORMAT');
    await rejectsImage(decodeImage(await sharp(samplePhoto(1)).resize(99, 150, { fit: 'fill' }).png().toBuffer()), 'TOO_SMALL');
    await rejectsImage(decodeImage(samplePhoto(1).subarray(0, 3000)), 'CORRUPT');
    // A 10000×10000 PNG of one colour is well under 1 MB: refused by its header, never inflated.
    const bomb = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: '#000' } }).png().toBuffer();
    assert.ok(bomb.length < 1_000_000);
    await rejectsImage(decodeImage(bomb), 'TOO_BIG_DIMENSIONS');
    // 4096×2160 is allowed in either orientation; beyond it is not.
    const tall = await sharp({ create: { width: 2160, height: 4096, channels: 3, background: '#444' } }).jpeg().toBuffer();
    assert.equal((await decodeImage(tall)).raster.height, 4096);
    const wide = await sharp({ create: { width: 4097, height: 1000, channels: 3, background: '#444' } }).jpeg().toBuffer();
    await rejectsImage(decodeImage(wide), 'TOO_BIG_DIMENSIONS');
  });
});

describe('alignment geometry', () => {
  it('recovers a known similarity transform exactly', () => {
    const from: Array<[number, number]> = [[10, 20], [50, 22], [30, 40], [15, 60], [45, 61]];
    const [scale, angle, tx, ty] = [1.7, 0.3, 12, -7];
    const a = scale * Math.cos(angle);
    const b = scale * Math.sin(angle);
    const to = from.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty] as [number, number]);
    const m = similarity(from, to);
    for (const [i, expected] of [a, -b, tx, b, a, ty].entries()) assert.ok(Math.abs(m[i]! - expected) < 1e-9);
  });
});

describe('detection of the main face only', () => {
  let runs = 0;
  let detector: FaceDetector;
  before(async () => {
    detector = new FaceDetector(await loadModel('models', 'fr_detect.onnx', () => runs++));
  });

  async function both(bytes: Uint8Array): Promise<{ full: Detection | undefined; main: Detection[]; fullRuns: number; mainRuns: number }> {
    const { raster } = await decodeImage(bytes);
    runs = 0;
    const full = (await detector.detect(new ScaledPhoto(raster))).sort((a, b) => prominence(b, raster) - prominence(a, raster))[0];
    const fullRuns = runs;
    runs = 0;
    const main = await detector.detect(new ScaledPhoto(raster), { mainFaceOnly: true });
    return { full, main, fullRuns, mainRuns: runs };
  }

  it('gives the main face of the full pass, box and score, with fewer network runs on the demo photos', async () => {
    for (const sample of [1, 2, 3, 4, 5, 6] as SampleNumber[]) {
      const { full, main, fullRuns, mainRuns } = await both(samplePhoto(sample));
      assert.ok(full, `sample${sample}`);
      assert.deepEqual(main, [full], `sample${sample}`);
      assert.ok(mainRuns < fullRuns, `sample${sample}: ${mainRuns} runs against ${fullRuns}`);
    }
  });

  it('keeps the whole-pass box of a large face and runs no tile for it', async () => {
    const wholeOnly = new FaceDetector(await loadModel('models', 'fr_detect.onnx'), { ...DEFAULT_DETECTOR_OPTIONS, tileAbove: Number.POSITIVE_INFINITY });
    for (const sample of [1, 3, 6] as SampleNumber[]) {
      const bytes = await closeUp(detector, sample);
      const { full, main, mainRuns } = await both(bytes);
      const { raster } = await decodeImage(bytes);
      const [whole] = await wholeOnly.detect(new ScaledPhoto(raster), { mainFaceOnly: true });
      assert.deepEqual(main, [full], `sample${sample}`);
      assert.deepEqual(main, [whole], `sample${sample}: the tiles changed the box of a large face`);
      // No tile level ran (that is 6 runs or more at 1080p): the whole pass and at most two second looks. One
      // close-up takes two since the detector's input is an area average (a second look at a cut-off neighbour).
      assert.ok(mainRuns <= 3, `sample${sample}: ${mainRuns} runs (the whole pass, at most two second looks)`);
    }
  });

  it('keeps the whole-pass box of a sole half-body face (~38 px on the whole-pass input) and runs no tile for it', async () => {
    const wholeOnly = new FaceDetector(await loadModel('models', 'fr_detect.onnx'), { ...DEFAULT_DETECTOR_OPTIONS, tileAbove: Number.POSITIVE_INFINITY });
    for (const sample of [1, 2, 5] as SampleNumber[]) {
      // The close-up at 40 % in the middle of a 1080p canvas: one face, ~180 px wide (the others show a neighbour).
      const shrunk = await sharp(await closeUp(detector, sample)).resize(768, 432, { fit: 'fill' }).toBuffer();
      const bytes = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#777' } })
        .composite([{ input: shrunk, left: 576, top: 324 }])
        .jpeg()
        .toBuffer();
      const { full, main, mainRuns } = await both(bytes);
      const { raster } = await decodeImage(bytes);
      const [whole] = await wholeOnly.detect(new ScaledPhoto(raster), { mainFaceOnly: true });
      assert.ok(whole, `sample${sample}`);
      const side = Math.sqrt(((whole.x2 - whole.x1) * (whole.y2 - whole.y1)) / ((1920 / 320) * (1080 / 240)));
      assert.ok(side > 30 && side < 48, `sample${sample}: ${side} px on the whole-pass input`);
      assert.deepEqual(main, [full], `sample${sample}`);
      assert.deepEqual(main, [whole], `sample${sample}: the tiles changed the box`);
      assert.ok(mainRuns <= 2, `sample${sample}: ${mainRuns} runs`);
    }
  });

  it('lets the tiles size a medium face that has company, so a loose whole-pass box cannot make it the main one', async () => {
    // sample2: the main face is the frontal one in the middle (x ≈ 890–1070). The whole pass boxes the profile
    // at the left edge 168×287 px (the tiles: ~170×220), which outranked it when such faces kept that box.
    const [main] = await detector.detect(new ScaledPhoto((await decodeImage(samplePhoto(2))).raster), { mainFaceOnly: true });
    assert.ok(main && main.x1 > 800 && main.x2 < 1150, JSON.stringify(main));
  });

  it('runs every tile when the main face is small enough for a face only tiles see to outrank it', async () => {
    // The demo photo at 1/3 in a corner of a 1920×1080 canvas: faces of ~70 px, 12 px on the whole-pass input.
    const small = await sharp(samplePhoto(6)).resize(640).toBuffer();
    const canvas = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#777' } })
      .composite([{ input: small, left: 60, top: 40 }])
      .jpeg()
      .toBuffer();
    const { full, main, mainRuns } = await both(canvas);
    assert.ok(full);
    assert.deepEqual(main, [full]);
    // The whole pass and all 12 tiles (4 × 3 windows over the 853×480 tile level), plus any second looks.
    assert.ok(mainRuns >= 13, `${mainRuns} runs`);
  });
});

describe('reduced copies of a photo (ScaledPhoto)', () => {
  const meanAbsDifference = (a: Uint8Array, b: Uint8Array): number => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    return sum / a.length;
  };

  it('crops a box to what cropResize shows there, area-averaged, black outside the photo', async () => {
    const { raster } = await decodeImage(samplePhoto(6));
    const photo = new ScaledPhoto(raster);
    const box = { x: 700.4, y: 250.7, w: 600, h: 610 };
    const shrunk = await photo.crop(box, 224, 224);
    const fromFull = cropResize(raster, box, 224, 224);
    // Two resamplings of the same region differ by a few levels; a misplaced box by tens.
    assert.ok(meanAbsDifference(shrunk.data, fromFull.data) < 4, `${meanAbsDifference(shrunk.data, fromFull.data)}`);
    const shifted = cropResize(raster, { ...box, x: box.x + 30 }, 224, 224);
    assert.ok(meanAbsDifference(shifted.data, fromFull.data) > 8);
    // A box over the photo's corner: the part outside is black in both.
    const corner = { x: -300, y: -200, w: 900, h: 800 };
    const cornerShrunk = await photo.crop(corner, 224, 224);
    const cornerFull = cropResize(raster, corner, 224, 224);
    assert.ok(meanAbsDifference(cornerShrunk.data, cornerFull.data) < 4, `${meanAbsDifference(cornerShrunk.data, cornerFull.data)}`);
    assert.deepEqual([...cornerShrunk.data.subarray(0, 3)], [0, 0, 0]);
    // A box on whole pixels is exactly the area mean of those pixels.
    const whole = { x: 700, y: 250, w: 672, h: 672 };
    assert.deepEqual((await photo.crop(whole, 224, 224)).data, areaShrink(raster, 224, 224, { left: 700, top: 250, width: 672, height: 672 }).data);
    // A box smaller than the output is upsampled by cropResize itself.
    const small = { x: 900, y: 400, w: 200, h: 200 };
    assert.deepEqual((await photo.crop(small, 224, 224)).data, cropResize(raster, small, 224, 224).data);
    // The JPEG of a crop (the stored face crop) shows the same pixels, to within the encoding's loss.
    for (const region of [box, small]) {
      const jpeg = await photo.cropJpeg(region, 224, 224);
      const decoded = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([decoded.info.width, decoded.info.height], [224, 224]);
      const raw = (await photo.crop(region, 224, 224)).data;
      assert.ok(meanAbsDifference(decoded.data, raw) < 3, `${meanAbsDifference(decoded.data, raw)}`);
    }
  });

  it('resizes from the smallest kept copy that covers the size', async () => {
    const { raster } = await decodeImage(samplePhoto(6));
    const photo = new ScaledPhoto(raster);
    const level = await photo.resized(853, 683);
    assert.equal(await photo.resized(853, 683), level);
    const whole = await photo.resized(320, 240);
    const direct = await sharp(raster.data, { raw: { width: raster.width, height: raster.height, channels: 3 } }).resize(320, 240, { fit: 'fill' }).raw().toBuffer();
    assert.ok(meanAbsDifference(whole.data, direct) < 3);
  });

  /** The mean of the source area under each output pixel, computed the slow way (fractional overlaps). */
  const areaMean = (src: Raster, outW: number, outH: number): Uint8Array => {
    const out = new Uint8Array(outW * outH * 3);
    const sx = src.width / outW;
    const sy = src.height / outH;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        const sums = [0, 0, 0];
        for (let r = Math.floor(y * sy); r < Math.min(src.height, Math.ceil((y + 1) * sy)); r++) {
          const wy = Math.min((y + 1) * sy, r + 1) - Math.max(y * sy, r);
          for (let c = Math.floor(x * sx); c < Math.min(src.width, Math.ceil((x + 1) * sx)); c++) {
            const wx = Math.min((x + 1) * sx, c + 1) - Math.max(x * sx, c);
            for (let k = 0; k < 3; k++) sums[k]! += wy * wx * src.data[(r * src.width + c) * 3 + k]!;
          }
        }
        for (let k = 0; k < 3; k++) out[(y * outW + x) * 3 + k] = Math.round(sums[k]! / (sx * sy));
      }
    }
    return out;
  };

  it('shrinks a photo to the exact mean of the area under each pixel (area-shrink.wasm)', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 256;
    for (const [w, h, outW, outH] of [[7, 5, 3, 2], [33, 21, 10, 7], [100, 80, 32, 24], [61, 47, 61, 1], [5, 9, 1, 9], [250, 250, 240, 239]] as const) {
      const src = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, random) };
      const shrunk = areaShrink(src, outW, outH);
      const expected = areaMean(src, outW, outH);
      // Float rounding in the slow reference may move a mean that lies exactly on .5 by one level.
      assert.ok(shrunk.data.every((v, i) => Math.abs(v - expected[i]!) <= 1), `${w}×${h} → ${outW}×${outH}`);
      assert.ok(meanAbsDifference(shrunk.data, expected) < 0.01);
    }
    // The largest photo allowed, all white, to one pixel: no overflow on the way.
    const white = { width: 4096, height: 2160, data: new Uint8Array(4096 * 2160 * 3).fill(255) };
    assert.deepEqual([...areaShrink(white, 1, 1).data], [255, 255, 255]);
    assert.throws(() => areaShrink({ width: 10, height: 10, data: new Uint8Array(300) }, 11, 10), RangeError);
    // The detector's whole-photo input is that mean; an enlargement still goes through libvips.
    const { raster } = await decodeImage(samplePhoto(6));
    assert.deepEqual((await resize(raster, 320, 240)).data, areaShrink(raster, 320, 240).data);
    const viaLibvips = await sharp(raster.data, { raw: { width: raster.width, height: raster.height, channels: 3 } }).resize(320, 240, { fit: 'fill' }).raw().toBuffer();
    assert.ok(meanAbsDifference(areaShrink(raster, 320, 240).data, viaLibvips) < 2);
    const small = { width: 250, height: 250, data: Uint8Array.from({ length: 250 * 250 * 3 }, random) };
    const enlarged = await resize(small, 320, 240);
    assert.deepEqual([enlarged.width, enlarged.height], [320, 240]);
  });

  it('shrinks a band of rows at a time, to the same bytes as in one pass, and keeps its memory to a band', async () => {
    const { raster } = await decodeImage(samplePhoto(6));
    const region = { left: 333, top: 101, width: 901, height: 777 };
    for (const [outW, outH, where] of [[320, 240, undefined], [640, 427, undefined], [224, 224, region], [97, 3, undefined]] as const) {
      const onePass = areaShrink(raster, outW, outH, where, Number.POSITIVE_INFINITY);
      // A band of one source row's bytes: every band is as small as one output row allows.
      const banded = areaShrink(raster, outW, outH, where, 1);
      assert.ok(Buffer.from(banded.data).equals(Buffer.from(onePass.data)), `${outW}×${outH}`);
    }
    // A WebAssembly memory never shrinks: shrinking a 4096×2160 photo once would have kept ~27 MB in the thread
    // for good. A thread of its own, so that the memory is fresh.
    const memoryBytes = await new Promise<number>((resolve, reject) => {
      const thread = new Worker(
        // Threads do not inherit tsx's loader (see vision/worker-entry.mjs).
        `import('tsx/esm/api').then(({ register }) => register())
          .then(() => import(${JSON.stringify(new URL('../src/vision/area-shrink.ts', import.meta.url).href)}))
          .then(({ areaShrink, areaShrinkMemoryBytes }) => {
            areaShrink({ width: 4096, height: 2160, data: new Uint8Array(4096 * 2160 * 3) }, 320, 240);
            require('node:worker_threads').parentPort.postMessage(areaShrinkMemoryBytes());
          });`,
        { eval: true },
      );
      thread.once('message', (bytes: number) => resolve(bytes));
      thread.once('error', reject);
    });
    assert.ok(memoryBytes > 0 && memoryBytes < 4 * 1024 * 1024, `kernel memory ${memoryBytes} bytes`);
  });

  it('gives a face the pose that cropResize of the full photo gives it, within 3°', async () => {
    const detector = new FaceDetector(await loadModel('models', 'fr_detect.onnx'));
    const pose = new PoseModel(await loadModel('models', 'fr_pose.onnx'));
    const photos = [
      ...(await Promise.all(([1, 3, 6] as SampleNumber[]).map((sample) => closeUp(detector, sample)))),
      samplePhoto(2),
    ];
    for (const [k, bytes] of photos.entries()) {
      const { raster } = await decodeImage(bytes);
      const photo = new ScaledPhoto(raster);
      const [face] = await detector.detect(photo, { mainFaceOnly: true });
      assert.ok(face, `photo ${k}`);
      const viaLibvips = await pose.estimate(photo, face);
      const viaSampler = await pose.fromCrop(cropResize(raster, poseBox(face), POSE_INPUT_SIZE, POSE_INPUT_SIZE));
      for (const angle of ['yaw', 'pitch', 'roll'] as const) {
        assert.ok(Math.abs(viaLibvips[angle] - viaSampler[angle]) < 3, `photo ${k} ${angle}: ${viaLibvips[angle]} vs ${viaSampler[angle]}`);
      }
    }
  });
});

/** A 1920×1080 close-up made from a demo photo: its main face enlarged to ~450 px wide. */
async function closeUp(detector: FaceDetector, sample: SampleNumber): Promise<Buffer> {
  const { raster: group } = await decodeImage(samplePhoto(sample));
  const [main] = await detector.detect(new ScaledPhoto(group), { mainFaceOnly: true });
  assert.ok(main);
  const side = (main.x2 - main.x1) * 2.2;
  const left = Math.max(0, Math.round((main.x1 + main.x2) / 2 - side * 0.9));
  const top = Math.max(0, Math.round((main.y1 + main.y2) / 2 - side * 0.5));
  return sharp(samplePhoto(sample))
    .extract({ left, top, width: Math.min(Math.round(side * 1.8), group.width - left), height: Math.min(Math.round(side), group.height - top) })
    .resize(1920, 1080, { fit: 'fill' })
    .jpeg()
    .toBuffer();
}

describe('score scale', () => {
  const scale = loadScoreScale();
  it('is monotone in cosine, 0..100, with identical faces at 100', () => {
    let previous = -1;
    for (let c = -1; c <= 1.0001; c += 0.01) {
      const s = scale.fromCosine(c);
      assert.ok(s >= previous && s >= 0 && s <= 100);
      previous = s;
    }
    assert.equal(scale.fromCosine(1), 100);
  });
  it('puts 60/70/80 at false-accept rates 1e-2/1e-3/1e-4, and inverts', () => {
    for (const [score, far] of [[60, 1e-2], [70, 1e-3], [80, 1e-4]] as const) {
      assert.ok(Math.abs(scale.falseAcceptRate(score) / far - 1) < 1e-9);
      assert.ok(Math.abs(scale.fromCosine(scale.toCosine(score)) - score) < 1e-9);
    }
  });
});

describe('pipeline on real photos', () => {
  let analyzer: FaceAnalyzer;
  before(async () => {
    analyzer = await createFaceAnalyzer({ modelDir: 'models', threads: 1 });
  });
  after(() => analyzer.close());

  it('finds every person in the demo group photos, with pose, quality and a unit embedding', async () => {
    // Counted by eye: the people whose faces are visible in each demo photo.
    const expected = { 1: 3, 6: 4 } as const;
    for (const [sample, count] of Object.entries(expected)) {
      const result = await analyzer.analyze(samplePhoto(Number(sample) as 1 | 6), { crops: true });
      assert.equal(result.faces.length, count, `sample${sample}`);
      for (const face of result.faces) {
        assert.ok(face.rect.right - face.rect.left > 100);
        assert.ok(Math.abs(face.pose.yaw) < 60 && Math.abs(face.pose.roll) < 60);
        assert.ok(face.quality.quality > 0 && face.quality.quality <= 1);
        assert.ok(face.quality.blurness >= 0 && face.quality.blurness <= 100);
        assert.ok(Math.abs(Math.hypot(...face.embedding) - 1) < 1e-4);
        const crop = await sharp(face.crop!).metadata();
        assert.equal(crop.format, 'jpeg');
      }
    }
  });

  it('takes a clearly larger face as the main one even off-centre, and the central one among equals', async () => {
    const photo = samplePhoto(6);
    const face = (await analyzer.analyze(photo, { maxFaces: 1 })).faces[0]!.rect;
    const side = Math.round((face.right - face.left) * 1.6);
    const portrait = (size: number) =>
      sharp(photo)
        .extract({ left: Math.round(face.left - side * 0.2), top: Math.round(face.top - side * 0.2), width: side, height: side })
        .resize(size, size)
        .toBuffer();
    const canvas = (faces: Array<{ input: Buffer; left: number; top: number }>) =>
      sharp({ create: { width: 1600, height: 900, channels: 3, background: '#777' } }).composite(faces).jpeg().toBuffer();
    const centre = (rect: { left: number; right: number }) => (rect.left + rect.right) / 2;

    // 360 px at the left edge against 200 px in the middle: area ×3.2, the large one wins.
    const unequal = await canvas([{ input: await portrait(360), left: 20, top: 40 }, { input: await portrait(200), left: 700, top: 350 }]);
    const [first, second] = (await analyzer.analyze(unequal)).faces;
    assert.ok(first && second && centre(first.rect) < 400 && centre(second.rect) > 700);

    // Equal sizes: the one nearer the centre wins.
    const equal = await canvas([{ input: await portrait(260), left: 20, top: 40 }, { input: await portrait(260), left: 640, top: 320 }]);
    const main = (await analyzer.analyze(equal)).faces[0]!;
    assert.ok(centre(main.rect) > 640, `main face centred at x=${centre(main.rect)}`);
  });

  it('finds no face in a picture without one', async () => {
    const landscape = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6a8' } }).jpeg().toBuffer();
    assert.equal((await analyzer.analyze(landscape)).faces.length, 0);
  });

  it('gives one person a higher similarity across re-encodings than two different people', async () => {
    const people = (await analyzer.analyze(samplePhoto(6))).faces;
    const smaller = (await analyzer.analyze(await sharp(samplePhoto(6)).resize(1200).jpeg({ quality: 80 }).toBuffer())).faces;
    const scale = loadScoreScale();
    for (const face of people) {
      // The same face in the re-encoded photo is the one whose box centre is nearest, scaled.
      const k = 1200 / 1920;
      const twin = smaller.reduce((best, f) =>
        Math.hypot(f.rect.left - face.rect.left * k, f.rect.top - face.rect.top * k) <
        Math.hypot(best.rect.left - face.rect.left * k, best.rect.top - face.rect.top * k) ? f : best);
      assert.ok(scale.fromCosine(cosine(face.embedding, twin.embedding)) >= 90, 'same person, re-encoded');
      for (const other of people) {
        if (other !== face) assert.ok(scale.fromCosine(cosine(face.embedding, other.embedding)) < 70, 'two people');
      }
    }
  });

  it('reads blur, not contrast: a darker or flatter sharp face keeps its blurness, a blurred one does not', async () => {
    // One face alone (the main face of sample 6 with its surroundings), so every variant analyses the same face.
    const group = samplePhoto(6);
    const rect = (await analyzer.analyze(group, { maxFaces: 1 })).faces[0]!.rect;
    const side = Math.round((rect.right - rect.left) * 2);
    const left = Math.max(0, Math.round((rect.left + rect.right) / 2 - side / 2));
    const top = Math.max(0, Math.round((rect.top + rect.bottom) / 2 - side / 2));
    const photo = await sharp(group).extract({ left, top, width: side, height: side }).resize(400).jpeg({ quality: 95 }).toBuffer();
    const blurness = async (image: Buffer) => (await analyzer.analyze(image, { maxFaces: 1 })).faces[0]!.quality.blurness;
    const sharpFace = await blurness(photo);
    // Half the exposure, and half the contrast around mid-grey: the raw Laplacian variance drops 4× for both.
    const darker = await blurness(await sharp(photo).linear(0.5, 0).jpeg({ quality: 95 }).toBuffer());
    const flatter = await blurness(await sharp(photo).linear(0.5, 64).jpeg({ quality: 95 }).toBuffer());
    const blurred = await blurness(await sharp(photo).blur(3).jpeg({ quality: 95 }).toBuffer());
    assert.ok(Math.abs(darker - sharpFace) < 8, `darker ${darker} vs ${sharpFace}`);
    assert.ok(Math.abs(flatter - sharpFace) < 8, `flatter ${flatter} vs ${sharpFace}`);
    assert.ok(blurred > sharpFace + 20, `blurred ${blurred} vs ${sharpFace}`);
  });

  it('reports liveness log-odds only when asked', async () => {
    const plain = (await analyzer.analyze(samplePhoto(6), { maxFaces: 1 })).faces[0]!;
    assert.equal(plain.liveLogOdds, undefined);
    const live = (await analyzer.analyze(samplePhoto(6), { maxFaces: 1, liveness: true })).faces[0]!;
    assert.ok(Number.isFinite(live.liveLogOdds));
  });
});

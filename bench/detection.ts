/**
 * `npm run bench:detection`: face detection recall and false faces on CompreFace's samples
 * (../shared/datasets/samples/compreface: 20 photos, 0–8 faces, six of them up to 4912×7360).
 *
 * Ground truth is `faces.csv`: a face count and one nose point per face. A detected box that contains a
 * nose point finds that face (each box at most one face, nearest centre first); a box that contains none is a
 * false face. The CSV gives no face sizes, so a face's size is measured: the found box's shorter side, or
 * for a face not found, the box found around its nose point in a 4× enlargement of a 200-px window (÷ 4).
 * `four-plus-one-faces.jpg` has a count but no nose points: its faces are taken from a detection on the
 * photo enlarged 3× — used only when it finds exactly the listed count, and said so in the output.
 * Photos beyond the 4096×2160 limit are downscaled to fit first (as a client must), nose points with them.
 * `bench:recognition` runs the same measurement among the others.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { IMAGE_LIMITS } from '../src/vision/decode.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { FaceAnalyzer, Rect } from '../src/vision/types.js';
import { isMain } from './cli.js';
import { DATASETS_DIR, inLanes, MODEL_DIR } from './dataset.js';

const DIR = resolve(process.env.VISAGE_COMPREFACE ?? join(DATASETS_DIR, 'samples', 'compreface'));
const MIN_SIZE = 40;

interface Photo {
  file: string;
  count: number;
  /** Nose points in the original's pixels; empty when the CSV gives none. */
  noses: Array<[number, number]>;
}

const readPhotos = (): Photo[] => readFileSync(join(DIR, 'faces.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [file, count, , points] = line.split(',');
    const noses = (points ?? '')
      .split(';')
      .filter((p) => p.trim() !== '')
      .map((p) => p.trim().split(/\s+/).map(Number) as [number, number]);
    return { file: file!, count: Number(count), noses };
  });

/** The photo as a client may send it (within the dimension limits), and the factor it was scaled by. */
async function fitted(path: string): Promise<{ bytes: Buffer; scale: number; width: number; height: number }> {
  const meta = await sharp(path).rotate().metadata();
  const [w, h] = meta.autoOrient ? [meta.autoOrient.width, meta.autoOrient.height] : [meta.width!, meta.height!];
  const scale = Math.min(1, IMAGE_LIMITS.maxLong / Math.max(w, h), IMAGE_LIMITS.maxShort / Math.min(w, h));
  if (scale === 1) return { bytes: readFileSync(path), scale, width: w, height: h };
  const width = Math.floor(w * scale);
  const height = Math.floor(h * scale);
  return { bytes: await sharp(path).rotate().resize(width, height, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer(), scale, width, height };
}

async function detect(analyzer: FaceAnalyzer, bytes: Buffer): Promise<Rect[]> {
  return (await analyzer.analyze(bytes)).faces.map((f) => f.rect);
}

const contains = (r: Rect, [x, y]: [number, number]): boolean => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom;
const side = (r: Rect): number => Math.min(r.right - r.left, r.bottom - r.top);
const centreDistance = (r: Rect, [x, y]: [number, number]): number => Math.hypot((r.left + r.right) / 2 - x, (r.top + r.bottom) / 2 - y);

/** Size of a face not found at native scale: detection on a 4× enlargement of a 200-px window around its nose. */
async function sizeAround(analyzer: FaceAnalyzer, bytes: Buffer, width: number, height: number, [x, y]: [number, number]): Promise<number | null> {
  const half = 100;
  const left = Math.max(0, Math.round(x - half));
  const top = Math.max(0, Math.round(y - half));
  const w = Math.min(width - left, 2 * half);
  const h = Math.min(height - top, 2 * half);
  const window = await sharp(bytes).extract({ left, top, width: w, height: h }).resize(w * 4, h * 4).jpeg({ quality: 95 }).toBuffer();
  const found = (await detect(analyzer, window)).filter((r) => contains(r, [(x - left) * 4, (y - top) * 4]));
  return found.length > 0 ? side(found[0]!) / 4 : null;
}

interface Result {
  file: string;
  expected: number;
  detected: number;
  found: number;
  falseFaces: number;
  /** Sizes (px) of the listed faces; null = not measurable. */
  sizes: Array<{ size: number | null; found: boolean }>;
  note?: string;
}

async function evaluate(analyzer: FaceAnalyzer, photo: Photo): Promise<Result> {
  const { bytes, scale, width, height } = await fitted(join(DIR, photo.file));
  const boxes = await detect(analyzer, bytes);
  let noses = photo.noses.map(([x, y]) => [x * scale, y * scale] as [number, number]);
  /** Sizes measured on the enlargement, when the faces come from there. */
  let referenceSizes: number[] | undefined;
  let note: string | undefined;
  if (noses.length === 0 && photo.count > 0) {
    const enlarged = await sharp(bytes).resize(width * 3, height * 3).jpeg({ quality: 95 }).toBuffer();
    const reference = await detect(analyzer, enlarged);
    note = `no nose points in the CSV; a 3× enlargement finds ${reference.length} faces`;
    if (reference.length === photo.count) {
      noses = reference.map((r) => [(r.left + r.right) / 6, (r.top + r.bottom) / 6]);
      referenceSizes = reference.map((r) => side(r) / 3);
    } else {
      note += ', not the listed count: only the count is compared';
    }
  }
  const used = new Set<number>();
  const sizes: Result['sizes'] = [];
  for (const [k, nose] of noses.entries()) {
    const candidates = boxes
      .map((box, i) => ({ box, i }))
      .filter(({ box, i }) => !used.has(i) && contains(box, nose))
      .sort((a, b) => centreDistance(a.box, nose) - centreDistance(b.box, nose));
    const match = candidates[0];
    if (match) {
      used.add(match.i);
      sizes.push({ size: side(match.box), found: true });
    } else {
      sizes.push({ size: referenceSizes?.[k] ?? (await sizeAround(analyzer, bytes, width, height, nose)), found: false });
    }
  }
  const found = noses.length > 0 ? sizes.filter((s) => s.found).length : Math.min(boxes.length, photo.count);
  const falseFaces = noses.length > 0 || photo.count === 0 ? boxes.length - used.size : Math.max(0, boxes.length - photo.count);
  return { file: photo.file, expected: photo.count, detected: boxes.length, found, falseFaces, sizes, ...(note ? { note } : {}) };
}

export interface DetectionResult {
  listed: number;
  found: number;
  /** Listed faces of ≥ 40 px, and how many of them were found. */
  large: number;
  largeFound: number;
  unsized: number;
  falseFaces: number;
  /** False faces on the photos listed with no face. */
  falseOnEmpty: number;
  exact: number;
  photos: number;
  seconds: number;
}

/** Measures and prints; undefined (and says so) when the samples are not there. */
export async function measureDetection(): Promise<DetectionResult | undefined> {
  if (!existsSync(join(DIR, 'faces.csv'))) {
    console.log(`bench:detection: ${DIR} not found; skipped (nothing measured)`);
    return undefined;
  }
  const photos = readPhotos();
  const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads: cpus().length, maxQueue: Infinity });
  try {
    const started = performance.now();
    const results: Result[] = new Array(photos.length);
    await inLanes(photos, cpus().length, async (photo, i) => {
      results[i] = await evaluate(analyzer, photo);
    });
    console.log('| photo | listed | detected | found | false | face sizes (px; * = missed) |');
    console.log('|---|---|---|---|---|---|');
    for (const r of results) {
      const sizes = r.sizes.map((s) => `${s.size === null ? '?' : Math.round(s.size)}${s.found ? '' : '*'}`).join(' ');
      console.log(`| ${r.file} | ${r.expected} | ${r.detected} | ${r.found} | ${r.falseFaces} | ${sizes}${r.note ? ` (${r.note})` : ''} |`);
    }
    const listed = results.reduce((n, r) => n + r.expected, 0);
    const found = results.reduce((n, r) => n + r.found, 0);
    const sized = results.flatMap((r) => r.sizes);
    const large = sized.filter((s) => s.size !== null && s.size >= MIN_SIZE);
    const unsized = sized.filter((s) => s.size === null).length;
    const falseFaces = results.reduce((n, r) => n + r.falseFaces, 0);
    const falseOnEmpty = results.filter((r) => r.expected === 0).reduce((n, r) => n + r.falseFaces, 0);
    const exact = results.filter((r) => r.detected === r.expected).length;
    console.log(`faces found: ${found} of ${listed} listed (${((found / listed) * 100).toFixed(1)} %)`);
    console.log(`faces of ≥ ${MIN_SIZE} px found: ${large.filter((s) => s.found).length} of ${large.length} (${((large.filter((s) => s.found).length / large.length) * 100).toFixed(1)} %); ${unsized} listed faces could not be sized`);
    console.log(`false faces: ${falseFaces} in all, ${falseOnEmpty} on the ${results.filter((r) => r.expected === 0).length} photos without a face; exact count on ${exact} of ${results.length} photos`);
    const seconds = Math.round((performance.now() - started) / 1000);
    return { listed, found, large: large.length, largeFound: large.filter((s) => s.found).length, unsized, falseFaces, falseOnEmpty, exact, photos: results.length, seconds };
  } finally {
    await analyzer.close();
  }
}

if (isMain(import.meta.url)) {
  const result = await measureDetection();
  if (result) console.log(JSON.stringify(result));
}

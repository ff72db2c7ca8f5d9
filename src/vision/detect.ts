/**
 * Face detector: faceplugin `fr_detect.onnx`, an RFB-320 style SSD. Input: the region stretched to 320×240,
 * RGB, (v − 127) / 128. Outputs: `scores` [N, 2] (column 1 = face) and `boxes` [N, 4], already decoded to
 * normalised x1, y1, x2, y2.
 *
 * The input is small, so a face of 40 px in a 1080p photo is 7 px to the network, below its smallest
 * anchor. Large images therefore get a second pass over overlapping tiles, and the two passes are merged.
 */
import { prominence } from './geometry.js';
import type { Model } from './onnx.js';
import { toTensorData, type Box, type Raster, type ScaledPhoto } from './raster.js';

const INPUT_W = 320;
const INPUT_H = 240;
const MEAN = [127, 127, 127] as const;
const STD = [128, 128, 128] as const;
/** Size of the window `confirm` looks at, in candidate sizes. */
const CONFIRM_CONTEXT = 3;
/** Side (√area) on the whole-pass input above which no face is taken to be found by tiles alone (`mainFaceTiles`). */
const TILE_ONLY_FACE_MAX = 20;
/** Fraction of its whole-pass prominence a face keeps at least when a tile refines its box (`mainFaceTiles`). */
const REFINED_PROMINENCE_MIN = 0.5;
/** Side (√area) on the whole-pass input from which a face keeps its whole-pass box (`settledFaces`). */
const SETTLED_FACE_MIN = 48;
/** The same for a face no other whole-pass face comes near in prominence (`settledFaces`). */
const SETTLED_SOLE_FACE_MIN = 30;

export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

interface Size {
  width: number;
  height: number;
}

export interface DetectorOptions {
  /** Minimum face probability in the whole-image pass. */
  threshold: number;
  /**
   * Minimum face probability in the tiled pass. Higher: tiles show the network texture at a scale it
   * mistakes for faces (hair, fabric; up to 0.95 on CompreFace's samples), while real faces there score ≥ 0.97.
   */
  tileThreshold: number;
  /** Candidates scoring below this get a second look at their own scale (`confirm`). */
  verifyBelow: number;
  /** Minimum face probability in that second look. */
  confirmThreshold: number;
  /** IoU above which the weaker of two boxes is dropped. */
  nmsIou: number;
  /** Images whose longer side exceeds this get the tiled second pass. */
  tileAbove: number;
  /** Width of one tile of the second pass, in source pixels (the window is 4:3 like the network input). */
  tileSize: number;
}

/** What a caller needs of the detection. */
export interface DetectScope {
  /** Only the main face (registration, compare, search): work that cannot change it is skipped. */
  mainFaceOnly?: boolean;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  threshold: 0.8,
  tileThreshold: 0.97,
  verifyBelow: 0.995,
  confirmThreshold: 0.7,
  nmsIou: 0.4,
  tileAbove: 800,
  tileSize: 720,
};

export class FaceDetector {
  constructor(
    private readonly model: Model,
    private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {}

  /**
   * Every face of the image, or with `mainFaceOnly` just the main one (most prominent, geometry.ts) — the
   * same face and box the full pass gives it, for less work (see `mainFaceTiles`).
   */
  async detect(image: ScaledPhoto, scope: DetectScope = {}): Promise<Detection[]> {
    const whole = { x: 0, y: 0, w: image.width, h: image.height };
    const tiled = Math.max(image.width, image.height) > this.options.tileAbove;
    // The tile level is made only when a tile runs: a large main face needs none (see `mainFaceTiles`).
    const found = await this.detectWindow(await image.resized(INPUT_W, INPUT_H), whole, image);
    const verdicts = new Map<Detection, boolean>();
    const isFace = async (candidate: Detection): Promise<boolean> => {
      let verdict = verdicts.get(candidate);
      if (verdict === undefined) {
        verdict = candidate.score >= this.options.verifyBelow || (await this.confirm(image, candidate));
        verdicts.set(candidate, verdict);
      }
      return verdict;
    };
    if (tiled) {
      const wholeFaces = suppress(found, this.options.nmsIou);
      const settled = await this.settledFaces(image, wholeFaces, isFace);
      const near = scope.mainFaceOnly ? await this.mainFaceTiles(image, wholeFaces, settled, isFace) : undefined;
      const tileFaces = await this.detectTiles(image, near);
      found.push(...tileFaces.filter((face) => !settled.some((kept) => overlap(kept, face, this.options.nmsIou))));
    }
    const candidates = suppress(found, this.options.nmsIou);
    if (scope.mainFaceOnly) {
      for (const candidate of byProminence(candidates, image)) if (await isFace(candidate)) return [candidate];
      return [];
    }
    const faces: Detection[] = [];
    for (const candidate of candidates) if (await isFace(candidate)) faces.push(candidate);
    return faces;
  }

  /**
   * Faces the whole pass sees large enough to keep its box: a tile's box of them is dropped, not merged.
   * The tiles show such a face at 2–3× the scale, where the network's box of it is no better and often worse
   * for the embedding. LFW DevTest with every image enlarged, best-threshold accuracy with tile boxes against
   * whole-pass boxes: faces ~125 px on the whole-pass input 98.7 vs 99.5 % (the original 250 px images, never
   * tiled: 99.5 %), ~52 px 99.0 vs 99.3 %, but ~44 px 99.0 vs 98.9 % and ~32 px 99.3 vs 99.2 %: hence 48.
   * Between 30 and 48 px the two boxes embed equally well (re-measured on one face a canvas: ~43 px 12 vs 9
   * errors, ~32 px 10 vs 10), but the whole pass's box of such a face can be a third larger than the tiles',
   * enough to make it outrank the real main face of a group photo. So there a face settles only when no other
   * whole-pass face has half its prominence: tiles change a box's area by at most ~1.4× (`mainFaceTiles`), too
   * little to reorder faces 2× apart. (`.scratch` experiments; the figures are in README.)
   */
  private async settledFaces(image: ScaledPhoto, wholeFaces: Detection[], isFace: (candidate: Detection) => Promise<boolean>): Promise<Detection[]> {
    const inputArea = (image.width / INPUT_W) * (image.height / INPUT_H);
    const settled: Detection[] = [];
    for (const candidate of wholeFaces) {
      const side = Math.sqrt(area(candidate) / inputArea);
      const sole = () => wholeFaces.every((other) => other === candidate || prominence(other, image) < REFINED_PROMINENCE_MIN * prominence(candidate, image));
      if ((side >= SETTLED_FACE_MIN || (side >= SETTLED_SOLE_FACE_MIN && sole())) && (await isFace(candidate))) settled.push(candidate);
    }
    return settled;
  }

  /**
   * Which tiles the main face needs: those that could change the box of a whole-pass face that may still be
   * the main one, or `undefined` (all tiles) when a face only tiles can see could outrank it. A settled face's
   * box cannot change, so a main face that is settled, with no other face near its prominence, needs none.
   *
   * Tiles do two things. They find faces too small for the whole pass: on 40 photos of 800–4096 px (demo,
   * face_recognition, CompreFace and liveness samples) the largest such face covered 14 px of the
   * whole-pass input (133 px of a 2333-px photo; `TILE_ONLY_FACE_MAX` allows 20). And they re-find medium
   * faces at 2.7× the scale, where the network often scores them higher, so their box replaces the whole-pass
   * one in NMS (the area changed by up to 0.72× on those photos; `REFINED_PROMINENCE_MIN` allows 0.5×).
   * A tile's box lies inside the tile (one cut by its edge is dropped), so it can replace a box B by
   * IoU > nmsIou only if the tile shows more than nmsIou of B; the other tiles cannot (short of a face part
   * inside B outscoring the face). So when the most prominent whole-pass face, even at half its prominence,
   * is beyond any tile-only face, only the tiles showing faces of at least half its prominence run.
   * Measured on the same 40 photos: the main face is identical to the full pass's on all, with 6.2 detector
   * runs per photo instead of 12.5.
   */
  private async mainFaceTiles(
    image: ScaledPhoto,
    wholeFaces: Detection[],
    settled: Detection[],
    isFace: (candidate: Detection) => Promise<boolean>,
  ): Promise<Detection[] | undefined> {
    const candidates = byProminence(wholeFaces, image);
    let main: Detection | undefined;
    for (const candidate of candidates) {
      if (await isFace(candidate)) {
        main = candidate;
        break;
      }
    }
    if (main === undefined) return undefined;
    const floor = REFINED_PROMINENCE_MIN * prominence(main, image);
    const inputScale = Math.max(image.width / INPUT_W, image.height / INPUT_H);
    if (floor < (TILE_ONLY_FACE_MAX * inputScale) ** 2) return undefined;
    return candidates.filter((candidate) => prominence(candidate, image) >= floor && !settled.includes(candidate));
  }

  /**
   * Second look at a less certain candidate: the network again on a window of 3× its size around it, where a
   * real face fills a third of the input. (At 2× a false box below a real face — a fur collar under a chin —
   * was re-found half on the face; at 3× the network settles on the real face.) Texture the network took for a face at one scale (a collar, a sleeve, fur) rarely
   * survives this; a real face scores ~1.0. Costs one network run per uncertain candidate.
   */
  private async confirm(image: ScaledPhoto, candidate: Detection): Promise<boolean> {
    const w = candidate.x2 - candidate.x1;
    const h = candidate.y2 - candidate.y1;
    const regionW = Math.max(w, (h * INPUT_W) / INPUT_H) * CONFIRM_CONTEXT;
    const regionH = (regionW * INPUT_H) / INPUT_W;
    const cx = (candidate.x1 + candidate.x2) / 2;
    const cy = (candidate.y1 + candidate.y2) / 2;
    const region = { x: cx - regionW / 2, y: cy - regionH / 2, w: regionW, h: regionH };
    const window = image.sampledCrop(region, INPUT_W, INPUT_H);
    const out = await this.model.run(toTensorData(window, 'rgb', MEAN, STD), [1, 3, INPUT_H, INPUT_W]);
    const scores = out['scores']!;
    const boxes = out['boxes']!;
    for (let i = 0; i < scores.length / 2; i++) {
      if (scores[i * 2 + 1]! < this.options.confirmThreshold) continue;
      const box = {
        x1: region.x + boxes[i * 4]! * region.w,
        y1: region.y + boxes[i * 4 + 1]! * region.h,
        x2: region.x + boxes[i * 4 + 2]! * region.w,
        y2: region.y + boxes[i * 4 + 3]! * region.h,
        score: 0,
      };
      if (iou(box, candidate) > 0.5) return true;
    }
    return false;
  }

  /**
   * Second pass: the image downscaled once so that a tile of ~tileSize source pixels is one 320×240 network
   * input, then overlapping 320×240 windows of that copy (cheaper than resampling every tile from the source).
   * With `near`, only the tiles that show more than `nmsIou` of one of those boxes (`mainFaceTiles`).
   */
  private async detectTiles(image: ScaledPhoto, near?: Detection[]): Promise<Detection[]> {
    const [levelW, levelH] = this.tileLevelSize(image);
    const sx = image.width / levelW;
    const sy = image.height / levelH;
    const tiles: Array<{ x: number; y: number; region: Box }> = [];
    for (const y of tileStarts(levelH, INPUT_H)) {
      for (const x of tileStarts(levelW, INPUT_W)) {
        const region = { x: x * sx, y: y * sy, w: INPUT_W * sx, h: INPUT_H * sy };
        if (near === undefined || near.some((box) => shownFraction(region, box) > this.options.nmsIou)) tiles.push({ x, y, region });
      }
    }
    if (tiles.length === 0) return [];
    const level = await image.resized(levelW, levelH);
    const found: Detection[] = [];
    for (const { x, y, region } of tiles) {
      found.push(...(await this.detectWindow(cropCopy(level, x, y, INPUT_W, INPUT_H), region, image)));
    }
    return found;
  }

  /** The size of the copy the tiles are cut from: one tile of ~tileSize source pixels is one network input. */
  private tileLevelSize(image: Size): [number, number] {
    const scale = this.options.tileSize / INPUT_W;
    return [Math.max(INPUT_W, Math.round(image.width / scale)), Math.max(INPUT_H, Math.round(image.height / scale))];
  }

  /** Runs the network on one 320×240 window that shows `region` of `image`; boxes come back in image pixels. */
  private async detectWindow(window: Raster, region: Box, image: Size): Promise<Detection[]> {
    const out = await this.model.run(toTensorData(window, 'rgb', MEAN, STD), [1, 3, INPUT_H, INPUT_W]);
    const scores = out['scores']!;
    const boxes = out['boxes']!;
    const partial = region.w < image.width || region.h < image.height;
    const detections: Detection[] = [];
    for (let i = 0; i < scores.length / 2; i++) {
      const score = scores[i * 2 + 1]!;
      if (score < (partial ? this.options.tileThreshold : this.options.threshold)) continue;
      const x1 = region.x + boxes[i * 4]! * region.w;
      const y1 = region.y + boxes[i * 4 + 1]! * region.h;
      const x2 = region.x + boxes[i * 4 + 2]! * region.w;
      const y2 = region.y + boxes[i * 4 + 3]! * region.h;
      if (x2 - x1 < 4 || y2 - y1 < 4) continue;
      // A box cut by a window's inner edge is a partial face; an overlapping window or the whole-image pass sees it whole.
      if (partial && touchesInnerEdge({ x1, y1, x2, y2 }, region, image)) continue;
      detections.push({
        x1: Math.max(0, x1),
        y1: Math.max(0, y1),
        x2: Math.min(image.width, x2),
        y2: Math.min(image.height, y2),
        score,
      });
    }
    return detections;
  }
}

function byProminence(detections: Detection[], image: Size): Detection[] {
  return [...detections].sort((a, b) => prominence(b, image) - prominence(a, image));
}

/** The fraction of a detection box's area that lies inside a region. */
function shownFraction(region: Box, box: Detection): number {
  const w = Math.min(box.x2, region.x + region.w) - Math.max(box.x1, region.x);
  const h = Math.min(box.y2, region.y + region.h) - Math.max(box.y1, region.y);
  return w > 0 && h > 0 ? (w * h) / area(box) : 0;
}

function touchesInnerEdge(box: { x1: number; y1: number; x2: number; y2: number }, region: Box, image: Size): boolean {
  const margin = 0.01 * region.w;
  return (
    (box.x1 <= region.x + margin && region.x > 0) ||
    (box.y1 <= region.y + margin && region.y > 0) ||
    (box.x2 >= region.x + region.w - margin && region.x + region.w < image.width - 1) ||
    (box.y2 >= region.y + region.h - margin && region.y + region.h < image.height - 1)
  );
}

function cropCopy(src: Raster, x: number, y: number, w: number, h: number): Raster {
  const data = new Uint8Array(w * h * 3);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * src.width + x) * 3;
    data.set(src.data.subarray(from, from + w * 3), row * w * 3);
  }
  return { width: w, height: h, data };
}

/** Evenly spaced tile origins covering `length` with tiles of `tile`, overlapping by at least a quarter. */
function tileStarts(length: number, tile: number): number[] {
  if (tile >= length) return [0];
  const count = Math.ceil((length - tile) / (tile * 0.75)) + 1;
  const step = (length - tile) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

function iou(a: Detection, b: Detection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (area(a) + area(b) - w * h);
}

function area(d: Detection): number {
  return Math.max(0, d.x2 - d.x1) * Math.max(0, d.y2 - d.y1);
}

/** Two boxes of one face: IoU above the threshold, or one mostly (> 0.7 of it) inside the other. */
function overlap(a: Detection, b: Detection, iouThreshold: number): boolean {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return false;
  return iou(a, b) > iouThreshold || (w * h) / Math.min(area(a), area(b)) > 0.7;
}

/**
 * Greedy NMS by score. Besides IoU, a box mostly inside a stronger one (a partial face from a tile, or a
 * face part) is dropped: intersection over the smaller box above 0.7.
 */
export function suppress(detections: Detection[], iouThreshold: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (!kept.some((k) => overlap(k, d, iouThreshold))) kept.push(d);
  }
  return kept;
}

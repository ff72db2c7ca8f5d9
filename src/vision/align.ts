/**
 * Alignment for the embedder: five points from the 68 (eye centres, nose tip, mouth corners) mapped onto the
 * standard 112×112 ArcFace reference by the least-squares similarity transform (Umeyama, no reflection).
 */
import { sampleAffine, type Affine, type Raster } from './raster.js';

export const ALIGNED_SIZE = 112;

/** ArcFace's reference positions of left eye, right eye, nose tip, left and right mouth corner at 112×112. */
const REFERENCE: ReadonlyArray<readonly [number, number]> = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

const mean = (points: number[], indices: number[], axis: 0 | 1): number =>
  indices.reduce((sum, i) => sum + points[i * 2 + axis]!, 0) / indices.length;

/** The five alignment points from 68-point landmarks (iBUG numbering, 0-based). */
function fivePoints(landmarks: number[]): Array<[number, number]> {
  const groups = [
    [37, 38, 40, 41], // left eye lids
    [43, 44, 46, 47], // right eye lids
    [30], // nose tip
    [48, 60], // left mouth corner, outer and inner
    [54, 64], // right mouth corner
  ];
  return groups.map((g) => [mean(landmarks, g, 0), mean(landmarks, g, 1)]);
}

/**
 * Least-squares similarity transform taking `from` points onto `to` points: returns the affine
 * [a, −b, tx, b, a, ty] with a = s·cosθ, b = s·sinθ (closed form for 2-D Umeyama).
 */
export function similarity(from: ReadonlyArray<readonly [number, number]>, to: ReadonlyArray<readonly [number, number]>): Affine {
  const n = from.length;
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]![0]; fy += from[i]![1]; tx += to[i]![0]; ty += to[i]![1];
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = from[i]![0] - fx, ay = from[i]![1] - fy;
    const bx = to[i]![0] - tx, by = to[i]![1] - ty;
    dot += ax * bx + ay * by;
    cross += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)];
}

/** The 112×112 aligned face: sampled through the map from reference space to the image. */
export function alignFace(image: Raster, landmarks: number[]): Raster {
  return sampleAffine(image, similarity(REFERENCE, fivePoints(landmarks)), ALIGNED_SIZE, ALIGNED_SIZE);
}

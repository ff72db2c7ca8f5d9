/**
 * Face quality without a model: sharpness as the variance of the Laplacian on the aligned 112×112 face,
 * divided by the variance of its luma (so it measures blur, not contrast or exposure), brightness and contrast
 * as the mean and spread of its luma, and an overall 0..1 quality from blur, pose, size and exposure.
 */
import { toGray, type Raster } from './raster.js';
import type { FaceQuality, Pose } from './types.js';

/**
 * Laplacian-to-luma variance ratios mapped to blurness 0 (at or above SHARP) … 100 (at or below BLURRED), log
 * scale. Ratios on LFW View 1 (`npm run bench:quality`): sharp faces ~0.09 (1 % below 0.023), Gaussian blur
 * σ 3 px ~0.007; the default gate (blurness 90) sits at 0.020.
 */
const SHARP = 1.25;
const BLURRED = 0.0125;

/** The central face area of the aligned crop (no background, no black fill at the corners). */
const FACE_AREA = { x0: 24, y0: 24, x1: 88, y1: 104 } as const;

function moments(values: ArrayLike<number>, count: number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < count; i++) {
    sum += values[i]!;
    sumSq += values[i]! * values[i]!;
  }
  const m = sum / count;
  return { mean: m, variance: Math.max(0, sumSq / count - m * m) };
}

/** Luma and its 4-neighbour Laplacian over the face area. */
function faceAreaSamples(gray: Float32Array, width: number): { luma: Float32Array; laplacian: Float32Array } {
  const { x0, y0, x1, y1 } = FACE_AREA;
  const n = (x1 - x0) * (y1 - y0);
  const luma = new Float32Array(n);
  const laplacian = new Float32Array(n);
  let k = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * width + x;
      luma[k] = gray[i]!;
      laplacian[k++] = gray[i - width]! + gray[i + width]! + gray[i - 1]! + gray[i + 1]! - 4 * gray[i]!;
    }
  }
  return { luma, laplacian };
}

/**
 * Both variances scale with the square of contrast, so their ratio does not: halving the exposure or the
 * contrast of a sharp face moved the raw Laplacian variance by −0.58 decades (≈ 29 blurness points) and the
 * ratio by +0.02 (LFW View 1, every 40th image). A face with almost no luma spread is the CONTRAST check's.
 */
function blurnessFromRatio(laplacianVariance: number, lumaVariance: number): number {
  const ratio = laplacianVariance / Math.max(lumaVariance, 1);
  const t = (Math.log(SHARP) - Math.log(Math.max(ratio, 1e-9))) / (Math.log(SHARP) - Math.log(BLURRED));
  return Math.min(100, Math.max(0, t * 100));
}

export function measureQuality(aligned: Raster, pose: Pose, faceSize: number): FaceQuality {
  const { luma, laplacian } = faceAreaSamples(toGray(aligned), aligned.width);
  const exposure = moments(luma, luma.length);
  const brightness = exposure.mean;
  const contrast = Math.sqrt(exposure.variance);
  const blurness = blurnessFromRatio(moments(laplacian, laplacian.length).variance, exposure.variance);

  const sharpness = 1 - blurness / 100;
  const frontal = Math.max(0, Math.cos((Math.min(Math.abs(pose.yaw), 90) * Math.PI) / 180)) *
    Math.max(0, Math.cos((Math.min(Math.abs(pose.pitch), 90) * Math.PI) / 180));
  const size = Math.min(1, faceSize / 80);
  const exposureFactor = Math.min(1, brightness / 60, (255 - brightness) / 60) * Math.min(1, contrast / 20);
  const quality = Math.max(0, Math.min(1, sharpness * frontal * size * Math.max(0, exposureFactor)));
  return { blurness, brightness, contrast, faceSize, quality };
}

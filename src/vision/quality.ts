/**
 * Face quality without a model: sharpness as the variance of the Laplacian on the aligned 112×112 crop
 * (sharp faces ~1400, σ = 2 blur ~46), brightness and contrast as the mean and spread of its luma, and an
 * overall 0..1 quality from blur, pose, size and exposure.
 */
import { toGray, type Raster } from './raster.js';
import type { FaceQuality, Pose } from './types.js';

/** Laplacian variances mapped to blurness 0 (at or above SHARP) … 100 (at or below BLURRED), log scale. */
const SHARP = 1500;
const BLURRED = 15;

function laplacianVariance(gray: Float32Array, width: number, height: number): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const v = gray[i - width]! + gray[i + width]! + gray[i - 1]! + gray[i + 1]! - 4 * gray[i]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

function blurnessFromVariance(variance: number): number {
  const t = (Math.log(SHARP) - Math.log(Math.max(variance, 1e-6))) / (Math.log(SHARP) - Math.log(BLURRED));
  return Math.min(100, Math.max(0, t * 100));
}

export function measureQuality(aligned: Raster, pose: Pose, faceSize: number): FaceQuality {
  const gray = toGray(aligned);
  const blurness = blurnessFromVariance(laplacianVariance(gray, aligned.width, aligned.height));
  // Exposure over the central face area only: the aligned crop's corners are background or black fill.
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 24; y < 104; y++) {
    for (let x = 24; x < 88; x++) {
      const v = gray[y * aligned.width + x]!;
      sum += v;
      sumSq += v * v;
      n++;
    }
  }
  const brightness = sum / n;
  const contrast = Math.sqrt(Math.max(0, sumSq / n - brightness * brightness));

  const sharpness = 1 - blurness / 100;
  const frontal = Math.max(0, Math.cos((Math.min(Math.abs(pose.yaw), 90) * Math.PI) / 180)) *
    Math.max(0, Math.cos((Math.min(Math.abs(pose.pitch), 90) * Math.PI) / 180));
  const size = Math.min(1, faceSize / 80);
  const exposure = Math.min(1, brightness / 60, (255 - brightness) / 60) * Math.min(1, contrast / 20);
  const quality = Math.max(0, Math.min(1, sharpness * frontal * size * Math.max(0, exposure)));
  return { blurness, brightness, contrast, faceSize, quality };
}

/**
 * Head pose: faceplugin `fr_pose.onnx` (Hopenet-style). Input: the face box grown by a quarter on each side,
 * 224×224 RGB, ImageNet mean/std. Outputs: 66 bins of 3° for yaw, pitch and roll; the angle is the softmax
 * expectation × 3 − 99.
 */
import type { Detection } from './detect.js';
import type { Model } from './onnx.js';
import { toTensorData, type Box, type Raster, type ScaledPhoto } from './raster.js';
import type { Pose } from './types.js';

export const POSE_INPUT_SIZE = 224;
const SIZE = POSE_INPUT_SIZE;
const MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255] as const;
const STD = [0.229 * 255, 0.224 * 255, 0.225 * 255] as const;

export class PoseModel {
  constructor(private readonly model: Model) {}

  async estimate(image: ScaledPhoto, face: Detection): Promise<Pose> {
    return this.fromCrop(await image.crop(poseBox(face), SIZE, SIZE));
  }

  /** The angles of the face a SIZE × SIZE crop of its `poseBox` shows. */
  async fromCrop(crop: Raster): Promise<Pose> {
    const out = await this.model.run(toTensorData(crop, 'rgb', MEAN, STD), [1, 3, SIZE, SIZE]);
    return {
      yaw: binnedAngle(out['output']!),
      pitch: binnedAngle(out['617']!),
      roll: binnedAngle(out['618']!),
    };
  }
}

/** The region the pose model looks at: the face box grown by a quarter on each side. */
export function poseBox(face: Detection): Box {
  const w = face.x2 - face.x1;
  const h = face.y2 - face.y1;
  return { x: face.x1 - w / 4, y: face.y1 - h / 4, w: w * 1.5, h: h * 1.5 };
}

function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function binnedAngle(logits: Float32Array): number {
  return softmax(logits).reduce((acc, p, i) => acc + p * i, 0) * 3 - 99;
}

/**
 * 68-point landmarks: faceplugin `fr_landmark.onnx`. Input: the face box stretched to 64×64 grey, luma / 256
 * (the box itself measured better on LFW than a square crop around it: 99.0 vs 98.8 % on DevTest).
 * Output: 136 values, x/y normalised to the box.
 */
import type { Detection } from './detect.js';
import type { Model } from './onnx.js';
import { cropResize, toGray, type Raster } from './raster.js';

const SIZE = 64;

export class LandmarkModel {
  constructor(private readonly model: Model) {}

  /** Returns [x0, y0, …, x67, y67] in image pixels. */
  async locate(image: Raster, face: Detection): Promise<number[]> {
    const box = { x: face.x1, y: face.y1, w: face.x2 - face.x1, h: face.y2 - face.y1 };
    const gray = toGray(cropResize(image, box, SIZE, SIZE));
    for (let i = 0; i < gray.length; i++) gray[i] = gray[i]! / 256;
    const out = (await this.model.run(gray, [1, 1, SIZE, SIZE]))['output']!;
    const points: number[] = new Array(136);
    for (let i = 0; i < 68; i++) {
      points[i * 2] = box.x + out[i * 2]! * box.w;
      points[i * 2 + 1] = box.y + out[i * 2 + 1]! * box.h;
    }
    return points;
  }
}

/**
 * Recognition embedding: faceplugin `fr_feature.onnx`, 512-d. Input: the 112×112 aligned face in BGR order,
 * (v − 127) / 128 — BGR measured better than RGB on LFW. Output L2-normalised, so cosine = dot product.
 */
import type { Model } from './onnx.js';
import { toTensorData, type Raster } from './raster.js';
import { ALIGNED_SIZE } from './align.js';

export const EMBEDDING_SIZE = 512;
/** Stored with every embedding so a model change can be detected and re-embedded. */
export const EMBEDDING_MODEL_ID = 'faceplugin-fr_feature@0.0.1';

export class Embedder {
  readonly modelId = EMBEDDING_MODEL_ID;

  constructor(private readonly model: Model) {}

  async embed(aligned: Raster): Promise<Float32Array> {
    const input = toTensorData(aligned, 'bgr', [127, 127, 127], [128, 128, 128]);
    const raw = (await this.model.run(input, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]))['output']!;
    return normalize(Float32Array.from(raw));
  }
}

function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  return v;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

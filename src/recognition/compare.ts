/** 3.1: 1:1 comparison of the largest face of two images on the calibrated score scale. */
import { VisageError } from '../errors.js';
import type { FaceAnalyzer } from '../vision/types.js';
import { detectedFace } from './detected-face.js';
import type { ScoreScale } from './score-scale.js';
import type { CompareRequest, CompareResult } from './types.js';

export class CompareService {
  constructor(
    private readonly analyzer: FaceAnalyzer,
    private readonly scale: ScoreScale,
  ) {}

  async compare(request: CompareRequest): Promise<CompareResult> {
    const options = { liveness: request.liveness, maxFaces: 1 };
    const [first, second] = await Promise.all([
      this.analyzer.analyze(request.image1, options),
      this.analyzer.analyze(request.image2, options),
    ]);
    const face1 = first.faces[0];
    const face2 = second.faces[0];
    if (!face1 || !face2) throw new VisageError('FACE_NOT_FOUND');
    const score = this.scale.fromCosine(dot(face1.embedding, face2.embedding));
    return { score, face1: detectedFace(face1), face2: detectedFace(face2) };
  }
}

/** Cosine similarity of two L2-normalised vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** 3.1: 1:1 comparison of the most prominent face of two images on the calibrated score scale. */
import { VisageError } from '../errors.js';
import { cosine } from '../vision/embed.js';
import type { FaceAnalyzer } from '../vision/types.js';
import { detectedFace } from './detected-face.js';
import type { LivenessCheck } from './liveness-scale.js';
import type { ScoreScale } from './score-scale.js';
import type { CompareRequest, CompareResult } from './types.js';

export class CompareService {
  constructor(
    private readonly analyzer: FaceAnalyzer,
    private readonly scale: ScoreScale,
    private readonly liveness: LivenessCheck,
  ) {}

  async compare(request: CompareRequest): Promise<CompareResult> {
    // The photos are not read after their analysis; the same bytes twice are copied, not moved twice.
    const options = { liveness: request.liveness, maxFaces: 1, handOver: request.image1.buffer !== request.image2.buffer };
    const [first, second] = await Promise.all([
      this.analyzer.analyze(request.image1, options),
      this.analyzer.analyze(request.image2, options),
    ]);
    const face1 = first.faces[0];
    const face2 = second.faces[0];
    if (!face1 || !face2) throw new VisageError('FACE_NOT_FOUND');
    const score = this.scale.fromCosine(cosine(face1.embedding, face2.embedding));
    return { score, face1: detectedFace(face1, this.liveness), face2: detectedFace(face2, this.liveness) };
  }
}


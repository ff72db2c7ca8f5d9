/** The part of an analysed face that compare and search report back, liveness mapped to its 0..100 scale. */
import type { AnalyzedFace } from '../vision/types.js';
import type { LivenessCheck } from './liveness-scale.js';
import type { DetectedFace } from './types.js';

export function detectedFace(face: AnalyzedFace, liveness: LivenessCheck): DetectedFace {
  const detected: DetectedFace = { rect: face.rect, pose: face.pose, quality: face.quality };
  if (face.liveLogOdds !== undefined) {
    const score = liveness.scale.fromLogOdds(face.liveLogOdds);
    detected.liveness = { score, live: score >= liveness.threshold };
  }
  return detected;
}

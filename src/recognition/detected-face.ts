/** The part of an analysed face that compare and search report back. */
import type { AnalyzedFace } from '../vision/types.js';
import type { DetectedFace } from './types.js';

export function detectedFace(face: AnalyzedFace): DetectedFace {
  const detected: DetectedFace = { rect: face.rect, pose: face.pose, quality: face.quality };
  if (face.livenessScore !== undefined) detected.livenessScore = face.livenessScore;
  return detected;
}

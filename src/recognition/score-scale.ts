/**
 * The calibrated 0..100 score scale. Implementation: calibration.ts (fitted on LFW View 1 impostor pairs).
 */
export interface ScoreScale {
  /** Monotone map from cosine similarity to 0..100: 80 ≙ FAR 1e-4, 70 ≙ 1e-3, 60 ≙ 1e-2. */
  fromCosine(cosine: number): number;
  /** The cosine similarity that maps to `score` (inverse of fromCosine), for index thresholds. */
  toCosine(score: number): number;
  /** Estimated false-accept rate at `score` on the calibration set. */
  falseAcceptRate(score: number): number;
}

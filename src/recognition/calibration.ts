/**
 * The calibrated score scale, fitted by `npm run calibrate` on LFW View 1 (every cross-identity pair of its
 * 4,992 images as impostors) and committed as calibration-table.json. Scores are piecewise linear in cosine
 * between knots placed at impostor quantiles, so a score means the same false-accept rate for compare and
 * search: 60 ≙ FAR 1e-2, 70 ≙ 1e-3, 80 ≙ 1e-4, 90 ≙ 1e-5.
 */
import table from './calibration-table.json' with { type: 'json' };
import type { ScoreScale } from './score-scale.js';

export interface CalibrationKnot {
  cosine: number;
  score: number;
  /** Fraction of calibration impostor pairs scoring at or above this knot. */
  far: number;
}

export interface CalibrationTable {
  model: string;
  dataset: string;
  impostorPairs: number;
  genuinePairs: number;
  fittedAt: string;
  /** Ascending in cosine, score and (descending) far; first knot at cosine −1, last at +1. */
  knots: CalibrationKnot[];
}

/** Linear interpolation through (xs[i], ys[i]) with xs ascending; clamped at both ends. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  if (x <= xs[0]!) return ys[0]!;
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]!) {
      const t = (x - xs[i - 1]!) / (xs[i]! - xs[i - 1]!);
      return ys[i - 1]! + t * (ys[i]! - ys[i - 1]!);
    }
  }
  return ys[ys.length - 1]!;
}

/**
 * Two embeddings of the same pixels are the same vector, but their float32 dot product lands a few 1e-8 below
 * 1: treat anything this close as identical, so an identical image scores exactly 100 (and a group threshold
 * of 100 means "this very image").
 */
const IDENTICAL_COSINE = 1 - 1e-5;

export function scoreScaleFrom(calibration: CalibrationTable): ScoreScale {
  const cosines = calibration.knots.map((k) => k.cosine);
  const scores = calibration.knots.map((k) => k.score);
  // FAR is interpolated on a log scale: knots are decades apart. Zero (above every impostor) is floored.
  const logFars = calibration.knots.map((k) => Math.log10(Math.max(k.far, 1e-12)));
  return {
    fromCosine: (cosine) => interpolate(cosines, scores, cosine >= IDENTICAL_COSINE ? 1 : cosine),
    toCosine: (score) => interpolate(scores, cosines, score),
    falseAcceptRate: (score) => 10 ** interpolate(scores, logFars, score),
  };
}

export function loadScoreScale(): ScoreScale {
  return scoreScaleFrom(table as CalibrationTable);
}

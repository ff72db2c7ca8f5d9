/**
 * The livenessScore scale: the anti-spoofing model's log-odds mapped to 0..100 so that 50 is the equal-error
 * point measured on liveness-dev (as many live frames refused as attacks accepted). Fitted by
 * `npm run bench:liveness -- --write-table` and committed as liveness-table.json; piecewise linear between
 * knots, clamped at the ends.
 */
import { interpolate } from './calibration.js';
import table from './liveness-table.json' with { type: 'json' };

export interface LivenessKnot {
  logOdds: number;
  score: number;
  /** Fraction of the fitting set's attacks at or above this knot (accepted as live at this threshold). */
  apcer: number;
  /** Fraction of the fitting set's live faces below this knot (refused at this threshold). */
  bpcer: number;
}

export interface LivenessTable {
  model: string;
  dataset: string;
  live: number;
  attacks: number;
  fittedAt: string;
  /** Ascending in logOdds and score. */
  knots: LivenessKnot[];
}

export interface LivenessScale {
  /** 0..100; 50 ≙ the equal-error point. */
  fromLogOdds(logOdds: number): number;
}

/** The scale and the configured threshold (VISAGE_LIVENESS_THRESHOLD): a face below it is reported not live. */
export interface LivenessCheck {
  scale: LivenessScale;
  threshold: number;
}

export const DEFAULT_LIVENESS_THRESHOLD = 50;

export function livenessScaleFrom(liveness: LivenessTable): LivenessScale {
  const logOdds = liveness.knots.map((k) => k.logOdds);
  const scores = liveness.knots.map((k) => k.score);
  return { fromLogOdds: (x) => interpolate(logOdds, scores, x) };
}

export function loadLivenessScale(): LivenessScale {
  return livenessScaleFrom(table as LivenessTable);
}

/** Verification metrics over scored pairs: accuracy at a threshold, the best threshold, TAR at a FAR. */

export interface ScoredPair {
  score: number;
  same: boolean;
}

export function accuracyAt(pairs: ScoredPair[], threshold: number): number {
  const correct = pairs.filter((p) => (p.score >= threshold) === p.same).length;
  return correct / pairs.length;
}

/** The threshold (midpoint between neighbouring scores) that maximises accuracy on `pairs`. */
export function bestThreshold(pairs: ScoredPair[]): number {
  const scores = [...new Set(pairs.map((p) => p.score))].sort((a, b) => a - b);
  let best = { threshold: 0, accuracy: -1 };
  for (let i = 0; i < scores.length; i++) {
    const threshold = i === 0 ? scores[0]! - 1e-6 : (scores[i - 1]! + scores[i]!) / 2;
    const accuracy = accuracyAt(pairs, threshold);
    if (accuracy > best.accuracy) best = { threshold, accuracy };
  }
  return best.threshold;
}

/** Genuine accept rate at the threshold where at most `far` of the impostor scores are accepted. */
export function tarAtFar(genuine: number[], impostor: number[], far: number): { tar: number; threshold: number } {
  const sorted = [...impostor].sort((a, b) => b - a);
  const allowed = Math.floor(far * sorted.length);
  // Accept scores strictly above the (allowed+1)-th highest impostor score.
  const threshold = sorted[allowed] ?? -Infinity;
  const tar = genuine.filter((g) => g > threshold).length / genuine.length;
  return { tar, threshold };
}

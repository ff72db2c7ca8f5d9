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
export function tarAtFar(genuine: number[], ascendingImpostor: Float32Array, far: number): { tar: number; threshold: number } {
  const threshold = impostorQuantile(ascendingImpostor, far);
  const tar = genuine.filter((g) => g > threshold).length / genuine.length;
  return { tar, threshold };
}

/**
 * The cosine above which a fraction `far` of impostor scores lies: the (far·N + 1)-th highest score, so
 * accepting scores strictly above it accepts at most far·N impostors. `ascending` must be sorted.
 */
export function impostorQuantile(ascending: Float32Array, far: number): number {
  const allowed = Math.floor(far * ascending.length);
  return ascending[ascending.length - 1 - allowed] ?? -Infinity;
}

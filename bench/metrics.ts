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

/**
 * Presentation-attack detection (ISO/IEC 30107-3 terms): a face is accepted as live when its score ≥ the
 * threshold. APCER = attacks accepted, BPCER = live faces refused.
 */
export function apcerAt(attacks: readonly number[], threshold: number): number {
  return attacks.filter((a) => a >= threshold).length / attacks.length;
}

export function bpcerAt(live: readonly number[], threshold: number): number {
  return live.filter((l) => l < threshold).length / live.length;
}

/** The highest threshold that refuses at most a fraction `bpcer` of the live scores, and the APCER there. */
export function apcerAtBpcer(live: readonly number[], attacks: readonly number[], bpcer: number): { apcer: number; threshold: number } {
  const ascending = [...live].sort((a, b) => a - b);
  const threshold = ascending[Math.floor(bpcer * ascending.length)]!;
  return { apcer: apcerAt(attacks, threshold), threshold };
}

/**
 * The equal-error point: among thresholds midway between neighbouring scores, the one with the smallest
 * max(APCER, BPCER); the EER is the mean of the two there. When the classes are separated it is the middle
 * of the gap between the highest attack and the lowest live score, with EER 0.
 */
export function equalErrorPoint(live: readonly number[], attacks: readonly number[]): { eer: number; threshold: number } {
  const values = [...new Set([...live, ...attacks])].sort((a, b) => a - b);
  let best = { worst: Infinity, eer: 1, threshold: 0 };
  for (let i = 1; i < values.length; i++) {
    const threshold = (values[i - 1]! + values[i]!) / 2;
    const apcer = apcerAt(attacks, threshold);
    const bpcer = bpcerAt(live, threshold);
    const worst = Math.max(apcer, bpcer);
    if (worst < best.worst) best = { worst, eer: (apcer + bpcer) / 2, threshold };
  }
  return { eer: best.eer, threshold: best.threshold };
}

/**
 * Exact McNemar test of two classifiers on the same pairs: only the discordant pairs count — `onlyFirstWrong`
 * (the first wrong, the second right) and `onlySecondWrong` — and under "no difference" each is a fair coin
 * flip. Two-sided p-value from the binomial distribution, capped at 1.
 */
export function mcnemarExact(onlyFirstWrong: number, onlySecondWrong: number): number {
  const n = onlyFirstWrong + onlySecondWrong;
  if (n === 0) return 1;
  const k = Math.min(onlyFirstWrong, onlySecondWrong);
  let tail = 0;
  let term = 0.5 ** n; // C(n, 0) / 2^n
  for (let i = 0; i <= k; i++) {
    tail += term;
    term *= (n - i) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

/** False non-match rate and false match rate at each of `thresholds` (a DET/ROC curve's points). */
export function errorRates(genuine: number[], ascendingImpostor: Float32Array, thresholds: number[]): Array<{ threshold: number; fmr: number; fnmr: number }> {
  const sortedGenuine = Float64Array.from(genuine).sort();
  return thresholds.map((threshold) => ({
    threshold,
    fmr: 1 - lowerBound(ascendingImpostor, threshold) / ascendingImpostor.length,
    fnmr: lowerBound(sortedGenuine, threshold) / sortedGenuine.length,
  }));
}

/** Number of elements of ascending `values` below `x`. */
function lowerBound(values: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

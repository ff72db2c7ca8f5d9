/**
 * `npm run bench:accuracy`: LFW View 1 verification with the shipped pipeline. The threshold is chosen on
 * DevTrain and applied to DevTest; TAR at FAR 1e-3 uses all cross-identity pairs of View 1 as impostors
 * (the 500 impostor pairs of DevTest alone cannot resolve 1e-3). Pairs where a side has no face count as
 * "different". `--min-accuracy X` exits 1 when DevTest accuracy is below X (the CI gate); `--plot FILE`
 * draws the DET curve. `bench:recognition` runs the same measurement among the others.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadScoreScale } from '../src/recognition/calibration.js';
import { cosine } from '../src/vision/embed.js';
import { isMain, numberOption, option } from './cli.js';
import { allImages, crossScores, embedAllCached, lfwAvailable, LFW_DIR, readPairs, type Pair } from './dataset.js';
import { detSvg, writeDetPng } from './det-plot.js';
import { accuracyAt, bestThreshold, errorRates, mcnemarExact, tarAtFar, type ScoredPair } from './metrics.js';

export interface AccuracyResult {
  model: string;
  devtest_accuracy: number;
  devtest_errors: number;
  devtest_false_rejects: number;
  devtrain_threshold_cosine: number;
  tar_at_far_1e3: number;
  tar_at_far_1e4: number;
  genuine_pairs: number;
  impostor_pairs: number;
  images: number;
  images_without_face: number;
  mcnemar_vs_baseline: { baseline: string; fixed: number; broken: number; p: number };
  score_table: Array<{ score: number; cosine: number; far: number; tar: number }>;
  median_ms_per_image: number;
  total_s: number;
}

/** Measures and prints; undefined (and says so) when LFW is not there. */
export async function measureAccuracy(options: { plotFile?: string } = {}): Promise<AccuracyResult | undefined> {
  if (!lfwAvailable()) {
    console.log(`bench:accuracy: ${LFW_DIR} not found; skipped (nothing measured)`);
    return undefined;
  }
  const train = readPairs('pairsDevTrain.txt');
  const test = readPairs('pairsDevTest.txt');
  const images = allImages();
  const started = performance.now();
  const run = await embedAllCached(images.map((i) => i.path));

  const score = (p: Pair): ScoredPair => {
    const a = run.embeddings.get(p.a);
    const b = run.embeddings.get(p.b);
    return { score: a && b ? cosine(a, b) : -1, same: p.same };
  };
  const trainScores = train.map(score);
  const testScores = test.map(score);
  const threshold = bestThreshold(trainScores);
  const accuracy = accuracyAt(testScores, threshold);
  const errors = testScores.filter((p) => (p.score >= threshold) !== p.same);

  const { genuine, impostor } = crossScores(images, run.embeddings);
  const far3 = tarAtFar(genuine, impostor, 1e-3);
  const far4 = tarAtFar(genuine, impostor, 1e-4);
  const noFace = images.filter((i) => !run.embeddings.get(i.path)).length;

  // McNemar against the foundation's decisions on the same DevTest pairs.
  const pairKey = (p: Pair) => `${basename(p.a)}|${basename(p.b)}`;
  const baseline = JSON.parse(readFileSync(new URL('./baseline-devtest.json', import.meta.url), 'utf8')) as { model: string; errors: string[] };
  const baselineWrong = new Set(baseline.errors);
  const wrongNow = new Set(test.filter((_, i) => (testScores[i]!.score >= threshold) !== testScores[i]!.same).map(pairKey));
  const fixed = [...baselineWrong].filter((key) => !wrongNow.has(key)).length;
  const broken = [...wrongNow].filter((key) => !baselineWrong.has(key)).length;
  const mcnemarP = mcnemarExact(fixed, broken);

  // Score → FAR / TAR on all View 1 pairs (the calibration set, so FAR is in-sample by construction).
  const scale = loadScoreScale();
  const scoreTable = [50, 60, 70, 75, 80, 85, 90, 95].map((s) => {
    const [rates] = errorRates(genuine, impostor, [scale.toCosine(s)]);
    return { score: s, cosine: Number(scale.toCosine(s).toFixed(4)), far: rates!.fmr, tar: 1 - rates!.fnmr };
  });

  const result: AccuracyResult = {
    model: run.modelId,
    devtest_accuracy: Number((accuracy * 100).toFixed(2)),
    devtest_errors: errors.length,
    devtest_false_rejects: errors.filter((p) => p.same).length,
    devtrain_threshold_cosine: Number(threshold.toFixed(4)),
    tar_at_far_1e3: Number((far3.tar * 100).toFixed(2)),
    tar_at_far_1e4: Number((far4.tar * 100).toFixed(2)),
    genuine_pairs: genuine.length,
    impostor_pairs: impostor.length,
    images: images.length,
    images_without_face: noFace,
    mcnemar_vs_baseline: { baseline: baseline.model, fixed, broken, p: Number(mcnemarP.toPrecision(3)) },
    score_table: scoreTable,
    median_ms_per_image: Number(run.medianMs.toFixed(1)),
    total_s: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  console.log(`LFW View 1 DevTest accuracy ${result.devtest_accuracy} % (threshold ${result.devtrain_threshold_cosine} from DevTrain, ${errors.length} errors)`);
  console.log(`TAR ${result.tar_at_far_1e3} % at FAR 1e-3, ${result.tar_at_far_1e4} % at FAR 1e-4 (${genuine.length} genuine, ${impostor.length} impostor pairs of View 1)`);
  console.log(`McNemar vs ${baseline.model}'s DevTest decisions: ${fixed} pairs fixed, ${broken} broken, exact p = ${result.mcnemar_vs_baseline.p}`);
  console.log('score → FAR / TAR on all View 1 pairs:');
  for (const row of scoreTable) {
    console.log(`  ${row.score}  cosine ${row.cosine.toFixed(4)}  FAR ${row.far.toExponential(2)}  TAR ${(row.tar * 100).toFixed(2)} %`);
  }
  if (options.plotFile) {
    const thresholds = Array.from({ length: 401 }, (_, i) => -0.2 + i * 0.003);
    const marks = scoreTable
      .filter((row) => row.score >= 60)
      .map((row) => ({ fmr: row.far, fnmr: 1 - row.tar, label: `score ${row.score}` }));
    const title = `DET, LFW View 1 (${genuine.length} genuine, ${(impostor.length / 1e6).toFixed(2)} M impostor pairs), ${run.modelId}`;
    await writeDetPng(options.plotFile, detSvg(title, errorRates(genuine, impostor, thresholds), marks));
    console.log(`wrote ${options.plotFile}`);
  }
  return result;
}

if (isMain(import.meta.url)) {
  const minAccuracy = option('--min-accuracy') === undefined ? undefined : numberOption('--min-accuracy', 0);
  const result = await measureAccuracy({ plotFile: option('--plot') });
  if (result) console.log(JSON.stringify(result));
  if (result && minAccuracy !== undefined && result.devtest_accuracy < minAccuracy) {
    console.error(`accuracy gate: ${result.devtest_accuracy} % < ${minAccuracy} %`);
    process.exit(1);
  }
}

/**
 * `npm run bench:accuracy`: LFW View 1 verification with the shipped pipeline. The threshold is chosen on
 * DevTrain and applied to DevTest; TAR at FAR 1e-3 uses all cross-identity pairs of View 1 as impostors
 * (the 500 impostor pairs of DevTest alone cannot resolve 1e-3). Pairs where a side has no face count as
 * "different". `--min-accuracy X` exits 1 when DevTest accuracy is below X (the CI gate).
 */
import { cosine } from '../src/vision/embed.js';
import { allImages, crossScores, embedAllCached, lfwAvailable, LFW_DIR, readPairs, type Pair } from './dataset.js';
import { accuracyAt, bestThreshold, tarAtFar, type ScoredPair } from './metrics.js';

const minIndex = process.argv.indexOf('--min-accuracy');
const minAccuracy = minIndex > 0 ? Number(process.argv[minIndex + 1]) : undefined;

if (!lfwAvailable()) {
  console.log(`bench:accuracy: ${LFW_DIR} not found; skipped (nothing measured)`);
  process.exit(0);
}

const train = readPairs('pairsDevTrain.txt');
const test = readPairs('pairsDevTest.txt');
const images = allImages();
const started = performance.now();
const run = await embedAllCached(images.map((i) => i.path));
const seconds = (performance.now() - started) / 1000;

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

const result = {
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
  median_ms_per_image: Number(run.medianMs.toFixed(1)),
  total_s: Number(seconds.toFixed(1)),
};
console.log(`LFW View 1 DevTest accuracy ${result.devtest_accuracy} % (threshold ${result.devtrain_threshold_cosine} from DevTrain, ${errors.length} errors)`);
console.log(`TAR ${result.tar_at_far_1e3} % at FAR 1e-3, ${result.tar_at_far_1e4} % at FAR 1e-4 (${genuine.length} genuine, ${impostor.length} impostor pairs of View 1)`);
console.log(JSON.stringify(result));
if (minAccuracy !== undefined && result.devtest_accuracy < minAccuracy) {
  console.error(`accuracy gate: ${result.devtest_accuracy} % < ${minAccuracy} %`);
  process.exit(1);
}

/**
 * `npm run calibrate`: fits the cosine → 0..100 score table on LFW View 1 and writes
 * src/recognition/calibration-table.json. Knots sit at impostor quantiles: FAR 1e-1 … 1e-5 ↦ 50 … 90
 * (10 points a decade), 1e-6 ↦ 95, the median impostor ↦ 30, cosine 1 ↦ 100, −1 ↦ 0.
 * Re-run after any change to the pipeline; the accuracy bench reuses the cached embeddings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allImages, crossScores, embedAllCached, lfwAvailable, LFW_DIR } from '../bench/dataset.js';
import { impostorQuantile } from '../bench/metrics.js';
import type { CalibrationKnot, CalibrationTable } from '../src/recognition/calibration.js';

if (!lfwAvailable()) {
  console.error(`calibrate: ${LFW_DIR} not found`);
  process.exit(1);
}

const images = allImages();
const run = await embedAllCached(images.map((i) => i.path));
const { genuine, impostor } = crossScores(images, run.embeddings);
const n = impostor.length;

const knots: CalibrationKnot[] = [{ cosine: -1, score: 0, far: 1 }];
knots.push({ cosine: impostorQuantile(impostor, 0.5), score: 30, far: 0.5 });
for (let decade = 1; decade <= 5; decade++) {
  const far = 10 ** -decade;
  knots.push({ cosine: impostorQuantile(impostor, far), score: 40 + 10 * decade, far });
}
// Beyond 1e-5 the decades are compressed: 1e-6 (a dozen pairs here) ↦ 95. Not the highest impostor: LFW has
// a few near-duplicate photos filed under two names, and one such outlier would bend the whole top range.
knots.push({ cosine: impostorQuantile(impostor, 1e-6), score: 95, far: 1e-6 });
knots.push({ cosine: 1, score: 100, far: 0 });

for (let i = 1; i < knots.length; i++) {
  if (!(knots[i]!.cosine > knots[i - 1]!.cosine)) throw new Error(`knots not increasing at ${i}: ${JSON.stringify(knots)}`);
}

const table: CalibrationTable = {
  model: run.modelId,
  dataset: 'LFW View 1 (4,992 images), all cross-identity pairs',
  impostorPairs: n,
  genuinePairs: genuine.length,
  fittedAt: new Date().toISOString().slice(0, 10),
  knots: knots.map((k) => ({ cosine: Number(k.cosine.toFixed(5)), score: k.score, far: k.far })),
};
const out = join(import.meta.dirname, '..', 'src', 'recognition', 'calibration-table.json');
writeFileSync(out, JSON.stringify(table, null, 2) + '\n');
console.log(`wrote ${out}`);
for (const k of table.knots) console.log(`  cosine ${k.cosine.toFixed(4)} → score ${k.score} (FAR ${k.far.toExponential(1)})`);

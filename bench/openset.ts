/**
 * `npm run bench:openset`: enrolled-vs-stranger search on LFW View 1 through the real index and score scale.
 * One image of every identity with ≥ 2 images is enrolled (its first); each of its other images is a probe
 * that should find it (rank-1 hit at or above the threshold); every image of an identity with a single image
 * — never enrolled — is a stranger probe that should find nothing. Reuses the accuracy bench's embeddings.
 * Prints the trade-off at every threshold 70…99 so an operator can pick a group's `groupScore`, with the
 * false-alarm rate the calibration predicts for a gallery of this size (1 − (1 − FAR)^N).
 *
 * It also measures two open-set levers against the plain score: the best cosine normalised against the probe's
 * scores over the whole gallery (z-norm, a cohort normalisation) and the margin of the best over the second
 * best. Each is tuned on half the identities (DevTrain's; those in no pair list by a hash of the name) to a
 * target stranger false-alarm rate and reported on the other half, so a lever counts only if it finds more
 * enrolled people at the same false-alarm rate on people it was not tuned on.
 */
import { exactFrom, VectorIndex } from '../src/index/vector-index.js';
import { loadScoreScale } from '../src/recognition/calibration.js';
import { cosine } from '../src/vision/embed.js';
import { isMain, numberOption } from './cli.js';
import { allImages, embedAllCached, lfwAvailable, LFW_DIR, readPairs } from './dataset.js';

export interface OpenSetPoint {
  threshold: number;
  rank1_hit_rate: number;
  misidentified: number;
  missed: number;
  stranger_false_alarm_rate: number;
  stranger_false_alarms: number;
}

export interface OpenSetResult extends OpenSetPoint {
  model: string;
  gallery: number;
  enrolled_probes: number;
  stranger_probes: number;
  images_without_face: number;
  /** Every whole score from 70 to 99. */
  curve: OpenSetPoint[];
  levers: LeverPoint[];
}

/** One decision rule at one target false-alarm rate, tuned on one half of the identities, tested on the other. */
export interface LeverPoint {
  lever: 'score' | 'z-norm' | 'margin';
  target_false_alarm_rate: number;
  held_out_false_alarm_rate: number;
  held_out_rank1_hit_rate: number;
}

const LEVER_TARGETS = [0.001, 0.01, 0.05];

const CURVE = Array.from({ length: 30 }, (_, i) => 70 + i);

/** Measures and prints; undefined (and says so) when LFW is not there. */
export async function measureOpenSet(threshold = 80): Promise<OpenSetResult | undefined> {
  if (!lfwAvailable()) {
    console.log(`bench:openset: ${LFW_DIR} not found; skipped (nothing measured)`);
    return undefined;
  }
  const images = allImages();
  const run = await embedAllCached(images.map((i) => i.path));
  const scale = loadScoreScale();

  const byIdentity = new Map<string, string[]>();
  for (const image of images) byIdentity.set(image.identity, [...(byIdentity.get(image.identity) ?? []), image.path]);

  const enrolledVectors = new Map<string, Float32Array>();
  const index = new VectorIndex(512, { exact: exactFrom(enrolledVectors) });
  const enrolledProbes: Labelled[] = [];
  const strangerProbes: Labelled[] = [];
  const gallery: Labelled[] = [];
  let noFace = 0;
  for (const [identity, paths] of byIdentity) {
    const embeddings = paths.map((path) => run.embeddings.get(path) ?? null);
    noFace += embeddings.filter((e) => !e).length;
    if (paths.length === 1) {
      if (embeddings[0]) strangerProbes.push({ identity, embedding: embeddings[0] });
      continue;
    }
    // The first image with a face is enrolled, the rest probe.
    const enrolled = embeddings.findIndex((e) => e);
    if (enrolled < 0) continue;
    index.add(identity, embeddings[enrolled]!, ['lfw']);
    enrolledVectors.set(identity, embeddings[enrolled]!);
    gallery.push({ identity, embedding: embeddings[enrolled]! });
    for (const e of embeddings.slice(enrolled + 1)) if (e) enrolledProbes.push({ identity, embedding: e });
  }

  // Each probe's best match, once: a threshold then only decides whether that match is a hit.
  const best = async (embedding: Float32Array) => {
    const [top] = await index.search(embedding, { groups: ['lfw'], limit: 1, minCosine: -1 });
    return top && { faceToken: top.faceToken, score: scale.fromCosine(top.cosine) };
  };
  const enrolledBest = await Promise.all(enrolledProbes.map(async (probe) => ({ identity: probe.identity, top: await best(probe.embedding) })));
  const strangerBest = await Promise.all(strangerProbes.map((probe) => best(probe.embedding)));

  /** Rank-1 hits and stranger false alarms at one score threshold, as the search service decides. */
  const evaluate = (t: number): OpenSetPoint => {
    let hits = 0;
    let wrong = 0;
    for (const { identity, top } of enrolledBest) {
      if (!top || top.score < t) continue;
      if (top.faceToken === identity) hits++;
      else wrong++;
    }
    const falseAlarms = strangerBest.filter((top) => top && top.score >= t).length;
    const pct = (n: number, d: number) => Number(((100 * n) / d).toFixed(2));
    return {
      threshold: t,
      rank1_hit_rate: pct(hits, enrolledProbes.length),
      misidentified: wrong,
      missed: enrolledProbes.length - hits - wrong,
      stranger_false_alarm_rate: pct(falseAlarms, strangerProbes.length),
      stranger_false_alarms: falseAlarms,
    };
  };

  const levers = measureLevers(gallery, enrolledProbes, strangerProbes, tuningIdentities());

  const result: OpenSetResult = {
    model: run.modelId,
    gallery: index.size,
    enrolled_probes: enrolledProbes.length,
    stranger_probes: strangerProbes.length,
    images_without_face: noFace,
    ...evaluate(threshold),
    curve: CURVE.map(evaluate),
    levers,
  };
  console.log(
    `open set at score ${threshold}: rank-1 hit ${result.rank1_hit_rate} % of ${enrolledProbes.length} enrolled probes ` +
      `(${result.misidentified} wrong person, ${result.missed} missed) in a gallery of ${index.size}; ` +
      `strangers: ${result.stranger_false_alarms} false alarms of ${strangerProbes.length} (${result.stranger_false_alarm_rate} %)`,
  );
  // A stranger meets every enrolled face, so the per-probe false-alarm rate grows with the gallery (≈ size × pair FAR).
  console.log(`| groupScore | FAR of one comparison | rank-1 hit | wrong person | stranger false alarms | predicted for ${index.size} faces |`);
  console.log('|---|---|---|---|---|---|');
  for (const p of result.curve) {
    const far = scale.falseAcceptRate(p.threshold);
    const predicted = 1 - (1 - far) ** index.size;
    console.log(`| ${p.threshold} | ${far.toExponential(1)} | ${p.rank1_hit_rate} % | ${p.misidentified} | ${p.stranger_false_alarm_rate} % (${p.stranger_false_alarms}) | ${(predicted * 100).toFixed(2)} % |`);
  }
  console.log('\nopen-set levers, tuned on half the identities to a stranger false-alarm rate, tested on the other half:');
  console.log('| target false alarms | ' + LEVERS.map((l) => `${l}: false alarms / rank-1 hit`).join(' | ') + ' |');
  console.log('|---|' + LEVERS.map(() => '---|').join(''));
  for (const target of LEVER_TARGETS) {
    const cells = LEVERS.map((lever) => {
      const p = levers.find((x) => x.lever === lever && x.target_false_alarm_rate === target)!;
      return `${p.held_out_false_alarm_rate} % / ${p.held_out_rank1_hit_rate} %`;
    });
    console.log(`| ${target * 100} % | ${cells.join(' | ')} |`);
  }
  return result;
}

const LEVERS = ['score', 'z-norm', 'margin'] as const;

/** Identities of DevTrain's pairs, and of no pair list by a hash of the name, are the tuning half. */
function tuningIdentities(): (identity: string) => boolean {
  const identities = (file: 'pairsDevTrain.txt' | 'pairsDevTest.txt') =>
    new Set(readPairs(file).flatMap((p) => [p.a, p.b].map((path) => path.split('/').at(-2)!)));
  const train = identities('pairsDevTrain.txt');
  const test = identities('pairsDevTest.txt');
  const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 0);
  return (identity) => train.has(identity) || (!test.has(identity) && hash(identity) % 2 === 1);
}

type Labelled = { identity: string; embedding: Float32Array };

/** Each probe's rank-1 identity and the value each lever decides on. */
function leverValues(gallery: Labelled[], probe: Float32Array) {
  const scores = gallery.map((g) => cosine(probe, g.embedding));
  let first = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[first]!) first = i;
  const best = scores[first]!;
  const second = Math.max(...scores.filter((_, i) => i !== first));
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  return { top: gallery[first]!.identity, values: { score: best, 'z-norm': (best - mean) / sd, margin: best - second } };
}

function measureLevers(gallery: Labelled[], enrolled: Labelled[], strangers: Labelled[], isTuning: (identity: string) => boolean): LeverPoint[] {
  const evaluate = (p: Labelled) => ({ identity: p.identity, tuning: isTuning(p.identity), ...leverValues(gallery, p.embedding) });
  const enrolledValues = enrolled.map(evaluate);
  const strangerValues = strangers.map(evaluate);
  const pct = (n: number, d: number) => Number(((100 * n) / d).toFixed(2));
  return LEVERS.flatMap((lever) =>
    LEVER_TARGETS.map((target) => {
      const tuning = strangerValues.filter((s) => s.tuning).map((s) => s.values[lever]).sort((a, b) => b - a);
      const threshold = tuning[Math.floor(target * tuning.length)]! + 1e-9;
      const heldStrangers = strangerValues.filter((s) => !s.tuning);
      const heldEnrolled = enrolledValues.filter((p) => !p.tuning);
      return {
        lever,
        target_false_alarm_rate: target,
        held_out_false_alarm_rate: pct(heldStrangers.filter((s) => s.values[lever] >= threshold).length, heldStrangers.length),
        held_out_rank1_hit_rate: pct(heldEnrolled.filter((p) => p.values[lever] >= threshold && p.top === p.identity).length, heldEnrolled.length),
      };
    }),
  );
}

if (isMain(import.meta.url)) {
  const result = await measureOpenSet(numberOption('--threshold', 80));
  if (result) console.log(JSON.stringify(result));
}

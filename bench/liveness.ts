/**
 * `npm run bench:liveness`: the anti-spoofing model on ../shared/datasets/liveness-dev (220 live webcam frames,
 * 221 printed-photo attacks of the same 9 NUAA subjects, 2 + 2 Silent-Face samples).
 *
 * 1. Threshold-free figures on the model's log-odds: EER, APCER at BPCER 5 % and 1 %, for BGR input (what
 *    ships) and RGB input (to confirm the channel order by measurement), and a leave-one-subject-out check of
 *    the equal-error threshold (fitted on the other subjects, applied to the one left out).
 * 2. The livenessScore scale: `--write-table` fits src/recognition/liveness-table.json (50 ≙ the EER point);
 *    every run reports APCER and BPCER at livenessScore 50 with the committed table.
 * 3. Synthetic variants of every frame (re-encoded, resized, blurred, gamma, colour cast, a moiré grating, a
 *    simulated screen replay): how far live scores move (a re-encoded live face is still live: BPCER), whether
 *    degraded attacks stay caught (APCER), and whether simulated replays of live frames are caught.
 * `bench:recognition` runs the same measurement among the others.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { livenessScaleFrom, type LivenessKnot, type LivenessScale, type LivenessTable } from '../src/recognition/liveness-scale.js';
import table from '../src/recognition/liveness-table.json' with { type: 'json' };
import { decodeImage } from '../src/vision/decode.js';
import { LivenessModel } from '../src/vision/liveness.js';
import { loadModel } from '../src/vision/onnx.js';
import { createFaceAnalyzer } from '../src/vision/pool.js';
import type { FaceAnalyzer, Rect } from '../src/vision/types.js';
import { isMain } from './cli.js';
import { DATASETS_DIR, inLanes, MODEL_DIR } from './dataset.js';
import { blur, downUp, gain, gamma, jpeg, moire, screenReplay, type Degrade } from './degrade.js';
import { apcerAt, apcerAtBpcer, bpcerAt, equalErrorPoint } from './metrics.js';

const DIR = resolve(process.env.VISAGE_LIVENESS_DEV ?? join(DATASETS_DIR, 'liveness-dev'));
const THRESHOLD = 50;

interface Frame {
  path: string;
  live: boolean;
  /** NUAA subject id, or `silent-face` for the four Silent-Face samples. */
  subject: string;
}

const readFrames = (): Frame[] =>
  (['live', 'spoof'] as const).flatMap((folder) =>
    readdirSync(join(DIR, folder))
      .sort()
      .map((file) => ({ path: join(DIR, folder, file), live: folder === 'live', subject: /^nuaa_(\d+)_/.exec(file)?.[1] ?? 'silent-face' })),
  );

interface Scored {
  frame: Frame;
  /** Null when no face was found. */
  logOdds: number | null;
  rect?: Rect;
}

const threads = cpus().length;

async function scoreFrames(analyzer: FaceAnalyzer, frames: Frame[], degrade?: Degrade): Promise<Scored[]> {
  const scored: Scored[] = new Array(frames.length);
  await inLanes(frames, threads, async (frame, i) => {
    const original = readFileSync(frame.path);
    const bytes = degrade ? await degrade(original) : original;
    const face = (await analyzer.analyze(bytes, { liveness: true, maxFaces: 1 })).faces[0];
    scored[i] = face ? { frame, logOdds: face.liveLogOdds!, rect: face.rect } : { frame, logOdds: null };
  });
  return scored;
}

function split(scored: Scored[]): { live: number[]; attacks: number[]; noFace: number } {
  const live: number[] = [];
  const attacks: number[] = [];
  for (const s of scored) if (s.logOdds !== null) (s.frame.live ? live : attacks).push(s.logOdds);
  return { live, attacks, noFace: scored.filter((s) => s.logOdds === null).length };
}

/** The same faces (boxes from the BGR run) scored with RGB input. */
async function scoreRgb(scored: Scored[]): Promise<Scored[]> {
  const model = new LivenessModel(await loadModel(MODEL_DIR, 'fr_liveness.onnx'), 'rgb');
  const out: Scored[] = [];
  for (const s of scored) {
    if (!s.rect) continue;
    const { raster } = await decodeImage(readFileSync(s.frame.path));
    const detection = { x1: s.rect.left, y1: s.rect.top, x2: s.rect.right, y2: s.rect.bottom, score: 1 };
    out.push({ frame: s.frame, logOdds: await model.liveLogOdds(raster, detection) });
  }
  return out;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface PadSummary {
  eer: number;
  eerLogOdds: number;
  apcerAtBpcer5: number;
  apcerAtBpcer1: number;
}

export interface VariantOutcome {
  liveMedian: number;
  bpcer: number;
  attackMedian: number;
  apcer: number;
  noFace: number;
}

export interface LivenessResult {
  bgr: PadSummary;
  rgb: PadSummary;
  leaveOneSubjectOut: { apcer: number; bpcer: number };
  /** APCER and BPCER at livenessScore 50 with the committed (or just fitted) table. */
  atScore50: { apcer: number; bpcer: number };
  live: number;
  attacks: number;
  noFace: number;
  variants: Record<string, VariantOutcome>;
  seconds: number;
}

function summary(live: number[], attacks: number[]): PadSummary {
  const eer = equalErrorPoint(live, attacks);
  return {
    eer: eer.eer,
    eerLogOdds: eer.threshold,
    apcerAtBpcer5: apcerAtBpcer(live, attacks, 0.05).apcer,
    apcerAtBpcer1: apcerAtBpcer(live, attacks, 0.01).apcer,
  };
}

/** Knots: lowest score ↦ 0, median attack ↦ 25, equal-error threshold ↦ 50, median live ↦ 75, highest ↦ 100. */
function fitTable(live: number[], attacks: number[], model: string): LivenessTable {
  const all = [...live, ...attacks];
  const points: Array<[number, number]> = [
    [Math.min(...all), 0],
    [median(attacks), 25],
    [equalErrorPoint(live, attacks).threshold, 50],
    [median(live), 75],
    [Math.max(...all), 100],
  ];
  const knots: LivenessKnot[] = points.map(([logOdds, score]) => ({
    logOdds: Number(logOdds.toFixed(4)),
    score,
    apcer: Number(apcerAt(attacks, logOdds).toFixed(4)),
    bpcer: Number(bpcerAt(live, logOdds).toFixed(4)),
  }));
  for (let i = 1; i < knots.length; i++) {
    if (!(knots[i]!.logOdds > knots[i - 1]!.logOdds)) throw new Error(`liveness knots not increasing: ${JSON.stringify(knots)}`);
  }
  return {
    model,
    dataset: `liveness-dev: ${live.length} live frames, ${attacks.length} printed-photo attacks (NUAA + Silent-Face samples)`,
    live: live.length,
    attacks: attacks.length,
    fittedAt: new Date().toISOString().slice(0, 10),
    knots,
  };
}

/** Leave one subject out: the EER threshold fitted on the others, errors counted on the one left out. */
function leaveOneSubjectOut(scored: Scored[]): { apcer: number; bpcer: number } {
  let acceptedAttacks = 0;
  let refusedLive = 0;
  const valid = scored.filter((s) => s.logOdds !== null);
  for (const subject of new Set(valid.map((s) => s.frame.subject))) {
    const rest = split(valid.filter((s) => s.frame.subject !== subject));
    const { threshold } = equalErrorPoint(rest.live, rest.attacks);
    for (const s of valid.filter((v) => v.frame.subject === subject)) {
      if (s.frame.live && s.logOdds! < threshold) refusedLive++;
      if (!s.frame.live && s.logOdds! >= threshold) acceptedAttacks++;
    }
  }
  const { live, attacks } = split(valid);
  return { apcer: acceptedAttacks / attacks.length, bpcer: refusedLive / live.length };
}

const VARIANTS: Array<[string, Degrade]> = [
  ['JPEG quality 30', jpeg(30)],
  ['JPEG quality 10', jpeg(10)],
  ['resized to 50 % and back', downUp(0.5)],
  ['resized to 25 % and back', downUp(0.25)],
  ['Gaussian blur σ 1.5 px', blur(1.5)],
  ['Gaussian blur σ 3 px', blur(3)],
  ['gamma 0.6 (brighter)', gamma(0.6)],
  ['gamma 1.6 (darker)', gamma(1.6)],
  ['blue colour cast', gain(0.85, 0.95, 1.15)],
  ['moiré grating + LCD stripes', moire()],
  ['simulated screen replay', screenReplay],
];

/** Measures and prints; undefined (and says so) when liveness-dev is not there. */
export async function measureLiveness(options: { writeTable?: boolean } = {}): Promise<LivenessResult | undefined> {
  if (!existsSync(join(DIR, 'live'))) {
    console.log(`bench:liveness: ${DIR} not found; skipped (nothing measured)`);
    return undefined;
  }
  const frames = readFrames();
  const analyzer = await createFaceAnalyzer({ modelDir: MODEL_DIR, threads, maxQueue: Infinity });
  try {
    const started = performance.now();
    const original = await scoreFrames(analyzer, frames);
    const { live, attacks, noFace } = split(original);
    const bgr = summary(live, attacks);
    const rgbScored = split(await scoreRgb(original));
    const rgb = summary(rgbScored.live, rgbScored.attacks);
    const loso = leaveOneSubjectOut(original);

    let fitted: LivenessTable = table as LivenessTable;
    if (options.writeTable) {
      fitted = fitTable(live, attacks, 'faceplugin-fr_liveness@0.0.1');
      const out = join(import.meta.dirname, '..', 'src', 'recognition', 'liveness-table.json');
      writeFileSync(out, JSON.stringify(fitted, null, 2) + '\n');
      console.log(`wrote ${out}`);
    }
    const scale: LivenessScale = livenessScaleFrom(fitted);
    const toScores = (xs: number[]): number[] => xs.map((x) => scale.fromLogOdds(x));
    const liveScores = toScores(live);
    const attackScores = toScores(attacks);
    const atScore50 = { apcer: apcerAt(attackScores, THRESHOLD), bpcer: bpcerAt(liveScores, THRESHOLD) };

    console.log(`liveness-dev: ${live.length} live, ${attacks.length} attacks scored (${noFace} frames without a face)`);
    console.log(`log-odds: live median ${median(live).toFixed(2)} (min ${Math.min(...live).toFixed(2)}), attacks median ${median(attacks).toFixed(2)} (max ${Math.max(...attacks).toFixed(2)})`);
    console.log(`BGR input: EER ${pct(bgr.eer)}, APCER ${pct(bgr.apcerAtBpcer5)} at BPCER 5 %, ${pct(bgr.apcerAtBpcer1)} at BPCER 1 %`);
    console.log(`RGB input: EER ${pct(rgb.eer)}, APCER ${pct(rgb.apcerAtBpcer5)} at BPCER 5 %, ${pct(rgb.apcerAtBpcer1)} at BPCER 1 %`);
    console.log(`leave-one-subject-out EER threshold: APCER ${pct(loso.apcer)}, BPCER ${pct(loso.bpcer)}`);
    console.log(`at livenessScore ${THRESHOLD} (${options.writeTable ? 'table just fitted' : 'committed table'}): APCER ${pct(atScore50.apcer)}, BPCER ${pct(atScore50.bpcer)}; live mean score ${(liveScores.reduce((a, b) => a + b, 0) / liveScores.length).toFixed(1)}`);

    console.log('\nsynthetic variants of every frame, at livenessScore 50:');
    console.log('| variant | live frames: median score | live refused (BPCER) | attacks: median score | attacks accepted (APCER) | no face |');
    console.log('|---|---|---|---|---|---|');
    const variants: Record<string, VariantOutcome> = {};
    const row = (name: string, v: { live: number[]; attacks: number[]; noFace: number }): void => {
      const ls = toScores(v.live);
      const as = toScores(v.attacks);
      const r = { liveMedian: median(ls), bpcer: bpcerAt(ls, THRESHOLD), attackMedian: median(as), apcer: apcerAt(as, THRESHOLD), noFace: v.noFace };
      variants[name] = r;
      console.log(`| ${name} | ${r.liveMedian.toFixed(1)} | ${pct(r.bpcer)} | ${r.attackMedian.toFixed(1)} | ${pct(r.apcer)} | ${r.noFace} |`);
    };
    row('as captured', { live, attacks, noFace });
    for (const [name, degrade] of VARIANTS) row(name, split(await scoreFrames(analyzer, frames, degrade)));

    const seconds = Math.round((performance.now() - started) / 1000);
    return { bgr, rgb, leaveOneSubjectOut: loso, atScore50, live: live.length, attacks: attacks.length, noFace, variants, seconds };
  } finally {
    await analyzer.close();
  }
}

if (isMain(import.meta.url)) {
  const result = await measureLiveness({ writeTable: process.argv.includes('--write-table') });
  if (result) console.log(JSON.stringify(result));
}

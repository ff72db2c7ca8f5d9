/**
 * `npm run bench:recognition`: every recognition-quality figure from one command — LFW accuracy (and the
 * DET plot with `--plot FILE`), open set, the quality gate, liveness and detection — each bench's own
 * measurement run in turn (their detailed output first), then one summary table against the goals of the
 * quality issue and one JSON line. About 15 minutes on a quiet 2-core machine with LFW's embeddings cached
 * in .bench/ (a first run embeds View 1 first); a bench whose dataset is missing is reported as skipped.
 */
import { measureAccuracy } from './accuracy.js';
import { option, percent } from './cli.js';
import { measureDetection } from './detection.js';
import { measureLiveness } from './liveness.js';
import { measureOpenSet } from './openset.js';
import { measureQualityGate } from './quality.js';

const started = performance.now();
const section = (title: string): void => console.log(`\n=== ${title} ===`);

section('accuracy (bench:accuracy)');
const accuracy = await measureAccuracy({ plotFile: option('--plot') });
section('open set (bench:openset)');
const openSet = await measureOpenSet(80);
section('quality gate (bench:quality)');
const quality = await measureQualityGate();
section('liveness (bench:liveness)');
const liveness = await measureLiveness();
section('detection (bench:detection)');
const detection = await measureDetection();

type Row = [area: string, figure: string, value: string, goal: string];
const rows: Row[] = [];
const skipped = (area: string): void => void rows.push([area, 'dataset not found', 'skipped', '']);

if (accuracy) {
  const m = accuracy.mcnemar_vs_baseline;
  rows.push(
    ['accuracy', 'LFW View 1 DevTest accuracy (threshold from DevTrain)', `${accuracy.devtest_accuracy} % (${accuracy.devtest_errors} errors)`, '≥ 99.5 %'],
    ['accuracy', 'TAR at FAR 1e-3 / 1e-4 (all View 1 pairs)', `${accuracy.tar_at_far_1e3} % / ${accuracy.tar_at_far_1e4} %`, '≥ 98.9 % at 1e-3'],
    ['accuracy', `McNemar vs the baseline's DevTest decisions`, `${m.fixed} fixed, ${m.broken} broken, p = ${m.p}`, ''],
  );
} else skipped('accuracy');

if (openSet) {
  const strict = openSet.curve.find((p) => p.stranger_false_alarm_rate <= 0.1);
  rows.push(
    ['open set', `rank-1 hit at score 80 (gallery ${openSet.gallery})`, `${openSet.rank1_hit_rate} %`, '≥ 97 %'],
    ['open set', 'stranger false alarms at score 80', `${openSet.stranger_false_alarm_rate} %`, '≤ 0.1 %'],
    ['open set', 'lowest groupScore with ≤ 0.1 % false alarms', strict ? `${strict.threshold}: rank-1 hit ${strict.rank1_hit_rate} %` : 'none', ''],
  );
} else skipped('open set');

if (quality) {
  rows.push(['quality gate', 'clean LFW View 1 not registered', percent(quality.clean.notRegistered), '< 2 %']);
  for (const [name, o] of Object.entries(quality.degraded)) rows.push(['quality gate', `${name} refused`, percent(o.notRegistered), '']);
  const limit = quality.thresholds.maxYaw;
  const judged = { frontal: 'frontal', within: `within the ${limit}° yaw limit`, 'at the limit': `at the ${limit}° limit (± 5°)`, beyond: `beyond the ${limit}° limit` };
  for (const p of quality.pose) {
    const goal = p.label === 'beyond' ? 'all' : p.label === 'at the limit' ? '' : 'none';
    rows.push(['quality gate', `real heads judged ${judged[p.label]} by eye (${p.images}): refused for ANGLE`, percent(p.refusedForAngle), goal]);
  }
  const beyond = quality.pose.find((p) => p.label === 'beyond');
  if (beyond) rows.push(['quality gate', 'pose model |yaw| − eye on those beyond (mean abs. / bias)', `${beyond.errorVsEye.mean.toFixed(1)}° / ${beyond.errorVsEye.bias.toFixed(1)}°`, '']);
  for (const s of quality.blurStability) rows.push(['quality gate', `blurness shift, ${s.name}`, `${s.medianShift.toFixed(1)} (5…95 %: ${s.p5.toFixed(1)}…${s.p95.toFixed(1)})`, '']);
} else skipped('quality gate');

if (liveness) {
  const replay = liveness.variants['simulated screen replay'];
  // Capture changes only: a live frame given a screen's moiré or replayed is rightly refused.
  const [worstName, worst] = Object.entries(liveness.variants)
    .filter(([name]) => !/moiré|screen/.test(name))
    .reduce((a, b) => (b[1].bpcer > a[1].bpcer ? b : a));
  rows.push(
    ['liveness', `EER (liveness-dev, ${liveness.live} live, ${liveness.attacks} attacks)`, percent(liveness.bgr.eer), ''],
    ['liveness', 'APCER at BPCER 5 % / 1 %', `${percent(liveness.bgr.apcerAtBpcer5)} / ${percent(liveness.bgr.apcerAtBpcer1)}`, ''],
    ['liveness', 'APCER / BPCER at livenessScore 50', `${percent(liveness.atScore50.apcer)} / ${percent(liveness.atScore50.bpcer)}`, ''],
    ['liveness', `live frames refused, worst capture change (${worstName})`, percent(worst.bpcer), ''],
  );
  if (replay) rows.push(['liveness', 'simulated screen replays of live frames accepted', percent(1 - replay.bpcer), '']);
} else skipped('liveness');

if (detection) {
  rows.push(
    ['detection', 'faces of ≥ 40 px found (CompreFace samples)', `${detection.largeFound} of ${detection.large} (${percent(detection.largeFound / detection.large)})`, '≥ 95 %'],
    ['detection', 'false faces on photos without a face', String(detection.falseOnEmpty), '0'],
  );
} else skipped('detection');

const seconds = Math.round((performance.now() - started) / 1000);
section(`summary (${seconds} s)`);
console.log('| area | figure | measured | goal |');
console.log('|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(JSON.stringify({ accuracy, openSet, quality, liveness, detection, seconds }));

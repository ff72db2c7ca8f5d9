#!/usr/bin/env node
// Install step: the ONNX weights come from the faceplugin-face-recognition-js npm package. Its own
// dependency tree is 674 unrelated packages, so instead of depending on it we fetch its pinned tarball
// through npm itself (integrity checked) and keep only the five .onnx files we load.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'faceplugin-face-recognition-js@0.0.1';
const INTEGRITY =
  'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==';
/** sha256 of each model file we load; the loader checks them again. */
export const MODELS = {
  'fr_detect.onnx': '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854',
  'fr_landmark.onnx': 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258',
  'fr_feature.onnx': '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
  'fr_pose.onnx': '72d032ec941b7153bf8d3f2c03a4c165453cc7e63d479041ec7c6ef087e5839d',
  'fr_liveness.onnx': 'afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d',
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = resolve(process.env.VISAGE_MODELS ?? join(root, 'models'));

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const present = (name) => existsSync(join(target, name)) && sha256(join(target, name)) === MODELS[name];

const missing = Object.keys(MODELS).filter((name) => !present(name));
if (missing.length === 0) {
  console.log(`models: all ${Object.keys(MODELS).length} present in ${target}`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'visage-models-'));
try {
  console.log(`models: fetching ${PACKAGE} for ${missing.join(', ')}`);
  const packed = JSON.parse(
    execFileSync('npm', ['pack', PACKAGE, '--json', '--pack-destination', work], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const tarball = join(work, packed[0].filename);
  const integrity = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
  if (integrity !== INTEGRITY) throw new Error(`integrity mismatch for ${PACKAGE}: ${integrity}`);
  execFileSync('tar', ['-xzf', tarball, '-C', work, ...missing.map((n) => `package/model/${n}`)]);
  mkdirSync(target, { recursive: true });
  for (const name of missing) {
    const extracted = join(work, 'package', 'model', name);
    if (sha256(extracted) !== MODELS[name]) throw new Error(`checksum mismatch for ${name}`);
    renameSync(extracted, join(target, name));
  }
  console.log(`models: installed ${missing.length} into ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

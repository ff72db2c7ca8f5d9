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

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The pinned package and the sha256 of each file we load; the model loader checks them again.
const manifest = JSON.parse(readFileSync(join(root, 'src', 'vision', 'models.json'), 'utf8'));
const PACKAGE = manifest.package;
const INTEGRITY = manifest.integrity;
const MODELS = manifest.files;
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

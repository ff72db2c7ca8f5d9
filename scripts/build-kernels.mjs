/**
 * Assembles src/index/kernels.wat into src/index/kernels.wasm. Runs at install (postinstall), so no binary is
 * tracked; `npm run build:kernels` after editing the source. `--check` only verifies that the built binary
 * matches the source.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const source = new URL('../src/index/kernels.wat', import.meta.url);
const target = new URL('../src/index/kernels.wasm', import.meta.url);

export async function assembleKernels() {
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const module = wabt.parseWat('kernels.wat', readFileSync(source, 'utf8'), features);
  try {
    module.validate(features);
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const binary = await assembleKernels();
  if (process.argv.includes('--check')) {
    if (!existsSync(target) || !binary.equals(readFileSync(target))) {
      console.error('src/index/kernels.wasm is stale or missing: run npm run build:kernels');
      process.exit(1);
    }
  } else {
    writeFileSync(target, binary);
    console.log(`kernels.wasm: ${binary.length} bytes`);
  }
}

/**
 * Assembles the WebAssembly kernels from their text sources: src/index/kernels.wat (the index's scans) and
 * src/vision/area-shrink.wat (the detector input's downscale). Runs at install (postinstall), so no binary is
 * tracked; `npm run build:kernels` after editing a source. `--check` only verifies that the built binaries
 * match the sources.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const KERNELS = ['../src/index/kernels.wat', '../src/vision/area-shrink.wat'].map((path) => {
  const source = new URL(path, import.meta.url);
  return { source, target: new URL(path.replace(/\.wat$/, '.wasm'), import.meta.url) };
});

export async function assembleKernel(source) {
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const module = wabt.parseWat(source.pathname.split('/').pop(), readFileSync(source, 'utf8'), features);
  try {
    module.validate(features);
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const { source, target } of KERNELS) {
    const binary = await assembleKernel(source);
    const name = target.pathname.split('/').slice(-3).join('/');
    if (process.argv.includes('--check')) {
      if (!existsSync(target) || !binary.equals(readFileSync(target))) {
        console.error(`${name} is stale or missing: run npm run build:kernels`);
        process.exit(1);
      }
    } else {
      writeFileSync(target, binary);
      console.log(`${name}: ${binary.length} bytes`);
    }
  }
}

/**
 * Downscale of a photo, or of a region of it, by exact area averaging in WebAssembly SIMD (area-shrink.wat,
 * built at install). The detector's inputs and the pose crop are shrunk this way in the worker's own thread:
 * libvips took 3–6 ms for a 1080p photo, most of it handing the work to its threads and back, and with two
 * analyses on two cores that hand-over cost more still. Each thread keeps one memory, which a WebAssembly
 * memory never gives back; so the photo is copied in and shrunk a band of rows at a time (`BAND_BYTES`), and
 * the memory stays ~1 MB instead of growing to the largest photo shrunk (~27 MB a thread at 4096 × 2160).
 */
import { readFileSync } from 'node:fs';
import type { Raster } from './raster.js';

interface AreaShrinkKernel {
  memory: WebAssembly.Memory;
  /** Output rows [y0, y1) of the whole shrink, from source rows row0… at `src` (area-shrink.wat). */
  shrink(src: number, srcW: number, srcH: number, acc: number, dst: number, dstW: number, dstH: number, row0: number, y0: number, y1: number): void;
}

const PAGE = 65536;
/** Source bytes copied into the kernel's memory at a time (more when one output row alone covers more). */
const BAND_BYTES = 1 << 20;
/** The kernel reads up to 16 bytes past the source and writes whole vectors; offsets stay 16-byte aligned. */
const SLACK = 16;
let kernel: AreaShrinkKernel | undefined;

function align(n: number): number {
  return Math.ceil(n / SLACK) * SLACK;
}

/** A rectangle of whole pixels. */
export interface PixelRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * `region` of `src` (default: all of it) shrunk to outW × outH, each no larger than the region's side; every
 * output pixel is the mean of the area it covers. `bandBytes`: the source bytes shrunk at a time (the result does
 * not depend on it).
 */
export function areaShrink(src: Raster, outW: number, outH: number, region?: PixelRegion, bandBytes = BAND_BYTES): Raster {
  const { left, top, width, height } = region ?? { left: 0, top: 0, width: src.width, height: src.height };
  if (outW < 1 || outH < 1 || outW > width || outH > height || left < 0 || top < 0 || left + width > src.width || top + height > src.height) {
    throw new RangeError(`areaShrink only shrinks a region of the photo: ${width}×${height} at ${left},${top} → ${outW}×${outH}`);
  }
  const shrinker = loadKernel();
  const rowBytes = width * 3;
  const outRowBytes = outW * 3;
  const out = new Uint8Array(outRowBytes * outH);
  // Output row y covers source rows [⌊y·height/outH⌋, ⌈(y+1)·height/outH⌉) (exact: integers far below 2^53).
  const firstRow = (y: number) => Math.floor((y * height) / outH);
  const endRow = (y: number) => Math.ceil((y * height) / outH);
  for (let y0 = 0; y0 < outH; ) {
    const row0 = firstRow(y0);
    let y1 = y0 + 1;
    while (y1 < outH && (endRow(y1 + 1) - row0) * rowBytes <= bandBytes) y1++;
    const rows = endRow(y1) - row0;
    const acc = align(rows * rowBytes + SLACK);
    const dst = acc + align((rowBytes + SLACK) * 4);
    const bandOut = (y1 - y0) * outRowBytes;
    const memory = shrinker.memory;
    if (memory.buffer.byteLength < dst + bandOut) memory.grow(Math.ceil((dst + bandOut - memory.buffer.byteLength) / PAGE));
    const into = new Uint8Array(memory.buffer, 0, rows * rowBytes);
    if (width === src.width) {
      into.set(src.data.subarray((top + row0) * rowBytes, (top + row0 + rows) * rowBytes));
    } else {
      for (let row = 0; row < rows; row++) {
        const from = ((top + row0 + row) * src.width + left) * 3;
        into.set(src.data.subarray(from, from + rowBytes), row * rowBytes);
      }
    }
    shrinker.shrink(0, width, height, acc, dst, outW, outH, row0, y0, y1);
    out.set(new Uint8Array(memory.buffer, dst, bandOut), y0 * outRowBytes);
    y0 = y1;
  }
  return { width: outW, height: outH, data: out };
}

/** Bytes of this thread's kernel memory (0 before the first shrink). */
export function areaShrinkMemoryBytes(): number {
  return kernel?.memory.buffer.byteLength ?? 0;
}

function loadKernel(): AreaShrinkKernel {
  kernel ??= new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('./area-shrink.wasm', import.meta.url))))
    .exports as unknown as AreaShrinkKernel;
  return kernel;
}

/**
 * Downscale of a photo, or of a region of it, by exact area averaging in WebAssembly SIMD (area-shrink.wat,
 * built at install). The detector's inputs and the pose crop are shrunk this way in the worker's own thread:
 * libvips took 3–6 ms for a 1080p photo, most of it handing the work to its threads and back, and with two
 * analyses on two cores that hand-over cost more still. Each thread keeps one memory, grown to the largest
 * photo it has shrunk (at most 4096 × 2160 × 3 bytes, ~27 MB).
 */
import { readFileSync } from 'node:fs';
import type { Raster } from './raster.js';

interface AreaShrinkKernel {
  memory: WebAssembly.Memory;
  shrink(src: number, srcW: number, srcH: number, acc: number, dst: number, dstW: number, dstH: number): void;
}

const PAGE = 65536;
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
 * output pixel is the mean of the area it covers.
 */
export function areaShrink(src: Raster, outW: number, outH: number, region?: PixelRegion): Raster {
  const { left, top, width, height } = region ?? { left: 0, top: 0, width: src.width, height: src.height };
  if (outW < 1 || outH < 1 || outW > width || outH > height || left < 0 || top < 0 || left + width > src.width || top + height > src.height) {
    throw new RangeError(`areaShrink only shrinks a region of the photo: ${width}×${height} at ${left},${top} → ${outW}×${outH}`);
  }
  kernel ??= new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('./area-shrink.wasm', import.meta.url))))
    .exports as unknown as AreaShrinkKernel;
  const rowBytes = width * 3;
  const srcBytes = rowBytes * height;
  const acc = align(srcBytes + SLACK);
  const dst = acc + align((rowBytes + SLACK) * 4);
  const outBytes = outW * outH * 3;
  const needed = dst + outBytes;
  const memory = kernel.memory;
  if (memory.buffer.byteLength < needed) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
  const into = new Uint8Array(memory.buffer, 0, srcBytes);
  if (width === src.width) {
    into.set(src.data.subarray(top * rowBytes, (top + height) * rowBytes));
  } else {
    for (let row = 0; row < height; row++) {
      const from = ((top + row) * src.width + left) * 3;
      into.set(src.data.subarray(from, from + rowBytes), row * rowBytes);
    }
  }
  kernel.shrink(0, width, height, acc, dst, outW, outH);
  return { width: outW, height: outH, data: new Uint8Array(memory.buffer, dst, outBytes).slice() };
}

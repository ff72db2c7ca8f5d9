/**
 * An 8-bit RGB raster and the two resampling primitives every model's preprocessing is built from:
 * a whole-image resize for the detector, and an affine sampler for crops and alignment.
 */
import sharp from 'sharp';

export interface Raster {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, 3 bytes per pixel. */
  data: Uint8Array;
}

/** An axis-aligned region of a raster, in pixels (fractional allowed). */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * A 2×3 affine map from output pixel index (x, y) to source pixel coordinates, as OpenCV's warpAffine uses
 * it (integer coordinates are pixel centres): [a, b, c, d, e, f] → (a·x + b·y + c, d·x + e·y + f).
 */
export type Affine = readonly [number, number, number, number, number, number];

function createRaster(width: number, height: number): Raster {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/**
 * Whole-image resize (the detector's inputs, where the downscale factor can be 10×), done by libvips through
 * sharp: its shrink-then-reduce is properly anti-aliased and 5× faster here than a box filter in JS.
 */
export async function resize(src: Raster, outW: number, outH: number): Promise<Raster> {
  const data = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
    .resize(outW, outH, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: outW, height: outH, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Samples `src` through the affine map `toSource` into an outW × outH raster: bilinear, with k×k
 * supersampling when the map shrinks (k = the scale, at most 4) so a large face is not aliased into a small
 * model input. Pixels that fall outside the source are black, as OpenCV's warpAffine leaves them.
 */
export function sampleAffine(src: Raster, toSource: Affine, outW: number, outH: number): Raster {
  const [a, b, c, d, e, f] = toSource;
  const out = createRaster(outW, outH);
  const scale = Math.sqrt(Math.abs(a * e - b * d));
  const k = Math.min(4, Math.max(1, Math.round(scale)));
  const inv = 1 / (k * k);
  const { width: w, height: h, data } = src;
  let o = 0;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let j = 0; j < k; j++) {
        const py = oy - 0.5 + (j + 0.5) / k;
        for (let i = 0; i < k; i++) {
          const px = ox - 0.5 + (i + 0.5) / k;
          const sx = a * px + b * py + c;
          const sy = d * px + e * py + f;
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
          const fx = sx - x0;
          const fy = sy - y0;
          const xa = x0 < 0 ? 0 : x0;
          const xb = x0 + 1 >= w ? w - 1 : x0 + 1;
          const ya = y0 < 0 ? 0 : y0;
          const yb = y0 + 1 >= h ? h - 1 : y0 + 1;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          const i00 = (ya * w + xa) * 3;
          const i10 = (ya * w + xb) * 3;
          const i01 = (yb * w + xa) * 3;
          const i11 = (yb * w + xb) * 3;
          r += data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11;
          g += data[i00 + 1]! * w00 + data[i10 + 1]! * w10 + data[i01 + 1]! * w01 + data[i11 + 1]! * w11;
          bl += data[i00 + 2]! * w00 + data[i10 + 2]! * w10 + data[i01 + 2]! * w01 + data[i11 + 2]! * w11;
        }
      }
      out.data[o++] = Math.round(r * inv);
      out.data[o++] = Math.round(g * inv);
      out.data[o++] = Math.round(bl * inv);
    }
  }
  return out;
}

/**
 * The affine map that stretches the axis-aligned box (x, y, w, h) of the source onto an outW × outH raster,
 * edges onto edges (the half-pixel convention of cv.resize, so centres shift by half a pixel of each scale).
 */
function boxToSource(x: number, y: number, w: number, h: number, outW: number, outH: number): Affine {
  const sx = w / outW;
  const sy = h / outH;
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/** Crop-and-resize of an axis-aligned box: the common case of sampleAffine. */
export function cropResize(src: Raster, box: Box, outW: number, outH: number): Raster {
  return sampleAffine(src, boxToSource(box.x, box.y, box.w, box.h, outW, outH), outW, outH);
}

/** ITU-R BT.601 luma, as OpenCV's RGB2GRAY. */
export function toGray(src: Raster): Float32Array {
  const n = src.width * src.height;
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = 0.299 * src.data[j]! + 0.587 * src.data[j + 1]! + 0.114 * src.data[j + 2]!;
  }
  return out;
}

export type ChannelOrder = 'rgb' | 'bgr';

/** HWC uint8 → CHW float32 with (v − mean[c]) / std[c] per channel, in the order the model was trained on. */
export function toTensorData(
  src: Raster,
  order: ChannelOrder,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): Float32Array {
  const plane = src.width * src.height;
  const out = new Float32Array(plane * 3);
  const source = order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const from = source[c]!;
    const m = mean[c]!;
    const s = 1 / std[c]!;
    const base = c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = (src.data[i * 3 + from]! - m) * s;
  }
  return out;
}

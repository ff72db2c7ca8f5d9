/**
 * Synthetic image degradations for the liveness and quality benches, each a function from image bytes to
 * JPEG bytes. They are stand-ins (a blur, a re-encode, a simulated screen), not real captures: the benches
 * say what each can and cannot show.
 */
import sharp from 'sharp';

export type Degrade = (bytes: Uint8Array) => Promise<Uint8Array>;

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

/** Decoded RGB, EXIF orientation applied (as the server decodes), optionally Gaussian-blurred first. */
async function pixels(bytes: Uint8Array, blurSigma?: number): Promise<Pixels> {
  let image = sharp(bytes).rotate().removeAlpha();
  if (blurSigma !== undefined) image = image.blur(blurSigma);
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function encode(p: Pixels, quality = 95): Promise<Uint8Array> {
  return sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** Applies `f(value, x, y, channel)` to every sample, then re-encodes at quality 95. */
function perSample(f: (value: number, x: number, y: number, channel: number) => number): Degrade {
  return async (bytes) => {
    const p = await pixels(bytes);
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * p.width + x) * 3 + c;
          p.data[i] = Math.max(0, Math.min(255, Math.round(f(p.data[i]!, x, y, c))));
        }
      }
    }
    return encode(p);
  };
}

export const jpeg = (quality: number): Degrade => async (bytes) => encode(await pixels(bytes), quality);

/** Gaussian blur of standard deviation `sigma` pixels of the image as given. */
export const blur = (sigma: number): Degrade => async (bytes) => encode(await pixels(bytes, sigma));

/** Down to `factor` of the size and back up: the detail a low-resolution camera would lose. */
export const downUp = (factor: number): Degrade => async (bytes) => {
  const p = await pixels(bytes);
  const small = await sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } })
    .resize(Math.max(1, Math.round(p.width * factor)), Math.max(1, Math.round(p.height * factor)))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const back = await sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels: 3 } })
    .resize(p.width, p.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return encode({ data: back, width: p.width, height: p.height });
};

/** Scales the whole image by `factor` (Lanczos). */
export const rescale = (factor: number): Degrade => async (bytes) => {
  const p = await pixels(bytes);
  const { data, info } = await sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } })
    .resize(Math.round(p.width * factor), Math.round(p.height * factor))
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encode({ data, width: info.width, height: info.height });
};

/** Scales the image by `factor` and centres it on a mid-grey canvas of the original size (a small face in a larger photo). */
export const shrinkOnCanvas = (factor: number): Degrade => async (bytes) => {
  const p = await pixels(bytes);
  const w = Math.max(1, Math.round(p.width * factor));
  const h = Math.max(1, Math.round(p.height * factor));
  const small = await sharp(p.data, { raw: { width: p.width, height: p.height, channels: 3 } }).resize(w, h).png().toBuffer();
  const left = Math.floor((p.width - w) / 2);
  const top = Math.floor((p.height - h) / 2);
  const canvas = await sharp(small)
    .extend({ left, top, right: p.width - w - left, bottom: p.height - h - top, background: { r: 128, g: 128, b: 128 } })
    .removeAlpha()
    .raw()
    .toBuffer();
  return encode({ data: canvas, width: p.width, height: p.height });
};

/** Display gamma: out = 255 · (in/255)^g (g > 1 darkens mid-tones). */
export const gamma = (g: number): Degrade => perSample((v) => 255 * (v / 255) ** g);

/** Scales every channel: exposure (a single gain) or a colour cast (per-channel gains, RGB). */
export const gain = (r: number, g: number = r, b: number = r): Degrade => {
  const gains = [r, g, b];
  return perSample((v, _x, _y, c) => v * gains[c]!);
};

/** Flattens contrast towards mid-grey: out = 128 + (in − 128) · keep. */
export const flatten = (keep: number): Degrade => perSample((v) => 128 + (v - 128) * keep);

/**
 * A moiré-like grating: brightness modulated by `depth` along a slightly tilted wave of `period` pixels, plus
 * the RGB sub-pixel stripes of an LCD (period 3 px). A real screen recapture's moiré comes from the
 * interference of two pixel grids and varies with distance; this is only its most visible trace.
 */
export const moire = (period = 4.3, depth = 0.2): Degrade => {
  const angle = (12 * Math.PI) / 180;
  const [ux, uy] = [Math.cos(angle) / period, Math.sin(angle) / period];
  return perSample((v, x, y, c) => {
    const wave = 1 - depth * (0.5 + 0.5 * Math.sin(2 * Math.PI * (x * ux + y * uy)));
    const subpixel = x % 3 === c ? 1 : 0.9;
    return v * wave * subpixel;
  });
};

/** Runs degradations one after another. */
export const chain = (...steps: Degrade[]): Degrade => async (bytes) => {
  let out = bytes;
  for (const step of steps) out = await step(out);
  return out;
};

/**
 * A synthetic screen replay of a frame: the display's gamma and blue-ish white point, its sub-pixel grid
 * and a moiré, the camera's slight defocus and its JPEG. Not a real recapture (no glare, no screen edge, no
 * second camera's noise).
 */
export const screenReplay: Degrade = chain(gamma(0.8), gain(0.9, 0.97, 1.12), moire(), blur(0.8), jpeg(80));

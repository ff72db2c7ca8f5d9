/**
 * Real photos for the HTTP tests (the face-api demo group photos, several people each) and small
 * images made from them in other formats. Nothing here fakes the vision pipeline.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';

export type SampleNumber = 1 | 2 | 3 | 4 | 5 | 6;

const SAMPLE_DIR = new URL('../../node_modules/@vladmandic/face-api/demo/', import.meta.url);
const samples = new Map<SampleNumber, Buffer>();

/** sampleN.jpg: a 1920-px JPEG group photo. */
export function samplePhoto(sample: SampleNumber): Buffer {
  let bytes = samples.get(sample);
  if (bytes === undefined) {
    bytes = readFileSync(new URL(`sample${sample}.jpg`, SAMPLE_DIR));
    samples.set(sample, bytes);
  }
  return bytes;
}

export function dataUrl(bytes: Uint8Array, mime = 'image/jpeg'): string {
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

/** The bytes behind a `data:<mime>;base64,` URL, and its mime type. */
export function fromDataUrl(url: string): { mime: string; bytes: Buffer } {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (match === null) throw new Error(`not a base64 data URL: ${url.slice(0, 40)}`);
  return { mime: match[1]!, bytes: Buffer.from(match[2]!, 'base64') };
}

/** api.md: md5 → standard base64 → `+`→`-`, `/`→`_`, padding kept. */
export function computedImageId(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export async function toPng(bytes: Uint8Array, width: number): Promise<Buffer> {
  return sharp(bytes).resize({ width }).png().toBuffer();
}

export async function toJpeg(bytes: Uint8Array, width: number, quality = 90): Promise<Buffer> {
  return sharp(bytes).resize({ width }).jpeg({ quality }).toBuffer();
}

export async function toBmp(bytes: Uint8Array, width: number): Promise<Buffer> {
  const { data, info } = await sharp(bytes).resize({ width }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return encodeBmp24(data, info.width, info.height);
}

/** sharp cannot write BMP: an uncompressed 24-bit bottom-up BMP (BITMAPINFOHEADER) from RGB bytes. */
export function encodeBmp24(rgb: Uint8Array, width: number, height: number): Buffer {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowSize * height;
  const file = Buffer.alloc(54 + pixelBytes);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(0, 30);
  file.writeUInt32LE(pixelBytes, 34);
  file.writeInt32LE(2835, 38);
  file.writeInt32LE(2835, 42);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const source = (y * width + x) * 3;
      file[row + x * 3] = rgb[source + 2]!;
      file[row + x * 3 + 1] = rgb[source + 1]!;
      file[row + x * 3 + 2] = rgb[source]!;
    }
  }
  return file;
}

/** A face-free picture: a smooth colour gradient. */
export async function gradientImage(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      rgb[offset] = Math.round((255 * x) / width);
      rgb[offset + 1] = Math.round((255 * y) / height);
      rgb[offset + 2] = 128;
    }
  }
  const image = sharp(rgb, { raw: { width, height, channels: 3 } });
  return format === 'png' ? image.png().toBuffer() : image.jpeg().toBuffer();
}

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * A portrait cut out of a group photo around a face box (as the API returned it), widened by
 * `margin` × the box size on each side and scaled to `width`: the same face in other pixels.
 */
export async function portraitAround(photo: Uint8Array, face: Box, margin: number, width: number): Promise<Buffer> {
  const { width: photoWidth = 0, height: photoHeight = 0 } = await sharp(photo).metadata();
  const padX = (face.right - face.left) * margin;
  const padY = (face.bottom - face.top) * margin;
  const left = Math.max(0, Math.round(face.left - padX));
  const top = Math.max(0, Math.round(face.top - padY));
  const right = Math.min(photoWidth, Math.round(face.right + padX));
  const bottom = Math.min(photoHeight, Math.round(face.bottom + padY));
  return sharp(photo)
    .extract({ left, top, width: right - left, height: bottom - top })
    .resize({ width })
    .jpeg({ quality: 85 })
    .toBuffer();
}

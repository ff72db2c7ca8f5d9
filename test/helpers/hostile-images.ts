/**
 * Malformed and unwelcome images for the hostile-input tests, made here byte by byte (or by sharp from the
 * demo photos) so each one is exactly the kind of file it claims to be.
 */
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { encodeBmp24, samplePhoto } from './images.js';

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A decompression bomb: a valid 1-bit greyscale PNG of `side`×`side` pixels (10000² = 300 MB as RGB) whose
 * all-zero pixel rows deflate to a few kilobytes.
 */
export function pngBomb(side = 10_000): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(side / 8); // filter byte + packed bits
  const pixels = deflateSync(Buffer.alloc(rowBytes * side), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', pixels),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An ICO file holding one 32×32 PNG (how modern .ico files store their images). */
export async function icoFile(): Promise<Buffer> {
  const png = await sharp(samplePhoto(1)).resize(32, 32).png().toBuffer();
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(1, 4); // one image
  header[6] = 32;
  header[7] = 32;
  header.writeUInt16LE(1, 10); // planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(22, 18);
  return Buffer.concat([header, png]);
}

/** A real 24-bit BMP of a photo with its header's width/height replaced (the pixel data stays as it was). */
export async function bmpWithHeader(width: number, height: number): Promise<Buffer> {
  const { data, info } = await sharp(samplePhoto(2)).resize(200, 150).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const bmp = encodeBmp24(data, info.width, info.height);
  bmp.writeInt32LE(width, 18);
  bmp.writeInt32LE(height, 22);
  return bmp;
}

export const pngOfSize = (width: number, height: number): Promise<Buffer> =>
  sharp(samplePhoto(3)).resize(width, height, { fit: 'fill' }).png().toBuffer();

export const photoAs = (format: 'gif' | 'tiff' | 'webp' | 'jpeg', width = 400): Promise<Buffer> =>
  sharp(samplePhoto(4)).resize({ width })[format]().toBuffer();

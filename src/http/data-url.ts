/**
 * Images on the wire: base64 text, optionally behind a `data:<mime>;base64,` prefix, in requests;
 * `data:image/<format>;base64,...` URLs in responses.
 */
import type { ImageFormat } from '../vision/types.js';

/** api.md: images are at most 4 MB decoded (MiB: 4 × 1024 × 1024 bytes). */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

/** `data:image/png;base64,`, also with parameters (`;charset=...`) or another/misspelt mime type. */
const DATA_URL_PREFIX = /^data:[^,]*;base64,/i;
/** The standard alphabet with at most two trailing pad characters; URL-safe base64 is not accepted. */
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
const WHITESPACE = /[\t\n\f\r ]+/g;

export type Base64ImageFailure = 'EMPTY' | 'NOT_BASE64' | 'TOO_LARGE';

export type Base64ImageResult = { ok: true; bytes: Buffer } | { ok: false; failure: Base64ImageFailure };

/**
 * Decodes strictly: Node's Buffer.from(text, 'base64') silently skips foreign characters and truncates
 * at stray padding, which would hand garbage to the decoder instead of saying "not base64".
 * Whitespace (line-wrapped MIME base64) is allowed; missing final padding is tolerated.
 */
export function decodeBase64Image(text: string): Base64ImageResult {
  let payload = text.trimStart();
  if (/^data:/i.test(payload)) {
    const prefix = DATA_URL_PREFIX.exec(payload);
    if (prefix === null) return { ok: false, failure: 'NOT_BASE64' };
    payload = payload.slice(prefix[0].length);
  }
  payload = payload.replace(WHITESPACE, '');
  if (payload.length === 0) return { ok: false, failure: 'EMPTY' };
  if (!BASE64_TEXT.test(payload)) return { ok: false, failure: 'NOT_BASE64' };

  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  const remainder = payload.length % 4;
  if ((padding > 0 && remainder !== 0) || remainder === 1) return { ok: false, failure: 'NOT_BASE64' };

  // Check the size before allocating the decoded buffer.
  const decodedLength = Math.floor((payload.length * 3) / 4) - padding;
  if (decodedLength > MAX_IMAGE_BYTES) return { ok: false, failure: 'TOO_LARGE' };
  return { ok: true, bytes: Buffer.from(payload, 'base64') };
}

const MIME_TYPES: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  bmp: 'image/bmp',
  webp: 'image/webp',
};

export function toDataUrl(format: ImageFormat, bytes: Uint8Array): string {
  return `data:${MIME_TYPES[format]};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

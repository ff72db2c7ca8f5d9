/**
 * Images on the wire: base64 text, optionally behind a `data:<mime>;base64,` prefix, in requests;
 * `data:image/<format>;base64,...` URLs in responses.
 */
import type { ImageFormat } from '../vision/types.js';

/** api.md: images are at most 4 MB decoded (MiB: 4 × 1024 × 1024 bytes). */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024;

/** `data:image/png;base64,`, also with parameters (`;charset=...`) or another/misspelt mime type. */
export const DATA_URL_PREFIX = /^data:[^,]*;base64,/i;
const WHITESPACE = /[\t\n\f\r ]+/g;

export type Base64ImageFailure = 'EMPTY' | 'NOT_BASE64' | 'TOO_LARGE';

export type Base64ImageResult = { ok: true; bytes: Buffer } | { ok: false; failure: Base64ImageFailure };

/**
 * Decodes strictly: Node's Buffer.from(text, 'base64') silently skips foreign characters and truncates
 * at stray padding, which would hand garbage to the decoder instead of saying "not base64".
 * Whitespace (line-wrapped MIME base64) is allowed; missing final padding is tolerated.
 *
 * The check is done on the result rather than by a regular expression over the text (2 ms for a 400 kB
 * photo, on the event loop): every character of the standard alphabet yields 6 bits, and any other one is
 * skipped or ends the decoding, so the bytes reach their full length only when every character counted.
 * The URL-safe `-` and `_`, which Node's decoder also takes, are refused first.
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
  if (payload.includes('-') || payload.includes('_')) return { ok: false, failure: 'NOT_BASE64' };

  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  const remainder = payload.length % 4;
  if ((padding > 0 && remainder !== 0) || remainder === 1) return { ok: false, failure: 'NOT_BASE64' };

  // Check the size before allocating the decoded buffer.
  const decodedLength = Math.floor((payload.length * 3) / 4) - padding;
  if (decodedLength > MAX_IMAGE_BYTES) return { ok: false, failure: 'TOO_LARGE' };
  const bytes = Buffer.from(payload, 'base64');
  return bytes.length === decodedLength ? { ok: true, bytes } : { ok: false, failure: 'NOT_BASE64' };
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

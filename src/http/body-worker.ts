/** The body thread (body-thread.ts): parses large request bodies and decodes their base64 images. */
import { parentPort } from 'node:worker_threads';
import { parseJsonBody } from './body-parse.js';
import { movable, releaseNow, transferList } from '../movable-bytes.js';
import type { BodyReply, BodyRequest } from './body-thread.js';
import { decodeBase64Image } from './data-url.js';
import { decodedPlaceholder, IMAGE_FIELDS } from './decoded-images.js';
import { cutImageFields } from './image-cuts.js';

/**
 * A large body's JSON and images. Each image is decoded into a buffer of its own, which moves to the loop and
 * on to a vision worker without being copied again (movable-bytes.ts).
 */
export function readLargeBody(bytes: Uint8Array): { parsed: BodyReply['parsed']; images: BodyReply['images'] } {
  // Photos are cut out and decoded from the bytes (image-cuts.ts) when that gives the ordinary answer.
  const cut = cutImageFields(bytes, IMAGE_FIELDS);
  const cutParsed = cut && parseJsonBody(cut.skeleton);
  const parsed = cutParsed?.ok && cutParsed.value !== undefined ? cutParsed : parseJsonBody(bytes);
  const cutImages = parsed === cutParsed ? cut?.images : undefined;
  const images: BodyReply['images'] = [];
  if (!parsed.ok || parsed.value === undefined) return { parsed, images };
  const body = parsed.value as Record<string, unknown>;
  for (const field of IMAGE_FIELDS) {
    const text = body[field];
    if (typeof text !== 'string') continue;
    const decoded = cutImages?.get(field) ?? decodeBase64Image(text);
    body[field] = decodedPlaceholder(field);
    images.push(decoded.ok ? { field, bytes: movable(decoded.bytes) } : { field, failure: decoded.failure });
  }
  return { parsed, images };
}

parentPort?.on('message', ({ id, chunks }: BodyRequest) => {
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const { parsed, images } = readLargeBody(body);
  const moved = images.flatMap((image) => ('bytes' in image ? [image.bytes] : []));
  parentPort!.postMessage({ id, parsed, images } satisfies BodyReply, transferList(moved));
  // The body's bytes are read: the images were decoded into buffers of their own, and the JSON parsed.
  releaseNow([...chunks, body]);
});

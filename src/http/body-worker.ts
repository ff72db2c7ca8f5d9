/** The body thread (body-thread.ts): parses large request bodies and decodes their base64 images. */
import { parentPort } from 'node:worker_threads';
import { parseJsonBody } from './body-parse.js';
import { movable, type BodyReply, type BodyRequest } from './body-thread.js';
import { decodeBase64Image } from './data-url.js';
import { decodedPlaceholder, IMAGE_FIELDS } from './decoded-images.js';

parentPort!.on('message', ({ id, bytes }: BodyRequest) => {
  const parsed = parseJsonBody(bytes);
  if (!parsed.ok || parsed.value === undefined) {
    parentPort!.postMessage({ id, parsed, images: [] } satisfies BodyReply);
    return;
  }
  const body = parsed.value as Record<string, unknown>;
  const images: BodyReply['images'] = [];
  const transfer: ArrayBuffer[] = [];
  for (const field of IMAGE_FIELDS) {
    const text = body[field];
    if (typeof text !== 'string') continue;
    const decoded = decodeBase64Image(text);
    body[field] = decodedPlaceholder(field);
    if (!decoded.ok) {
      images.push({ field, failure: decoded.failure });
      continue;
    }
    // Moved, not copied, to the loop.
    const bytes = movable(decoded.bytes);
    transfer.push(bytes.buffer as ArrayBuffer);
    images.push({ field, bytes });
  }
  parentPort!.postMessage({ id, parsed, images } satisfies BodyReply, transfer);
});

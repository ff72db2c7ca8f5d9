/**
 * Images of a large body decoded beside its JSON in the body thread (body-thread.ts), so that neither the
 * base64 text nor its decoding ever reaches the event loop. The thread leaves a placeholder in each image
 * field and the decoded result on the body (under a symbol); schemas.ts's base64Image() takes the result
 * for the placeholder while parseBody validates that body, and decodes any other text itself.
 */
import type { Base64ImageResult } from './data-url.js';

/** Top-level body fields that carry a base64 image (every base64Image() field of schemas.ts). */
export const IMAGE_FIELDS = ['image', 'image1', 'image2'] as const;

/** A thread-parsed body's image results, by placeholder. */
export type DecodedImages = Map<string, Base64ImageResult>;
export const DECODED_IMAGES = Symbol('images decoded in the body thread');

/**
 * What the thread leaves in an image field: never base64 (NUL), and only looked up in its own body's map
 * (the thread replaces every string in an image field, so a client cannot pass one off as another's).
 */
export const decodedPlaceholder = (field: string): string => `\u0000${field}`;

let current: DecodedImages | undefined;

/** Runs a (synchronous) validation of `body` during which its decoded images are found by placeholder. */
export function withDecodedImages<T>(body: unknown, validate: () => T): T {
  const images = typeof body === 'object' && body !== null ? (body as { [DECODED_IMAGES]?: DecodedImages })[DECODED_IMAGES] : undefined;
  if (images === undefined) return validate();
  current = images;
  try {
    return validate();
  } finally {
    current = undefined;
  }
}

/** The thread's result for a placeholder of the body being validated; undefined for any other text. */
export function decodedImage(text: string): Base64ImageResult | undefined {
  return current?.get(text);
}

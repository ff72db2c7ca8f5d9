/** The identifiers of api.md "Identifiers": imageId (given or derived from the bytes) and faceToken. */
import { createHash, randomBytes } from 'node:crypto';
import { invalidParam } from '../errors.js';

/** A client-chosen imageId: at most 32 bytes of URL-safe characters (it travels in URL paths). */
const CLIENT_IMAGE_ID = /^[A-Za-z0-9_=-]{1,32}$/;

/**
 * The request's imageMd5 when non-empty, else md5 of the bytes → standard Base64 with '+'→'-' and
 * '/'→'_' (24 characters, the '==' padding kept, as the vendor document describes).
 */
export function imageIdFor(imageMd5: string, image: Uint8Array): string {
  if (imageMd5 !== '') {
    if (!CLIENT_IMAGE_ID.test(imageMd5)) throw invalidParam('imageMd5');
    return imageMd5;
  }
  return createHash('md5').update(image).digest('base64').replaceAll('+', '-').replaceAll('/', '_');
}

/** 24 URL-safe characters from 18 random bytes (144 bits): unique without a lookup. */
export function newFaceToken(): string {
  return randomBytes(18).toString('base64url');
}

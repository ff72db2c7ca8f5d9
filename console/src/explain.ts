/** Plain words for the error envelopes a person meets in the console (api.md's error table). */
import { ApiError } from './api.js';

const IMAGE_REASONS: Record<string, string> = {
  EMPTY: 'The file is empty.',
  NOT_BASE64: 'The image could not be read as base64.',
  TOO_LARGE: 'The file is larger than 4 MB.',
  UNSUPPORTED_FORMAT: 'Only JPEG, PNG, BMP and WebP images are accepted.',
  CORRUPT: 'The file is damaged or not really an image.',
  TOO_SMALL: 'The image is smaller than 100 × 100 pixels.',
  TOO_BIG_DIMENSIONS: 'The image is larger than 4096 × 2160 pixels.',
};

const QUALITY_REASONS: Record<string, string> = {
  ANGLE: 'the head is turned or tilted too far from the camera',
  BLUR: 'the face is too blurry',
  BRIGHTNESS: 'the face is too dark or too bright',
  CONTRAST: 'the face has too little contrast',
  SIZE: 'the face is too small in the picture',
};

const MESSAGES: Record<string, string> = {
  FACE_NOT_FOUND: 'No face was found in the photo.',
  FACE_ALREADY_EXIST: 'This photo is already registered (the same image id).',
  FACE_TOKEN_NOT_EXIST: 'That face no longer exists.',
  IMAGE_ID_NOT_EXIST: 'That image no longer exists.',
  GROUP_NAME_CONFLICT: 'Another group already has this name.',
  GROUP_OVER_LIMIT: 'The server holds as many groups as it allows.',
  GROUP_BEUSED: 'The group "default" cannot be deleted (it can only be emptied).',
  GROUP_ID_CONFLICT: 'A group with this id already exists.',
  GROUP_ID_NOT_EXIST: 'That group does not exist.',
  UNAUTHORIZED: 'This server asks for an API key: enter one under "API key" at the top right.',
  FORBIDDEN: 'The API key lacks the scope this needs (read, write or admin).',
  TOO_MANY_REQUESTS: 'Too many requests with this key; wait a moment.',
  NOT_FOUND: 'The server does not know this route.',
  BODY_TOO_LARGE: 'The request is too large for the server.',
  OVERLOADED: 'The server is busy; try again in a moment.',
  INTERNAL_ERROR: 'The server failed unexpectedly (its log says why).',
};

/** One sentence for a failure; `msg` values like `BAD_QUALITY:ANGLE,BLUR` are taken apart. */
export function explain(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const [name = '', detail = ''] = error.msg.split(/:(.*)/s);
  if (name === 'BAD_QUALITY') {
    const reasons = detail.split(',').map((reason) => QUALITY_REASONS[reason] ?? reason);
    return `The face is not good enough to register: ${reasons.join('; ')}.`;
  }
  if (name === 'IMAGE_INVALID') return IMAGE_REASONS[detail] ?? `The image was refused (${detail}).`;
  if (name === 'INVALID_PARAM') return `The field "${detail}" is missing or not valid.`;
  return MESSAGES[name] ?? error.msg;
}

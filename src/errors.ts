/**
 * The error vocabulary of the seed face API. Every layer throws VisageError; only the HTTP edge
 * turns it into a status and the `{code, msg, data}` envelope.
 */
export const ErrorCode = {
  INVALID_PARAM: 100001,
  FACE_NOT_FOUND: 104200,
  BAD_QUALITY: 104201,
  IMAGE_INVALID: 104202,
  FACE_ALREADY_EXIST: 104204,
  FACE_TOKEN_NOT_EXIST: 104205,
  IMAGE_ID_NOT_EXIST: 104206,
  GROUP_NAME_CONFLICT: 104300,
  GROUP_OVER_LIMIT: 104302,
  GROUP_BEUSED: 104304,
  GROUP_ID_CONFLICT: 104310,
  GROUP_ID_NOT_EXIST: 104311,
} as const;

export type ErrorName = keyof typeof ErrorCode;

/** Why an image was refused: the `<reason>` of `IMAGE_INVALID:<reason>`. */
export type ImageInvalidReason =
  | 'NOT_BASE64'
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPT'
  | 'TOO_SMALL'
  | 'TOO_BIG_DIMENSIONS';

/** The `<reason>` items of `BAD_QUALITY:<reason>`, in the order they are reported. */
export type QualityReason = 'ANGLE' | 'BLUR' | 'BRIGHTNESS' | 'CONTRAST' | 'SIZE';

export class VisageError extends Error {
  readonly code: number;
  readonly data: Record<string, unknown>;

  constructor(name: ErrorName, detail?: string, data: Record<string, unknown> = {}) {
    super(detail === undefined ? name : `${name}:${detail}`);
    this.name = 'VisageError';
    this.code = ErrorCode[name];
    this.data = data;
  }
}

export const invalidParam = (field: string): VisageError => new VisageError('INVALID_PARAM', field);
export const imageInvalid = (reason: ImageInvalidReason): VisageError => new VisageError('IMAGE_INVALID', reason);

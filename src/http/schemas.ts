/**
 * Request schemas of every endpoint: validation happens here, at the edge, and what comes out is
 * what the domain takes (decoded image bytes, defaults filled in). The schemas stay plain zod so
 * `z.toJSONSchema(schema, { io: 'input' })` can describe the wire format (e.g. for OpenAPI).
 *
 * Failures: the first offending field (in the order the schema lists them) becomes
 * INVALID_PARAM:<field>; an image that is not base64 or too big becomes IMAGE_INVALID:<reason>.
 * Path identifiers that cannot exist (empty, longer than 32 bytes) get the resource's not-exist
 * code instead: the client asked for something by id and there is no such thing.
 */
import { z } from 'zod';
import { VisageError, imageInvalid, invalidParam, type ErrorName } from '../errors.js';
import { decodeBase64Image } from './data-url.js';

const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/** A string of at most `maxBytes` UTF-8 bytes (api.md counts bytes; `.max` is the char-count hint for JSON Schema). */
function utf8String(maxBytes: number) {
  return z
    .string()
    .max(maxBytes)
    .refine((text) => utf8Length(text) <= maxBytes, { message: `at most ${maxBytes} UTF-8 bytes` })
    .meta({ description: `at most ${maxBytes} UTF-8 bytes` });
}

/** Optional text: absent or null means "" (old clients send null for empty fields). */
function optionalText(maxBytes: number) {
  return utf8String(maxBytes)
    .nullish()
    .transform((text) => text ?? '');
}

/** Optional value for partial updates: absent or null means "leave unchanged". */
function unchangedIfAbsent<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().transform((value) => value ?? undefined);
}

function optionalBoolean() {
  return z
    .boolean()
    .nullish()
    .transform((flag) => flag ?? false);
}

/** Issue params that turn a schema failure into IMAGE_INVALID:<reason> instead of INVALID_PARAM. */
interface ImageIssueParams {
  imageInvalid: 'NOT_BASE64' | 'TOO_LARGE';
}

/** A base64 image, with or without `data:image/...;base64,`; decoded to bytes here. */
export function base64Image() {
  return z
    .string()
    .meta({
      description: 'base64 JPG/PNG/BMP, optionally as a data URL; at most 4 MB decoded',
      contentEncoding: 'base64',
    })
    .transform((text, context) => {
      const decoded = decodeBase64Image(text);
      if (decoded.ok) return decoded.bytes;
      // An empty image is a missing parameter; the others are images we refuse.
      const params: ImageIssueParams | undefined =
        decoded.failure === 'EMPTY' ? undefined : { imageInvalid: decoded.failure };
      context.addIssue({ code: 'custom', message: `image ${decoded.failure}`, input: text, params });
      return z.NEVER;
    });
}

/** `pageOffset`, `pageSize` arrive as query strings: digits only, "" counts as absent. */
function queryInteger(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{0,16}$/)
    .optional()
    .transform((text) => (text === undefined || text === '' ? fallback : Number(text)))
    .pipe(z.number().int().min(min).max(max))
    .meta({ description: `integer ${min}..${max}, default ${fallback}` });
}

export const MAX_ID_BYTES = 32;

/** faceToken, imageId, groupId in a path. */
const pathId = z
  .string()
  .min(1)
  .max(MAX_ID_BYTES)
  .refine((text) => utf8Length(text) <= MAX_ID_BYTES);

/** api.md: a given imageMd5 is ≤ 32 bytes of URL-safe characters (computed imageIds use `-_=` too). */
const imageMd5 = utf8String(MAX_ID_BYTES).regex(/^[A-Za-z0-9_=-]*$/, 'URL-safe characters only');

const groupIdList = z.array(z.string()).min(1);

// ---- section 1: faces -------------------------------------------------------------------------

export const registerFaceBody = z.object({
  image: base64Image(),
  description: optionalText(255),
  imageMd5: imageMd5.nullish().transform((text) => text ?? ''),
  name: optionalText(128),
  gender: optionalText(16),
});

export const pageQuery = z.object({
  pageOffset: queryInteger(0, Number.MAX_SAFE_INTEGER, 0),
  pageSize: queryInteger(1, 1000, 20),
});

export const faceTokenParams = z.object({ faceToken: pathId });
export const imageIdParams = z.object({ imageId: pathId });

// ---- section 2: groups ------------------------------------------------------------------------

export const DEFAULT_GROUP_SCORE = 80;

const groupScore = z.number().int().min(0).max(100).meta({ description: 'match threshold, an integer 0..100 (the original types it int)' });
/**
 * Required means present; it may be "" (the original's own 2.1 example lists a created group with
 * an empty name), and empty names never conflict.
 */
const groupName = utf8String(128);

export const groupIdParams = z.object({ groupId: pathId });

/**
 * A new groupId: up to 32 bytes, any script, but no control characters (NUL, newlines): it travels in URL
 * paths and log lines, where those only ever do harm.
 */
const newGroupId = utf8String(MAX_ID_BYTES)
  .min(1)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

export const createGroupBody = z.object({
  groupId: newGroupId,
  groupName,
  groupType: optionalText(128),
  groupScore: groupScore.nullish().transform((score) => score ?? DEFAULT_GROUP_SCORE),
});

export const updateGroupBody = z.object({
  groupId: utf8String(MAX_ID_BYTES).min(1),
  groupName: unchangedIfAbsent(groupName),
  groupType: unchangedIfAbsent(utf8String(128)),
  groupScore: unchangedIfAbsent(groupScore),
});

export const deleteGroupBody = z.object({
  deleteAllFace: z.literal([1, 2, 3, 4]),
});

export const bindingBody = z.object({
  faceGroupList: groupIdList,
});

// ---- section 3: recognition -------------------------------------------------------------------

export const compareBody = z.object({
  image1: base64Image(),
  image2: base64Image(),
  livenessEnabled: optionalBoolean(),
});

export const searchBody = z.object({
  image: base64Image(),
  group: groupIdList,
  topN: z
    .number()
    .int()
    .min(1)
    .max(5)
    .nullish()
    .transform((count) => count ?? 1),
  livenessEnabled: optionalBoolean(),
  featureUpload: optionalBoolean(),
  /** Extension: also search every other face of the photo (`faces` in the reply, largest first). */
  allFaces: optionalBoolean(),
});

/** Extension (not in api.md; the console uses it): every face of an image, main face first. */
export const detectBody = z.object({
  image: base64Image(),
  livenessEnabled: optionalBoolean(),
});

/** Every endpoint's request parts, keyed like the routes; the source for generated API docs. */
export const requestSchemas = {
  'POST /api/faces': { body: registerFaceBody },
  'GET /api/faces': { query: pageQuery },
  'DELETE /api/faces/{faceToken}': { params: faceTokenParams },
  'DELETE /api/faces/image/{imageId}': { params: imageIdParams },
  'GET /api/faces/faceToken/{faceToken}': { params: faceTokenParams },
  'GET /api/faces/image/{imageId}': { params: imageIdParams },
  'DELETE /api/faces/facesLib': {},
  'GET /api/faceGroups': {},
  'POST /api/faceGroups': { body: createGroupBody },
  'DELETE /api/faceGroups/{groupId}': { params: groupIdParams, body: deleteGroupBody },
  'GET /api/faceGroups/{groupId}': { params: groupIdParams, query: pageQuery },
  'POST /api/faceGroups/binding/{faceToken}': { params: faceTokenParams, body: bindingBody },
  'DELETE /api/faceGroups/unbind/{faceToken}': { params: faceTokenParams, body: bindingBody },
  'PUT /api/faceGroups': { body: updateGroupBody },
  'POST /api/face/compare': { body: compareBody },
  'POST /api/face/search': { body: searchBody },
  'GET /api/audit': { query: pageQuery },
  'POST /api/face/detect': { body: detectBody },
} as const;

// ---- applying a schema ------------------------------------------------------------------------

/** What the body parser hands over when the body is not JSON; only routes that read a body refuse it. */
export const MALFORMED_BODY: unique symbol = Symbol('malformed JSON body');

function errorForIssue(issue: z.core.$ZodIssue | undefined): VisageError {
  const field = issue?.path[0];
  const params = issue?.code === 'custom' ? (issue.params as Partial<ImageIssueParams> | undefined) : undefined;
  if (params?.imageInvalid !== undefined) return imageInvalid(params.imageInvalid);
  return invalidParam(typeof field === 'string' ? field : 'body');
}

/** Validates a JSON body; an absent/empty body counts as `{}` so the first missing field is named. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (body === MALFORMED_BODY) throw invalidParam('body');
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw errorForIssue(result.error.issues[0]);
  return result.data;
}

export function parseQuery<Schema extends z.ZodType>(schema: Schema, query: unknown): z.output<Schema> {
  const result = schema.safeParse(query ?? {});
  if (!result.success) throw errorForIssue(result.error.issues[0]);
  return result.data;
}

/** Validates path identifiers; one that cannot exist is reported as `notExist` (e.g. GROUP_ID_NOT_EXIST). */
export function parseParams<Schema extends z.ZodType>(
  schema: Schema,
  params: unknown,
  notExist: ErrorName,
): z.output<Schema> {
  const result = schema.safeParse(params);
  if (!result.success) throw new VisageError(notExist);
  return result.data;
}

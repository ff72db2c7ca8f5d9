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
import { bilingual } from './bilingual.js';
import { decodeBase64Image } from './data-url.js';
import { decodedImage, withDecodedImages } from './decoded-images.js';

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

/** A base64 image, with or without `data:image/...;base64,`; decoded to bytes here (or in the body thread). */
export function base64Image() {
  return z
    .string()
    .meta({
      description: 'base64 JPG/PNG/BMP, optionally as a data URL; at most 4 MB decoded',
      contentEncoding: 'base64',
      // An empty image is INVALID_PARAM like a missing one (the decoder decides the rest: IMAGE_INVALID).
      minLength: 1,
    })
    .transform((text, context) => {
      const decoded = decodedImage(text) ?? decodeBase64Image(text);
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
  image: base64Image().meta(
    bilingual(
      'Face photo, base64, with or without a `data:image/jpg;base64,` prefix. JPG, PNG, BMP (WebP too); at most 4 MB; 100×100 to 4096×2160 px. The largest face is registered.',
      '人脸图片，base64 编码，可带 `data:image/jpg;base64,` 头部信息。图片类型 Jpg、Jpeg、PNG、BMP；大小 <=4MB；尺寸最大 <=4096*2160，最小 >=100*100。',
    ),
  ),
  description: optionalText(255).meta(
    bilingual('Description of the image file, at most 255 UTF-8 bytes.', '人脸文件的描述（不超过 255 字节，UTF-8 编码）。'),
  ),
  imageMd5: imageMd5
    .nullish()
    .transform((text) => text ?? '')
    .meta(
      bilingual(
        'The imageId to register the photo under (at most 32 bytes, URL-safe characters). Empty: computed from the image bytes (md5 → base64, `+`→`-`, `/`→`_`).',
        '基于图片的 md5 值的唯一表示，参数为空时，入库会自动生成，不为空时，可根据规则生成，确保唯一，最大 32 字节。',
      ),
    ),
  name: optionalText(128).meta(bilingual("The person's name; may be empty (at most 128 bytes).", '人员姓名，可为空（最大 128 字节）。')),
  gender: optionalText(16).meta(bilingual("The person's gender; may be empty (at most 16 bytes).", '人员性别，可为空（最大 16 字节）。')),
});

export const pageQuery = z.object({
  pageOffset: queryInteger(0, Number.MAX_SAFE_INTEGER, 0).meta(
    bilingual('Offset of the first item in the list, from 0 (default 0).', '列表结果偏移量，从 0 开始。'),
  ),
  pageSize: queryInteger(1, 1000, 20).meta(
    bilingual('Most items in one page, 1..1000 (default 20).', '返回结果一页的最大数量。'),
  ),
});

export const faceTokenParams = z.object({
  faceToken: pathId.meta(bilingual('The unique identifier of a face (24 characters).', '人脸唯一标识（24 字节）。')),
});
export const imageIdParams = z.object({
  imageId: pathId.meta(bilingual('The identifier of an original image (24 characters).', '原图唯一标识（24 字节）。')),
});

// ---- section 2: groups ------------------------------------------------------------------------

export const DEFAULT_GROUP_SCORE = 80;

const groupScore = z.number().int().min(0).max(100);
const groupScoreDescription = bilingual(
  'Match threshold, an integer 0..100 (default 80): a face of the group matches when its score reaches it.',
  '分组阈值（0-100），与该分组比对人脸时，大于这个值认为比对成功，默认 80。',
);
const groupIdDescription = bilingual(
  'Group id, the unique key of the group for deleting, changing and querying it; at most 32 bytes.',
  '分组 ID，分组的唯一标识，分组的删除、修改、查询都通过 groupId 操作，最大 32 字节。',
);
const groupNameDescription = bilingual('Group name, at most 128 bytes; may be empty.', '分组名称，最大 128 字节。');
const groupTypeDescription = bilingual('Group type, at most 128 bytes.', '分组类型，最大 128 字节。');
/**
 * Required means present; it may be "" (the original's own 2.1 example lists a created group with
 * an empty name), and empty names never conflict.
 */
const groupName = utf8String(128);

export const groupIdParams = z.object({
  groupId: pathId.meta(bilingual('Group id.', '人脸分组 ID。')),
});

/**
 * A new groupId: up to 32 bytes, any script, but no control characters (NUL, newlines): it travels in URL
 * paths and log lines, where those only ever do harm.
 */
const newGroupId = utf8String(MAX_ID_BYTES)
  .min(1)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

export const createGroupBody = z.object({
  groupId: newGroupId.meta(groupIdDescription),
  groupName: groupName.meta(groupNameDescription),
  groupType: optionalText(128).meta(groupTypeDescription),
  groupScore: groupScore
    .nullish()
    .transform((score) => score ?? DEFAULT_GROUP_SCORE)
    .meta(groupScoreDescription),
});

export const updateGroupBody = z.object({
  groupId: utf8String(MAX_ID_BYTES).min(1).meta(groupIdDescription),
  groupName: unchangedIfAbsent(groupName).meta(groupNameDescription),
  groupType: unchangedIfAbsent(utf8String(128)).meta(groupTypeDescription),
  groupScore: unchangedIfAbsent(groupScore).meta(groupScoreDescription),
});

export const deleteGroupBody = z.object({
  deleteAllFace: z
    .literal([1, 2, 3, 4])
    .meta(
      bilingual(
        '1: unbind every face, delete the group. 2: delete every face of the group (token, crop, all its bindings; originals stay), delete the group. 3: unbind every face; faces bound to no other group lose token and crop (originals stay); keep the group. 4: unbind every face; faces bound to no other group lose token, crop and original; delete the group. `default` counts as another group.',
        '1 解绑分组的人脸；删除分组。2 解绑分组中人脸与其他分组的绑定；删除分组中的人脸；删除分组。3 解绑分组中人脸；如果这个人脸只绑定当前分组，仅删除对应的人脸图；不删除原始图；保留分组。4 解绑分组中的人脸；如果这个人脸只绑定当前分组，删除人脸图和原始图；删除分组。',
      ),
    ),
});

export const bindingBody = z.object({
  faceGroupList: groupIdList.meta(
    bilingual('The groups to bind to (2.5) or unbind from (2.6); several allowed.', '需要绑定（解绑）的人脸分组列表，允许多个分组。'),
  ),
});

// ---- section 3: recognition -------------------------------------------------------------------

const livenessEnabled = optionalBoolean().meta(
  bilingual('Also run the anti-spoofing model and return livenessScore (default false).', '活体使能开关，默认关。'),
);

export const compareBody = z.object({
  image1: base64Image().meta(bilingual('First face photo, base64 (as in 1.1).', '人脸图片 1，base64 编码的字符串。')),
  image2: base64Image().meta(bilingual('Second face photo, base64 (as in 1.1).', '人脸图片 2，base64 编码的字符串。')),
  livenessEnabled,
});

export const searchBody = z.object({
  image: base64Image().meta(bilingual('Face photo to search for, base64 (as in 1.1).', '人脸图片，base64 编码的字符串。')),
  group: groupIdList.meta(bilingual('The groups to search in (at least one).', '指定搜索的分组列表。')),
  topN: z
    .number()
    .int()
    .min(1)
    .max(5)
    .nullish()
    .transform((count) => count ?? 1)
    .meta(bilingual('How many of the best hits to return, 1..5 (default 1).', '得分最高的人脸个数，取值[1,5]。')),
  livenessEnabled,
  featureUpload: optionalBoolean().meta(
    bilingual("Also return the query face's embedding as `feature` (default false).", '特征值开关，默认关。'),
  ),
  allFaces: optionalBoolean().meta(
    bilingual('Extension: also search every other face of the photo (`faces` in the reply, largest first).', '扩展：同时检索照片中的其他每张人脸（结果见 `faces`，按人脸从大到小）。'),
  ),
});

/** Extension (not in api.md; the console uses it): every face of an image, main face first. */
export const detectBody = z.object({
  image: base64Image().meta(bilingual('Photo to analyse, base64 (as in 1.1).', '人脸图片，base64 编码的字符串。')),
  livenessEnabled,
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
  const result = withDecodedImages(body, () => schema.safeParse(body ?? {}));
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

/**
 * Response schemas of every endpoint: the `{code, msg, data}` envelope and each `data` shape, with the
 * field descriptions of both spec documents. The routes' wire types are inferred from these schemas, and the
 * OpenAPI document is generated from them (objects are strict, so a field added to a response but not here
 * fails the OpenAPI conformance test).
 */
import { z } from 'zod';
import { ErrorCode } from '../errors.js';
import { bilingual } from './bilingual.js';
import { TransportFailure } from './envelope.js';

const int = () => z.number().int();

const imageIdField = z.string().meta(bilingual('Identifier of the original image (24 characters).', '入库的图片原图标识（24 字节）。'));
const faceTokenField = z.string().meta(bilingual('Unique identifier of the face (24 characters).', '人脸唯一标识（24 字节）。'));
const descriptionField = z.string().meta(bilingual('Description of the image file.', '入库时照片文件的描述。'));
const nameField = z.string().meta(bilingual("The person's name.", '人员姓名。'));
const genderField = z.string().meta(bilingual("The person's gender.", '人员性别。'));
const groupIdField = z.string().meta(bilingual('Group id.', '分组 ID。'));

export const wireRectSchema = z
  .strictObject({
    left: int().meta(bilingual('Left edge of the face box (px).', '人脸框左边界坐标。')),
    top: int().meta(bilingual('Top edge of the face box (px).', '人脸框上边界坐标。')),
    right: int().meta(bilingual('Right edge of the face box (px).', '人脸框右边界坐标。')),
    bottom: int().meta(bilingual('Bottom edge of the face box (px).', '人脸框下边界坐标。')),
  })
  .meta({ id: 'Rect', ...bilingual('Where the face is on the image, in pixels.', '人脸在图片上的位置坐标。') });
export type WireRect = z.infer<typeof wireRectSchema>;

const groupRefList = z
  .array(z.strictObject({ groupId: groupIdField }))
  .meta(bilingual('The groups the face is bound to.', '绑定的分组列表。'));

/** A face row of 2.4. The image id appears under its three spellings in the two documents (wire.ts). */
export const wireGroupFaceSchema = z
  .strictObject({
    imageId: imageIdField,
    imgId: z.string().meta(bilingual('Same as imageId (the spelling of the original 2.4 table).', '同 imageId（原文 2.4 的写法）。')),
    imgeld: z.string().meta(bilingual('Same as imageId (the spelling of the original 1.2 table).', '同 imageId（原文 1.2 的写法）。')),
    faceToken: faceTokenField,
    description: descriptionField,
    name: nameField,
    gender: genderField,
  })
  .meta({ id: 'GroupFace' });
export type WireGroupFace = z.infer<typeof wireGroupFaceSchema>;

/** A face row of 1.2: the 2.4 row plus the numeric `id` the original's example shows. */
export const wireFaceSchema = wireGroupFaceSchema
  .extend({ id: int().meta(bilingual('Numeric row id, ascending in registration order.', '人脸序号，按入库顺序递增。')) })
  .meta({ id: 'Face' });
export type WireFace = z.infer<typeof wireFaceSchema>;

const facePage = (row: typeof wireGroupFaceSchema | typeof wireFaceSchema) =>
  z.strictObject({
    totalFaces: int().meta(bilingual('Total number of faces (all pages).', '总人脸数。')),
    face: z.array(row).meta(bilingual('The faces of this page, in registration order.', '人脸列表。')),
  });

const bindingReport = z
  .strictObject({
    totalCnt: int().meta(bilingual('Number of groups in the request.', '绑定（解绑）的分组数。')),
    successCnt: int().meta(bilingual('Groups bound (unbound).', '绑定（解绑）成功的分组数。')),
    failCnt: int().meta(bilingual('Groups that failed.', '绑定（解绑）失败的分组数。')),
    failInfo: z
      .array(
        z.strictObject({
          groupId: groupIdField,
          errorMsg: z.string().meta(bilingual('Why, e.g. GROUP_ID_NOT_EXIST.', '错误信息。')),
        }),
      )
      .meta(bilingual('One entry per failed group.', '绑定（解绑）失败的具体信息。')),
  })
  .meta({ id: 'BindingReport' });

export const wireDetectionResultSchema = wireRectSchema
  .extend({
    roll: int().meta(bilingual('Head roll (in-plane rotation), degrees.', '人脸旋转角度。')),
    yaw: int().meta(bilingual('Head yaw (left/right), degrees.', '人脸水平角度。')),
    pitch: int().meta(bilingual('Head pitch (up/down), degrees.', '人脸垂直角度。')),
    blurness: z
      .number()
      .meta(bilingual('Blur 0..100, larger = blurrier (the original spelling).', '图像模糊度(0~100)，越大越模糊。')),
    blurriness: z.number().meta(bilingual('Same value as blurness.', '同 blurness。')),
    quality: z.number().meta(bilingual('Image quality 0..1, larger = better.', '图像质量(0~1)，越大质量越好。')),
    livenessScore: z
      .number()
      .optional()
      .meta(
        bilingual(
          'Liveness 0..100, 50 at the equal-error point (larger = more likely live); present when livenessEnabled.',
          '活体检测结果(0~100)，开启活体时返回。',
        ),
      ),
    liveness: z
      .boolean()
      .optional()
      .meta(
        bilingual(
          'Extension: livenessScore reached the configured threshold (VISAGE_LIVENESS_THRESHOLD); present when livenessEnabled.',
          '扩展字段：活体分数达到阈值（VISAGE_LIVENESS_THRESHOLD），开启活体时返回。',
        ),
      ),
  })
  .meta({ id: 'DetectionResult', ...bilingual('The analysed face: box, pose, blur, quality.', '人脸图片的检测结果。') });
export type WireDetectionResult = z.infer<typeof wireDetectionResultSchema>;

/** A face of the detect extension: the detection result plus the registration gate's measures. */
export const wireDetectedFaceSchema = wireDetectionResultSchema
  .extend({
    brightness: z.number().meta(bilingual('Mean luminance of the face, 0..255.', '人脸区域平均亮度（0~255）。')),
    contrast: z.number().meta(bilingual('Standard deviation of the face luminance, 0..255.', '人脸区域亮度标准差（0~255）。')),
    faceSize: z.number().meta(bilingual('Shorter side of the face box (px).', '人脸框短边长度（像素）。')),
  })
  .meta({ id: 'DetectedFace' });
export type WireDetectedFace = z.infer<typeof wireDetectedFaceSchema>;

export const wireSearchHitSchema = z
  .strictObject({
    group: groupRefList,
    searchScore: z.number().meta(bilingual('Similarity 0..100 (80 ≙ false-accept rate 1e-4).', '相似度(0~100)。')),
    far: z
      .number()
      .meta(
        bilingual(
          'Extension: the estimated false-accept rate of one comparison at searchScore (80 → 1e-4, 90 → 1e-5).',
          '扩展字段：该相似度下单次比对的估计误识率（80 → 1e-4，90 → 1e-5）。',
        ),
      ),
    faceToken: faceTokenField,
    imageId: imageIdField,
    description: descriptionField,
    name: nameField,
    gender: genderField,
    imageUrl: z.string().meta(bilingual('The face crop as a `data:image/jpeg;base64,` URL.', 'base64 编码的人脸图片。')),
  })
  .meta({ id: 'SearchHit' });
export type WireSearchHit = z.infer<typeof wireSearchHitSchema>;

const rank = (position: number) =>
  z
    .union([wireSearchHitSchema, z.strictObject({})])
    .meta(bilingual(`The hit ranked ${position}, or {} when there is none.`, position === 1 ? '比对结果 top1。' : '同 top1。'));

/** A searched face: its detection result and its ranked hits (the reply of 3.2, and each entry of `faces`). */
const searchedFace = {
  detectionResult: wireDetectionResultSchema,
  top1: rank(1),
  top2: rank(2),
  top3: rank(3),
  top4: rank(4),
  top5: rank(5),
};

const empty = z.strictObject({}).meta({ id: 'Empty' });

/**
 * `data` of every endpoint's success, keyed like requestSchemas (openapi-document.ts checks that every key is
 * here). No import of schemas.ts: the console type-checks against these types without Node's.
 */
export const responseDataSchemas = {
  'POST /api/faces': z.strictObject({
    id: int().meta(bilingual('Numeric row id of the new face.', '人脸序号。')),
    imageId: imageIdField,
    faceToken: faceTokenField,
    rect: wireRectSchema,
  }),
  'GET /api/faces': facePage(wireFaceSchema),
  'DELETE /api/faces/{faceToken}': empty,
  'DELETE /api/faces/image/{imageId}': empty,
  'GET /api/faces/faceToken/{faceToken}': z.strictObject({
    imageId: imageIdField,
    description: descriptionField,
    name: nameField,
    gender: genderField,
    rect: wireRectSchema,
    faceGroupList: groupRefList,
    image: z.string().meta(bilingual('The face crop as a `data:image/jpeg;base64,` URL.', 'base64 编码的人脸图片。')),
  }),
  'GET /api/faces/image/{imageId}': z.strictObject({
    image: z
      .string()
      .meta(bilingual('The original image as a `data:image/<format>;base64,` URL.', 'Base64 编码后的原始图片。')),
    faceToken: z
      .array(z.string())
      .meta(bilingual('Tokens of the faces registered from it (empty after 1.3).', '一张原始图可能对应多个人脸。')),
  }),
  'DELETE /api/faces/facesLib': empty,
  'GET /api/faceGroups': z.strictObject({
    faceGroupList: z
      .array(
        z.strictObject({
          groupId: groupIdField,
          groupType: z.string().meta(bilingual('Group type.', '人脸分组类型。')),
          groupName: z.string().meta(bilingual('Group name.', '人脸分组名称。')),
          groupScore: int().meta(bilingual('Match threshold 0..100.', '分组阈值。')),
          groupFaces: int().meta(bilingual('Number of faces bound to the group.', '人脸分组关联的人脸总数量。')),
        }),
      )
      .meta(bilingual('Every group, `default` first.', '人脸分组列表。')),
  }),
  'POST /api/faceGroups': empty,
  'DELETE /api/faceGroups/{groupId}': empty,
  'GET /api/faceGroups/{groupId}': facePage(wireGroupFaceSchema),
  'POST /api/faceGroups/binding/{faceToken}': bindingReport,
  'DELETE /api/faceGroups/unbind/{faceToken}': bindingReport,
  'PUT /api/faceGroups': empty,
  'POST /api/face/compare': z.strictObject({
    compareScore: z.number().meta(bilingual('Similarity 0..100 (80 ≙ false-accept rate 1e-4).', '1:1 相似度。')),
    detectionResult1: wireDetectionResultSchema,
    detectionResult2: wireDetectionResultSchema,
  }),
  'POST /api/face/search': z.strictObject({
    ...searchedFace,
    faces: z
      .array(z.strictObject(searchedFace))
      .optional()
      .meta(
        bilingual(
          'Extension, when allFaces: every face of the photo, largest first, each searched like the main one (whose entry repeats the fields above).',
          '扩展字段，开启 allFaces 时返回：照片中的每张人脸（按人脸从大到小），各自如主人脸一样检索（主人脸的条目与上面字段相同）。',
        ),
      ),
    feature: z
      .array(z.number())
      .optional()
      .meta(bilingual("The query face's embedding (512 numbers), when featureUpload.", '特征值，开启特征值开关时返回。')),
    featureModel: z
      .string()
      .optional()
      .meta(bilingual('The model that made `feature`.', '生成特征值的模型。')),
  }),
  'POST /api/face/detect': z.strictObject({
    faceNum: int().meta(bilingual('Number of faces found (0 is not an error).', '检测到的人脸数。')),
    faces: z
      .array(wireDetectedFaceSchema)
      .meta(bilingual('Every face, main face first (the one 1.1, 3.1 and 3.2 take).', '所有人脸，主人脸在前。')),
  }),
  'GET /api/audit': z.strictObject({
    total: int().meta(bilingual('Number of entries (all pages).', '日志总条数。')),
    entries: z
      .array(
        z.strictObject({
          id: int().meta(bilingual('Ascending in append order.', '序号，按记录顺序递增。')),
          at: z.string().meta(bilingual('When, ISO 8601 UTC.', '时间（ISO 8601，UTC）。')),
          actor: z.string().meta(bilingual('Who: the API key id, or "anonymous".', '操作者：API 密钥 ID，或 "anonymous"。')),
          action: z.string().meta(bilingual('What, e.g. "face.delete", "group.delete:4".', '操作，例如 "face.delete"。')),
          target: z.string().meta(bilingual('On what (faceToken, imageId, groupId, key id); "" for the library.', '操作对象；整个人脸库时为空。')),
        }),
      )
      .meta(bilingual('Oldest first.', '按时间先后排列。')),
  }),
};

export function successEnvelope<Data extends z.ZodType>(data: Data) {
  return z.strictObject({
    code: z.literal(0).meta(bilingual('Result code, 0 = OK.', '结果码(0 即为 OK)。')),
    msg: z.literal('SUCCESS').meta(bilingual('Result description.', '结果描述。')),
    data: data.meta(bilingual('Returned data.', '返回数据。')),
  });
}

/** Every code a failure can carry: api.md's business codes and the HTTP statuses used as codes. */
const failureCodes = [...Object.values(ErrorCode), ...Object.values(TransportFailure)] as [number, ...number[]];

export const failureEnvelopeSchema = z
  .strictObject({
    code: z.literal(failureCodes).meta(bilingual('Error code (see the table of the response).', '错误码。')),
    msg: z
      .string()
      .meta(bilingual('Error name, with the reason after a colon, e.g. `INVALID_PARAM:topN`.', '错误消息，例如 `BAD_QUALITY:BLUR`。')),
    data: z
      .record(z.string(), z.unknown())
      .meta(bilingual('{} except for BAD_QUALITY, which carries the measured values.', '一般为空；BAD_QUALITY 时为测得的质量数值。')),
  })
  .meta({ id: 'Failure' });

// ---- operations endpoints ---------------------------------------------------------------------------

export const livenessDataSchema = z.strictObject({
  status: z.literal('ok').meta(bilingual('The process is up and answering.', '进程存活。')),
});

const check = z
  .strictObject({
    ok: z.boolean().meta(bilingual('Whether the check passed.', '检查是否通过。')),
    detail: z.string().meta(bilingual('What was found.', '检查详情。')),
  })
  .meta({ id: 'ReadinessCheck' });

export const readinessDataSchema = z.strictObject({
  status: z.enum(['ready', 'not ready']).meta(bilingual('Whether this instance can serve requests.', '实例是否就绪。')),
  checks: z
    .strictObject({
      models: check.meta(bilingual('The models are loaded in live worker threads.', '模型已加载。')),
      store: check.meta(bilingual('The store answers a query within 2 s.', '存储可访问。')),
    })
    .meta(bilingual('Each check and its result.', '各项检查结果。')),
});

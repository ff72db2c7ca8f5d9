/**
 * The OpenAPI 3.1 document, generated from the zod schemas the server validates requests with (schemas.ts)
 * and builds responses from (responses.ts): one source of truth, so a field added there is documented here.
 * zod-openapi turns each schema into JSON Schema (zod's own toJSONSchema; request bodies as their input side).
 */
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorCode, type ErrorName } from '../errors.js';
import { bilingual } from './bilingual.js';
import { TransportFailure, type TransportFailureName } from './envelope.js';
import {
  failureEnvelopeSchema,
  livenessDataSchema,
  readinessDataSchema,
  responseDataSchemas,
  successEnvelope,
} from './responses.js';
import { requestSchemas } from './schemas.js';

type RouteKey = keyof typeof requestSchemas;

/** Every endpoint's success `data`; a route added to requestSchemas without its response schema fails here. */
const successData: Record<RouteKey, z.ZodType> = responseDataSchemas;

type Tag = 'Faces' | 'Groups' | 'Recognition' | 'Operations';

interface OperationDoc {
  tag: Tag;
  /** [English, Chinese] */
  summary: [string, string];
  /** The business errors this endpoint documents beyond INVALID_PARAM. */
  errors: ErrorName[];
}

const IMAGE_ERRORS: ErrorName[] = ['IMAGE_INVALID', 'FACE_NOT_FOUND'];

const documented = (tag: Tag, english: string, chinese: string, errors: ErrorName[] = []): OperationDoc => ({
  tag,
  summary: [english, chinese],
  errors,
});

const operations: Record<RouteKey, OperationDoc> = {
  'POST /api/faces': documented('Faces', '1.1 Register one face (bound to `default`)', '1.1 单张人脸注册', [
    ...IMAGE_ERRORS,
    'BAD_QUALITY',
    'FACE_ALREADY_EXIST',
  ]),
  'GET /api/faces': documented('Faces', '1.2 List every face of the library', '1.2 查询人脸库所有人脸信息'),
  'DELETE /api/faces/{faceToken}': documented('Faces', '1.3 Delete one face (its original image stays)', '1.3 单张人脸删除', [
    'FACE_TOKEN_NOT_EXIST',
  ]),
  'DELETE /api/faces/image/{imageId}': documented('Faces', '1.4 Delete an original image and its faces', '1.4 单张人脸原图删除', [
    'IMAGE_ID_NOT_EXIST',
  ]),
  'GET /api/faces/faceToken/{faceToken}': documented('Faces', '1.5 One face, with its crop', '1.5 单张人脸查询', [
    'FACE_TOKEN_NOT_EXIST',
  ]),
  'GET /api/faces/image/{imageId}': documented('Faces', '1.6 An original image and its faces', '1.6 获取某个原始图片信息', [
    'IMAGE_ID_NOT_EXIST',
  ]),
  'DELETE /api/faces/facesLib': documented('Faces', '1.7 Wipe the library (groups stay)', '1.7 初始化人脸库'),
  'GET /api/faceGroups': documented('Groups', '2.1 List the groups', '2.1 查询所有人脸分组信息'),
  'POST /api/faceGroups': documented('Groups', '2.2 Create a group', '2.2 创建人脸分组', [
    'GROUP_ID_CONFLICT',
    'GROUP_NAME_CONFLICT',
    'GROUP_OVER_LIMIT',
  ]),
  'DELETE /api/faceGroups/{groupId}': documented(
    'Groups',
    '2.3 Delete (or clear) a group, in one of four modes',
    '2.3 删除指定人脸分组',
    ['GROUP_BEUSED', 'GROUP_ID_NOT_EXIST'],
  ),
  'GET /api/faceGroups/{groupId}': documented('Groups', "2.4 List a group's faces", '2.4 查询某一人脸分组的所有人脸', [
    'GROUP_ID_NOT_EXIST',
  ]),
  'POST /api/faceGroups/binding/{faceToken}': documented('Groups', '2.5 Bind a face to groups', '2.5 绑定人脸到分组', [
    'FACE_TOKEN_NOT_EXIST',
  ]),
  'DELETE /api/faceGroups/unbind/{faceToken}': documented('Groups', '2.6 Unbind a face from groups', '2.6 解绑人脸与分组关系', [
    'FACE_TOKEN_NOT_EXIST',
  ]),
  'PUT /api/faceGroups': documented('Groups', '2.7 Change a group (only the fields given)', '2.7 修改人脸分组信息', [
    'GROUP_ID_NOT_EXIST',
    'GROUP_NAME_CONFLICT',
  ]),
  'POST /api/face/compare': documented('Recognition', '3.1 Compare two faces (1:1)', '3.1 人脸 1:1', IMAGE_ERRORS),
  'POST /api/face/search': documented('Recognition', '3.2 Search a face in groups (1:N)', '3.2 人脸 1:N', [
    ...IMAGE_ERRORS,
    'GROUP_ID_NOT_EXIST',
  ]),
  'POST /api/face/detect': documented(
    'Recognition',
    'Extension: every face of an image, main face first (stores nothing)',
    '扩展：检测图片中的所有人脸',
    ['IMAGE_INVALID'],
  ),
  'GET /api/audit': documented(
    'Operations',
    'Audit log of destructive requests and key changes (scope admin)',
    '删除类操作与密钥变更的审计日志',
  ),
};

/** Meaning of every business code, [English, Chinese]. */
const errorMeanings: Record<ErrorName, [string, string]> = {
  INVALID_PARAM: ['`INVALID_PARAM:<field>`: the first missing, ill-typed or too long field', '参数错误，冒号后为字段名'],
  FACE_NOT_FOUND: ['no face detected', '未检测到人脸'],
  BAD_QUALITY: [
    '`BAD_QUALITY:<reasons>` (ANGLE, BLUR, BRIGHTNESS, CONTRAST, SIZE); `data` has the measured values',
    '人脸未通过质量判断，reason 为未通过项目',
  ],
  IMAGE_INVALID: [
    '`IMAGE_INVALID:<reason>`: NOT_BASE64, UNSUPPORTED_FORMAT, CORRUPT, TOO_LARGE, TOO_SMALL, TOO_BIG_DIMENSIONS',
    '图片无效（非 base64、格式、大小或尺寸不符）',
  ],
  FACE_ALREADY_EXIST: ['the imageId (given or computed) is already registered', '人脸已经存在'],
  FACE_TOKEN_NOT_EXIST: ['unknown faceToken', 'faceToken 不存在'],
  IMAGE_ID_NOT_EXIST: ['unknown imageId', 'imageId 不存在'],
  GROUP_NAME_CONFLICT: ['groupName already used by another group', '分组名称已经存在'],
  GROUP_OVER_LIMIT: ['too many groups (64 by default, `default` included)', '分组数超上限'],
  GROUP_BEUSED: ['the built-in `default` group cannot be deleted', '分组正被使用，不能删除'],
  GROUP_ID_CONFLICT: ['groupId already exists', '分组 ID 已经存在'],
  GROUP_ID_NOT_EXIST: ['unknown groupId', '分组 ID 不存在'],
};

const transportMeanings: Record<TransportFailureName, [string, string]> = {
  UNAUTHORIZED: ['access control is on and no valid API key was given', '未提供有效的 API 密钥'],
  FORBIDDEN: ["the API key lacks this route's scope", 'API 密钥无此接口权限'],
  TOO_MANY_REQUESTS: ["over the key's rate limit; retry later", '超过请求频率限制'],
  NOT_FOUND: ['no such route (method and path)', '接口不存在'],
  BODY_TOO_LARGE: ['the body is over the size limit (12 MiB)', '请求体过大'],
  INTERNAL_ERROR: ['a bug on the server (logged; no details are sent)', '服务器内部错误'],
  OVERLOADED: ['too many requests are waiting for the inference workers; retry after Retry-After (the connection is not read until then)', '服务繁忙，请稍后重试'],
  NOT_READY: ['the server is starting or shutting down; retry on another instance', '服务未就绪（启动中或正在关闭）'],
};

function codeTable(names: ErrorName[]): string {
  const rows = ['INVALID_PARAM' as const, ...names].map((name) => {
    const [english, chinese] = errorMeanings[name];
    return `| ${ErrorCode[name]} | ${name} | ${english} | ${chinese} |`;
  });
  return ['| code | msg | when | 说明 |', '|---|---|---|---|', ...rows].join('\n');
}

const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

function transportResponse(name: TransportFailureName) {
  const [english, chinese] = transportMeanings[name];
  return { description: `\`${name}\` (code ${TransportFailure[name]}): ${english}. ${chinese}`, ...json(failureEnvelopeSchema) };
}

function operation(key: RouteKey): ZodOpenApiOperationObject {
  const doc = operations[key];
  const request: { params?: z.ZodObject; query?: z.ZodObject; body?: z.ZodType } = requestSchemas[key];
  return {
    tags: [doc.tag],
    summary: doc.summary[0],
    description: doc.summary[1],
    ...(request.params === undefined && request.query === undefined
      ? {}
      : { requestParams: { ...(request.params ? { path: request.params } : {}), ...(request.query ? { query: request.query } : {}) } }),
    ...(request.body === undefined ? {} : { requestBody: { required: true, ...json(request.body) } }),
    responses: {
      '200': { description: 'SUCCESS', ...json(successEnvelope(successData[key])) },
      '400': { description: `Business error (HTTP 400). 业务错误。\n\n${codeTable(doc.errors)}`, ...json(failureEnvelopeSchema) },
      '401': transportResponse('UNAUTHORIZED'),
      '403': transportResponse('FORBIDDEN'),
      '404': transportResponse('NOT_FOUND'),
      '413': transportResponse('BODY_TOO_LARGE'),
      '429': transportResponse('TOO_MANY_REQUESTS'),
      '500': transportResponse('INTERNAL_ERROR'),
      '503': transportResponse('OVERLOADED'),
    },
  };
}

/** A GET of the server's own (tag Operations), outside the face API's envelope rules and error table. */
const operationsGet = (
  english: string,
  chinese: string,
  responses: ZodOpenApiOperationObject['responses'],
): ZodOpenApiPathsObject[string] => ({ get: { tags: ['Operations'], summary: english, description: chinese, responses } });

/** The server's own endpoints beside the face API. */
const operationsPaths: ZodOpenApiPathsObject = {
  '/openapi.json': operationsGet('This OpenAPI document (Swagger UI at /docs)', '本 OpenAPI 文档（Swagger UI 见 /docs）', {
    '200': { description: 'OpenAPI 3.1', ...json(z.record(z.string(), z.unknown())) },
  }),
  '/healthz': operationsGet('Liveness: the process answers', '存活检查', {
    '200': { description: 'alive', ...json(successEnvelope(livenessDataSchema)) },
  }),
  '/readyz': operationsGet('Readiness: models loaded, store reachable, not shutting down', '就绪检查：模型已加载、存储可访问、未在关闭', {
    '200': { description: 'ready', ...json(successEnvelope(readinessDataSchema)) },
    '503': { description: '`NOT_READY` (code 503), with the checks in `data` (none while shutting down)', ...json(failureEnvelopeSchema) },
  }),
  '/metrics': operationsGet('Prometheus metrics (scope admin when access control is on)', 'Prometheus 监控指标', {
    '200': { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
  }),
};

/** `POST /api/faces/{faceToken}` → method and path. */
export function splitRouteKey(key: string): { method: string; path: string } {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
}

export function buildOpenApiDocument(version: string): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const key of Object.keys(operations) as RouteKey[]) {
    const { method, path } = splitRouteKey(key);
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(key) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Visage face API',
      version,
      description: [
        'A self-hosted implementation of the seed face API. Every response is `{code, msg, data}`: HTTP 200 with',
        '`code: 0, msg: "SUCCESS"` on success; business errors are HTTP 400 with the codes listed per endpoint.',
        'Images are base64, with or without a `data:image/...;base64,` prefix. Lengths count UTF-8 bytes.',
        '',
        '自托管的人脸识别服务，实现人脸相关 API 接口。所有响应均为 `{code, msg, data}`。',
      ].join('\n'),
    },
    tags: [
      { name: 'Faces', description: '1. 人脸' },
      { name: 'Groups', description: '2. 人脸分组' },
      { name: 'Recognition', description: '3. 人脸识别' },
      { name: 'Operations', description: 'Documentation, health and metrics. 文档、健康检查与监控指标。' },
    ],
    paths: { ...paths, ...operationsPaths },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API key as `Authorization: Bearer <key>`' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'API key as `X-Api-Key: <key>`' },
      },
    },
    // Access control is off by default (VISAGE_AUTH=on turns it on): no key, or either form of it.
    security: [{}, { bearer: [] }, { apiKey: [] }],
  });
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** Every operation of a document as `METHOD /path/{param}`. */
export function documentedRoutes(document: ReturnType<typeof createDocument>): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) if (item[method] !== undefined) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

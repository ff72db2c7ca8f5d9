/**
 * The console's only way to the server: the JSON endpoints of api.md (and the one documented extension,
 * POST /api/face/detect), exactly as any other client calls them. The response shapes are the server's own: type-only imports, so
 * nothing of the server is bundled.
 */
import type { WireDetectedFace, WireDetectionResult, WireGroupFace, WireRect, WireSearchHit } from '../../src/http/wire.js';

export interface Envelope<Data> {
  code: number;
  msg: string;
  data: Data;
}

/** A failure envelope (business error, 404, 413, 503 …) or a response that was not JSON at all. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly data: Record<string, unknown>,
  ) {
    super(msg);
  }
}

export type Box = WireRect;
export type DetectionResult = WireDetectionResult;
export type FaceRow = WireGroupFace;
export type SearchHit = WireSearchHit;
export type DetectedFace = WireDetectedFace;

export interface FacePage {
  totalFaces: number;
  face: FaceRow[];
}

export interface FaceDetail {
  imageId: string;
  description: string;
  name: string;
  gender: string;
  rect: Box;
  faceGroupList: Array<{ groupId: string }>;
  /** The face crop, as a data URL. */
  image: string;
}

export interface Group {
  groupId: string;
  groupName: string;
  groupType: string;
  groupScore: number;
  groupFaces: number;
}

export interface Registered {
  id: number;
  imageId: string;
  faceToken: string;
  rect: Box;
}

export interface Compared {
  compareScore: number;
  detectionResult1: DetectionResult;
  detectionResult2: DetectionResult;
}

const RANKS = ['top1', 'top2', 'top3', 'top4', 'top5'] as const;
type Searched = { detectionResult: DetectionResult } & Record<(typeof RANKS)[number], SearchHit | Record<string, never>>;

export interface BindingResult {
  totalCnt: number;
  successCnt: number;
  failCnt: number;
  failInfo: Array<{ groupId: string; errorMsg: string }>;
}

/** api.md 2.3: what happens to the group and its faces. */
export type DeleteMode = 1 | 2 | 3 | 4;

/** With VISAGE_AUTH=on every call needs a key; it is kept for this browser tab only. */
const KEY_STORAGE = 'visage.apiKey';

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key: string): void {
  if (key === '') sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

async function call<Data>(method: string, path: string, body?: unknown): Promise<Data> {
  const headers: Record<string, string> = {};
  const key = apiKey();
  if (key !== '') headers['x-api-key'] = key;
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(path, init);
  let envelope: Envelope<Data>;
  try {
    envelope = (await response.json()) as Envelope<Data>;
  } catch {
    throw new ApiError(response.status, `HTTP ${response.status}`, {});
  }
  if (envelope.code !== 0) throw new ApiError(envelope.code, envelope.msg, envelope.data as Record<string, unknown>);
  return envelope.data;
}

const path = encodeURIComponent;

export const api = {
  // section 1
  register: (face: { image: string; name: string; gender: string; description: string }) =>
    call<Registered>('POST', '/api/faces', { ...face, imageMd5: '' }),
  listFaces: (offset: number, size: number) => call<FacePage>('GET', `/api/faces?pageOffset=${offset}&pageSize=${size}`),
  face: (faceToken: string) => call<FaceDetail>('GET', `/api/faces/faceToken/${path(faceToken)}`),
  deleteFace: (faceToken: string) => call<object>('DELETE', `/api/faces/${path(faceToken)}`),

  // section 2
  groups: async () => (await call<{ faceGroupList: Group[] }>('GET', '/api/faceGroups')).faceGroupList,
  createGroup: (group: Omit<Group, 'groupFaces'>) => call<object>('POST', '/api/faceGroups', group),
  updateGroup: (groupId: string, change: Partial<Omit<Group, 'groupId' | 'groupFaces'>>) =>
    call<object>('PUT', '/api/faceGroups', { groupId, ...change }),
  deleteGroup: (groupId: string, mode: DeleteMode) => call<object>('DELETE', `/api/faceGroups/${path(groupId)}`, { deleteAllFace: mode }),
  groupFaces: (groupId: string, offset: number, size: number) =>
    call<FacePage>('GET', `/api/faceGroups/${path(groupId)}?pageOffset=${offset}&pageSize=${size}`),
  bind: (faceToken: string, groupIds: string[]) =>
    call<BindingResult>('POST', `/api/faceGroups/binding/${path(faceToken)}`, { faceGroupList: groupIds }),

  // section 3
  compare: (image1: string, image2: string, livenessEnabled: boolean) =>
    call<Compared>('POST', '/api/face/compare', { image1, image2, livenessEnabled }),
  search: async (image: string, group: string[], topN: number, livenessEnabled: boolean) => {
    const data = await call<Searched>('POST', '/api/face/search', { image, group, topN, livenessEnabled, featureUpload: false });
    const hits = RANKS.map((rank) => data[rank]).filter((hit): hit is SearchHit => 'faceToken' in hit);
    return { face: data.detectionResult, hits };
  },

  // extension
  detect: async (image: string, livenessEnabled: boolean) =>
    (await call<{ faceNum: number; faces: DetectedFace[] }>('POST', '/api/face/detect', { image, livenessEnabled })).faces,
};

/** The most faces the list endpoints hand out per page (api.md 1.2, 2.4). */
export const MAX_PAGE_SIZE = 1000;

/**
 * The domain API of sections 1 and 2 (faces, images, groups, bindings), as the HTTP edge sees it.
 * Implementations live beside this file; they use a Store and never know about HTTP.
 */
import type { ImageFormat, Rect } from '../vision/types.js';

export interface PageRequest {
  /** Item offset from 0. */
  offset: number;
  /** 1..1000. */
  size: number;
}

export interface FaceSummary {
  id: number;
  imageId: string;
  faceToken: string;
  description: string;
  name: string;
  gender: string;
}

export interface FacePage {
  total: number;
  faces: FaceSummary[];
}

export interface RegisterFaceInput {
  /** Decoded image bytes (base64 already removed at the edge). */
  image: Uint8Array;
  description: string;
  /** Empty: the imageId is computed from the bytes. */
  imageMd5: string;
  name: string;
  gender: string;
}

export interface RegisteredFace {
  id: number;
  imageId: string;
  faceToken: string;
  rect: Rect;
}

export interface FaceDetail extends FaceSummary {
  rect: Rect;
  groupIds: string[];
  /** JPEG bytes of the face crop. */
  crop: Uint8Array;
}

export interface ImageDetail {
  imageId: string;
  format: ImageFormat;
  /** The original bytes as registered. */
  bytes: Uint8Array;
  faceTokens: string[];
}

export interface FaceLibrary {
  /** 1.1: registers the largest face; binds it to `default`. */
  register(input: RegisterFaceInput): Promise<RegisteredFace>;
  /** 1.2: registration order. */
  list(page: PageRequest): Promise<FacePage>;
  /** 1.3: FACE_TOKEN_NOT_EXIST when unknown. */
  deleteFace(faceToken: string): Promise<void>;
  /** 1.4: IMAGE_ID_NOT_EXIST when unknown. */
  deleteImage(imageId: string): Promise<void>;
  /** 1.5 */
  getFace(faceToken: string): Promise<FaceDetail>;
  /** 1.6 */
  getImage(imageId: string): Promise<ImageDetail>;
  /** 1.7: every image, face and binding; groups stay. */
  wipe(): Promise<void>;
}

export interface GroupInfo {
  groupId: string;
  groupName: string;
  groupType: string;
  groupScore: number;
  groupFaces: number;
}

export interface NewGroup {
  groupId: string;
  groupName: string;
  groupType: string;
  groupScore: number;
}

export interface GroupChanges {
  groupId: string;
  groupName?: string;
  groupType?: string;
  groupScore?: number;
}

/** 2.3 deleteAllFace, see api.md. */
export type GroupDeleteMode = 1 | 2 | 3 | 4;

export interface BindingReport {
  totalCnt: number;
  successCnt: number;
  failCnt: number;
  failInfo: Array<{ groupId: string; errorMsg: string }>;
}

export interface GroupLibrary {
  list(): Promise<GroupInfo[]>;
  create(group: NewGroup): Promise<void>;
  update(changes: GroupChanges): Promise<void>;
  delete(groupId: string, mode: GroupDeleteMode): Promise<void>;
  members(groupId: string, page: PageRequest): Promise<FacePage>;
  bind(faceToken: string, groupIds: string[]): Promise<BindingReport>;
  unbind(faceToken: string, groupIds: string[]): Promise<BindingReport>;
}

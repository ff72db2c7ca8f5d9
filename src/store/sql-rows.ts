/**
 * Row shapes both SQL stores share (their schemas use the same column names) and their mapping to the
 * Store's records.
 */
import type { Rect } from '../vision/types.js';
import type { FaceRow, GroupRecord } from './store.js';

export interface FaceRowSql {
  id: number;
  face_token: string;
  image_id: string;
  description: string;
  name: string;
  gender: string;
}

export interface RectSql {
  rect_left: number;
  rect_top: number;
  rect_right: number;
  rect_bottom: number;
}

export interface GroupSql {
  pk: number;
  group_id: string;
  group_name: string;
  group_type: string;
  group_score: number;
}

/** The FaceRowSql columns, from `faces f JOIN images i`. */
export const FACE_ROW_COLUMNS = 'f.id, f.face_token, i.image_id, i.description, f.name, f.gender';

export const toFaceRow = (row: FaceRowSql): FaceRow => ({
  id: row.id,
  faceToken: row.face_token,
  imageId: row.image_id,
  description: row.description,
  name: row.name,
  gender: row.gender,
});

export const toRect = (row: RectSql): Rect => ({
  left: row.rect_left,
  top: row.rect_top,
  right: row.rect_right,
  bottom: row.rect_bottom,
});

export const toGroupRecord = (row: GroupSql): GroupRecord => ({
  groupId: row.group_id,
  groupName: row.group_name,
  groupType: row.group_type,
  groupScore: row.group_score,
});

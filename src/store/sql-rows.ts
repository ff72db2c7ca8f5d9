/**
 * Row shapes both SQL stores share (their schemas use the same column names) and their mapping to the
 * Store's records.
 */
import type { Rect } from '../vision/types.js';
import type { ApiKeyRecord, FaceRow, GroupRecord } from './store.js';

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

export interface ApiKeySql {
  key_id: string;
  label: string;
  /** A JSON array on SQLite (TEXT), an array on PostgreSQL (text[]). */
  scopes: string | string[];
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

function scopeList(stored: string | string[]): string[] {
  const scopes: unknown = typeof stored === 'string' ? JSON.parse(stored) : stored;
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) {
    throw new Error('an api_keys row holds scopes that are not a list of names');
  }
  return scopes;
}

export const toApiKey = (row: ApiKeySql): ApiKeyRecord => ({
  keyId: row.key_id,
  label: row.label,
  scopes: scopeList(row.scopes),
  secretHash: row.secret_hash,
  createdAt: row.created_at,
  ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
});

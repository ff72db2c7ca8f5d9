/**
 * Persistence contract for images, faces, groups and bindings. Every method is async so a
 * PostgreSQL implementation can follow the SQLite one; nothing here is driver-specific.
 *
 * Business conflicts that must hold under concurrency (duplicate imageId, group limit, unique
 * groupId / groupName, unknown ids inside a multi-step change) are decided inside the
 * implementation's transaction and thrown as VisageError. Plain look-ups return `undefined`.
 */
import type { ImageFormat, Rect } from '../vision/types.js';

/** The built-in group every new face is bound to; created by the first migration. */
export const DEFAULT_GROUP_ID = 'default';
/** Default total number of groups, `default` included (api.md 2.2). */
export const DEFAULT_GROUP_LIMIT = 64;

export interface NewImage {
  imageId: string;
  description: string;
  format: ImageFormat;
  /** The original bytes as uploaded. */
  bytes: Uint8Array;
}

export interface NewFace {
  faceToken: string;
  name: string;
  gender: string;
  rect: Rect;
  /** L2-normalised embedding, stored as float32. */
  embedding: Float32Array;
  /** The model that produced `embedding`; embeddings of different models are not comparable. */
  modelId: string;
  /** JPEG bytes of the face crop. */
  crop: Uint8Array;
}

/** One face row joined with its image's id and description (list views). */
export interface FaceRow {
  /** Numeric id, ascending in registration order, never reused. */
  id: number;
  faceToken: string;
  imageId: string;
  description: string;
  name: string;
  gender: string;
}

export interface FaceRecord extends FaceRow {
  rect: Rect;
  modelId: string;
  /** L2-normalised, as registered. */
  embedding: Float32Array;
  /** Groups the face is bound to, in binding order. */
  groupIds: string[];
  /** JPEG bytes of the face crop. */
  crop: Uint8Array;
}

/** A face as a library export holds it: everything registration stored, its id and its bindings. */
export interface RestoredFace extends NewFace {
  /** The face's id in the library it was exported from (kept, so 1.2 lists the same ids). */
  id: number;
  /** Groups to bind, in binding order; all must exist. */
  groupIds: string[];
}

export interface ImageRecord {
  imageId: string;
  description: string;
  format: ImageFormat;
  bytes: Uint8Array;
  /** Tokens of the faces still registered from this image, in registration order. */
  faceTokens: string[];
}

export interface GroupRecord {
  groupId: string;
  groupName: string;
  groupType: string;
  groupScore: number;
}

export interface GroupWithCount extends GroupRecord {
  /** Number of faces bound to the group. */
  faceCount: number;
}

export interface GroupUpdate {
  groupId: string;
  groupName?: string;
  groupType?: string;
  groupScore?: number;
}

export interface Page {
  offset: number;
  size: number;
}

export interface RowPage {
  total: number;
  rows: FaceRow[];
}

/** 2.3 deleteAllFace, see api.md. */
export type GroupDeletionMode = 1 | 2 | 3 | 4;

/** What a deletion removed, so the caller can update derived state (the vector index). */
export interface RemovedFaces {
  removedFaceTokens: string[];
}

export interface BindingChange {
  /** Requested group ids that do not exist (each once). */
  unknownGroupIds: string[];
  /** Every group the face is bound to after the change, in binding order. */
  groupIds: string[];
}

/** A face whose kept original is to be embedded again by another model. */
export interface ReembedTarget {
  faceToken: string;
  imageId: string;
}

/** How far the faces are embedded by one model (current or staged embeddings). */
export interface ModelCoverage {
  faces: number;
  covered: number;
}

/** One face as `exportImages` gives it and `importImage` takes it: everything, its id included. */
export interface ExportedFace extends NewFace {
  id: number;
  /** In binding order. */
  groupIds: string[];
}

/** An image with all its faces (none when they were deleted: the image row outlives them, 1.3). */
export interface ExportedImage {
  image: NewImage;
  faces: ExportedFace[];
}

/** What the index needs of one stored face. */
export interface StoredVector {
  faceToken: string;
  modelId: string;
  embedding: Float32Array;
  groupIds: string[];
}

/** Faces in the compact form the index scans (src/index/compact-codec.ts), as start-up loads them. */
export interface CompactVectorBatch {
  faceTokens: string[];
  /** Each face's compact record (sign code, int8 copy, scale), back to back: equal sizes, in faceTokens' order. */
  records: Uint8Array;
  groupIds: string[][];
}

/** One destructive operation, as the audit log keeps it. */
export interface NewAuditEntry {
  /** When, as an ISO 8601 UTC timestamp. */
  at: string;
  /** Who: the API key id, or "anonymous" when access control is off. */
  actor: string;
  /** What: the operation, e.g. "face.delete", "group.delete:4", "key.revoke". */
  action: string;
  /** The object acted on (faceToken, imageId, groupId, key id); "" for the whole library. */
  target: string;
}

export interface AuditEntry extends NewAuditEntry {
  /** Ascending in append order. */
  id: number;
}

export interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

/** An API key as stored: never the secret itself, only its hash. */
export interface ApiKeyRecord {
  /** Public part of the key, unique; also the key's name in the audit log. */
  keyId: string;
  /** Free text for the operator ("door-3 tablet"). */
  label: string;
  /** Scope names; the store does not interpret them. */
  scopes: string[];
  /** Hex digest of the secret part (see src/access/api-keys.ts). */
  secretHash: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC; absent while the key is valid. */
  revokedAt?: string;
}

/**
 * Runs `section` while no write is in flight (a server: in its write queue, where what must follow the
 * section in commit order goes too, e.g. the index dropping the faces it deleted); resolves to its result.
 */
export type ExclusiveSection = <Repair extends { removedFaceTokens: string[] }>(section: () => Promise<Repair>) => Promise<Repair>;

/** How the stored files match the rows (`visage doctor`); a store without files reports zeros. */
export interface FileCheck {
  /** Files no row references: what a crash can leave; the next start-up sweep removes them. */
  unreferencedFiles: number;
  /** Rows whose file is gone: data loss. */
  missingFiles: number;
}

/** One registration of a batch (Store.registerFaces). */
export interface NewRegistration {
  image: NewImage;
  face: NewFace;
}

export interface Store {
  /**
   * Registration, atomically: image + face + binding to `default`. Throws FACE_ALREADY_EXIST when
   * the imageId exists, even if all its faces were deleted (the image row outlives them, 1.3).
   * The same as registerFaces with one entry.
   */
  registerFace(image: NewImage, face: NewFace): Promise<{ id: number }>;
  /**
   * Several registrations, each atomic and independent of the others, as registerFace: one refused
   * (FACE_ALREADY_EXIST, also for an imageId an earlier entry of the batch takes) or failed leaves nothing
   * and does not fail the rest. The outcomes are in the entries' order; a fulfilled one is durable. A store
   * may commit the batch together (SQLite: one transaction, one fsync), so entries are committed in order.
   */
  registerFaces(entries: readonly NewRegistration[]): Promise<Array<PromiseSettledResult<{ id: number }>>>;
  listFaces(page: Page): Promise<RowPage>;
  getFace(faceToken: string): Promise<FaceRecord | undefined>;
  /** Deletes the face, its crop and bindings; the image stays. False when the token is unknown. */
  deleteFace(faceToken: string): Promise<boolean>;
  getImage(imageId: string): Promise<ImageRecord | undefined>;
  /** Deletes the image's faces, then the image and its original. Undefined when the imageId is unknown. */
  deleteImage(imageId: string): Promise<RemovedFaces | undefined>;
  /** Removes every image, face and binding; groups stay. */
  wipe(): Promise<void>;

  listGroups(): Promise<GroupWithCount[]>;
  getGroup(groupId: string): Promise<GroupRecord | undefined>;
  /** Throws GROUP_ID_CONFLICT, GROUP_NAME_CONFLICT (non-empty names only) or GROUP_OVER_LIMIT. */
  createGroup(group: GroupRecord): Promise<void>;
  /** Partial update. Throws GROUP_ID_NOT_EXIST or GROUP_NAME_CONFLICT. */
  updateGroup(update: GroupUpdate): Promise<void>;
  /** Executes a deletion mode (api.md 2.3). Throws GROUP_ID_NOT_EXIST. Policy on `default` is the caller's. */
  deleteGroup(groupId: string, mode: GroupDeletionMode): Promise<RemovedFaces>;
  /** Registration order. Throws GROUP_ID_NOT_EXIST. */
  listGroupMembers(groupId: string, page: Page): Promise<RowPage>;
  /** Idempotent. Throws FACE_TOKEN_NOT_EXIST; unknown groups are reported, the others bound. */
  bind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange>;
  /** Idempotent. Throws FACE_TOKEN_NOT_EXIST; unknown groups are reported, the others unbound. */
  unbind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange>;

  /** Appends to the audit log (durably, before it returns). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** The audit log in append order. */
  listAudit(page: Page): Promise<AuditPage>;

  /** Stores a new key; throws (plain Error) when its keyId exists. */
  createApiKey(key: ApiKeyRecord): Promise<void>;
  /** The key, revoked or not; undefined when unknown. */
  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, revoked ones included, in creation order. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked at `at`. False when unknown or already revoked. */
  revokeApiKey(keyId: string, at: string): Promise<boolean>;


  /**
   * Every face's vector and groups, in id order, in batches (to load the index). Without `modelId`, each
   * face's current embedding; with it, each face's embedding by that model, current or staged, and faces
   * without one are left out.
   */
  streamVectors(modelId?: string): AsyncIterable<StoredVector>;
  /**
   * The same faces as streamVectors(modelId), in batches, each as its compact record instead of its float32
   * embedding: what start-up loads the index from. A store that persists the records beside the embeddings
   * reads a fraction of the bytes; any order.
   */
  streamCompactVectors(modelId: string): AsyncIterable<CompactVectorBatch>;

  // Model upgrade: faces are embedded again by a new model beside their current embedding ("staged"),
  // while search keeps using the current ones; one promotion then switches every face at once.

  /** Up to `limit` faces, in id order, with neither a current nor a staged embedding by `modelId`. */
  facesToReembed(modelId: string, limit: number): Promise<ReembedTarget[]>;
  /** Keeps `embedding` by `modelId` beside the face's current one (replacing an earlier one). False when the face is gone. */
  stageEmbedding(faceToken: string, modelId: string, embedding: Float32Array): Promise<boolean>;
  /** How many faces have an embedding by `modelId`, current or staged, out of all faces. */
  modelCoverage(modelId: string): Promise<ModelCoverage>;
  /**
   * Atomically makes every face's staged embedding by `modelId` its current one and drops all staged
   * embeddings — only when every face has one by `modelId`. False, and nothing changed, otherwise.
   */
  promoteEmbeddings(modelId: string): Promise<boolean>;
  /** Every imageId, faceless images included, in registration order, in batches (library export). */
  streamImageIds(): AsyncIterable<string>;
  /**
   * Library restore: one image with its faces (ids, tokens and bindings as given, no `default` binding
   * added), atomically. Throws FACE_ALREADY_EXIST when the imageId exists, GROUP_ID_NOT_EXIST when a bound
   * group does not; a face id or token already in use is an error. The caller restores into an empty library.
   */
  restoreImage(image: NewImage, faces: readonly RestoredFace[]): Promise<void>;
  /** Read-only consistency check of the stored files against the rows. */
  checkFiles(): Promise<FileCheck>;
  /** Every image with its faces, in image order, in batches (to move a library to another store). */
  exportImages(): AsyncIterable<ExportedImage>;
  /**
   * Inserts an exported image with its faces, keeping their ids, and their bindings, in one transaction.
   * False, and nothing written, when the imageId exists already (so an interrupted copy can be re-run).
   * The groups must exist. Later registrations get ids above every imported one.
   */
  importImage(exported: ExportedImage): Promise<boolean>;
  /**
   * Present on stores that several replicas share (PostgreSQL): what any replica committed, so each
   * replica's in-memory index can follow. Absent on single-process stores (SQLite).
   */
  readonly changeFeed?: ChangeFeed;
  /**
   * The stored float32 embeddings of these faces (unknown tokens are absent from the map): the exact
   * vectors a compact in-memory index re-scores its few best candidates with. `modelId` as in
   * streamVectors: each face's embedding by that model, current or staged.
   */
  getEmbeddings(faceTokens: readonly string[], modelId?: string): Promise<Map<string, Float32Array>>;
  /**
   * Stores that keep files beside their rows (SQLite): repairs them against each other (faces whose crop or
   * original is gone are deleted, files no row references removed). Returns the faces it deleted. The slow
   * part (listing the files, reading the names) runs beside writes; its findings are re-verified and repaired
   * in `exclusive`, which must run its section while no write is in flight (a registration's files written
   * before its commit would look like orphans). Without it, the check runs as if nothing else wrote.
   */
  checkConsistency?(exclusive?: ExclusiveSection): Promise<{ removedFaceTokens: string[] }>;
  close(): Promise<void>;
}

/**
 * A change that matters to the search index. Face changes name the face only: the follower reads its
 * current state, so applying a change twice or late is harmless.
 */
export type StoreChange =
  | { kind: 'face'; faceToken: string }
  /** The group lost every member (deleted, or emptied by deletion mode 3). */
  | { kind: 'group-emptied'; groupId: string }
  /** 1.7: every face is gone. */
  | { kind: 'wipe' };

export interface SequencedChange {
  /** Ascending in commit order across all replicas. */
  sequence: number;
  change: StoreChange;
}

export interface ChangeBatch {
  /** Up to the limit asked for, in commit order. */
  changes: SequencedChange[];
  /**
   * Changes after the sequence asked for may have been pruned before they were read: the reader cannot
   * catch up change by change and must reload its index from the store (reading `head()` first).
   */
  missed: boolean;
}

export interface ChangeFeed {
  /** Sequence of the latest committed change (0 when none): read it before loading the index, then follow. */
  head(): Promise<number>;
  /** Up to `limit` changes after `after`, in commit order. */
  read(after: number, limit: number): Promise<ChangeBatch>;
  /**
   * Deletes the changes older than `retainMs` (by the database's clock), always keeping the latest one so
   * `head()` never goes back. Runs in one replica at a time: undefined when another one is pruning now;
   * otherwise the number of changes deleted.
   */
  prune(retainMs: number): Promise<number | undefined>;
  /** The stored vectors of these faces as they are now; deleted faces are absent. */
  vectorsOf(faceTokens: readonly string[]): Promise<StoredVector[]>;
  /**
   * Calls `wake` whenever changes may be waiting: on each commit notification and after every
   * (re)connection of the listener, since notifications sent while disconnected are lost.
   */
  listen(wake: () => void): Promise<{ close(): Promise<void> }>;
}

/** registerFace by registerFaces: the one entry's id, or its refusal thrown. */
export async function registerOne(store: Pick<Store, 'registerFaces'>, image: NewImage, face: NewFace): Promise<{ id: number }> {
  const [outcome] = await store.registerFaces([{ image, face }]);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

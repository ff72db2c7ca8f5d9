/**
 * Store on PostgreSQL, for several replicas sharing one database: originals, crops, embeddings and
 * metadata all in it (bytea), so replicas share nothing else.
 *
 * Concurrency (READ COMMITTED plus explicit locks, always taken in this order, so lock waits cannot
 * form a cycle): the `groups` advisory lock (group creation, renaming, deletion: the limit and the name
 * check see every committed group) → group rows (FOR UPDATE when deleting, FOR KEY SHARE when binding)
 * → face rows (FOR UPDATE) → the change-log lock, last, held until commit. Unique constraints back the
 * checks. A deadlock PostgreSQL still detects (two deletions over the same faces) is retried.
 */
import type pg from 'pg';
import { VisageError } from '../../errors.js';
import type { ImageFormat } from '../../vision/types.js';
import { bytesToEmbedding, embeddingToBytes } from '../embedding-bytes.js';
import type {
  ApiKeyRecord,
  AuditEntry,
  AuditPage,
  BindingChange,
  CompactVectorBatch,
  ExportedFace,
  ExportedImage,
  FaceRecord,
  FileCheck,
  GroupDeletionMode,
  GroupRecord,
  GroupUpdate,
  GroupWithCount,
  ImageRecord,
  ModelCoverage,
  NewAuditEntry,
  NewFace,
  NewRegistration,
  NewImage,
  Page,
  ReembedTarget,
  RemovedFaces,
  RestoredFace,
  RowPage,
  Store,
  StoreChange,
  StoredVector,
} from '../store.js';
import { FACE_ROW_COLUMNS, toFaceRow, toGroupRecord, toRect, type FaceRowSql, type GroupSql, type RectSql } from '../sql-rows.js';
import { DEFAULT_GROUP_ID, DEFAULT_GROUP_LIMIT, registerOne } from '../store.js';
import { PostgresAccessRecords } from './access-records.js';
import { appendChanges, changeChannel, PostgresChangeFeed } from './change-log.js';
import { createPool, inTransaction, queryPage, sqlState, violatedConstraint, type PostgresConnection } from './database.js';
import { ADVISORY_LOCK } from './locks.js';
import { applyPostgresMigrations } from './migrations.js';
import { fillPendingCompactVectors, streamCompactRecords, writeCompactVectors } from './compact-vectors.js';
import { GROUP_IDS_OF_FACE, selectVectors, selectVectorsByModel, toStoredVector, type VectorSql } from './vectors.js';

export interface PostgresStoreOptions extends PostgresConnection {
  /** Total number of groups, `default` included. */
  groupLimit?: number;
  /** Faces per batch when streaming vectors. */
  streamBatchSize?: number;
}


interface FaceDetailSql extends FaceRowSql, RectSql {
  model_id: string;
  embedding: Buffer;
  crop: Buffer;
  group_ids: string[];
}

interface ExportedFaceSql extends Omit<FaceDetailSql, 'image_id' | 'description'> {
  image_pk: number;
}


const faceChanges = (faceTokens: readonly string[]): StoreChange[] =>
  faceTokens.map((faceToken) => ({ kind: 'face', faceToken }));

/** Business conflicts a unique constraint caught (the explicit checks normally get there first). */
function conflictFrom(error: unknown): VisageError | undefined {
  if (sqlState(error) !== '23505') return undefined;
  switch (violatedConstraint(error)) {
    case 'images_image_id_key':
      return new VisageError('FACE_ALREADY_EXIST');
    case 'face_groups_group_id_key':
      return new VisageError('GROUP_ID_CONFLICT');
    case 'face_groups_by_name':
      return new VisageError('GROUP_NAME_CONFLICT');
    default:
      return undefined;
  }
}

/** Connects, migrates and returns the store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = createPool(options);
  try {
    const client = await pool.connect();
    try {
      await applyPostgresMigrations(client, options.schema);
    } finally {
      client.release();
    }
    await fillPendingCompactVectors(pool);
    return new PostgresStore(pool, options);
  } catch (error) {
    await pool.end();
    throw error;
  }
}

class PostgresStore implements Store {
  readonly changeFeed: PostgresChangeFeed;
  private readonly access: PostgresAccessRecords;
  private readonly groupLimit: number;
  private readonly streamBatchSize: number;
  private readonly channel: string;

  constructor(
    private readonly pool: pg.Pool,
    options: PostgresStoreOptions,
  ) {
    this.groupLimit = options.groupLimit ?? DEFAULT_GROUP_LIMIT;
    this.streamBatchSize = options.streamBatchSize ?? 5000;
    this.channel = changeChannel(options.schema);
    this.changeFeed = new PostgresChangeFeed(pool, options);
    this.access = new PostgresAccessRecords(pool);
  }

  /** A write transaction; unique-constraint conflicts become the business error they mean. */
  private async write<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await inTransaction(this.pool, work);
    } catch (error) {
      throw conflictFrom(error) ?? error;
    }
  }

  private record(client: pg.PoolClient, changes: readonly StoreChange[]): Promise<void> {
    return appendChanges(client, this.channel, changes);
  }

  private static async groupIdsOf(client: pg.PoolClient, faceId: number): Promise<string[]> {
    const { rows } = await client.query<{ group_id: string }>(
      `SELECT g.group_id FROM bindings b JOIN face_groups g ON g.pk = b.group_pk WHERE b.face_id = $1 ORDER BY b.seq`,
      [faceId],
    );
    return rows.map((row) => row.group_id);
  }

  private static async requireGroup(client: pg.ClientBase, groupId: string, lock = ''): Promise<GroupSql> {
    const { rows } = await client.query<GroupSql>(`SELECT * FROM face_groups WHERE group_id = $1 ${lock}`, [groupId]);
    if (!rows[0]) throw new VisageError('GROUP_ID_NOT_EXIST');
    return rows[0];
  }

  /** The new image's pk; undefined when the imageId exists (a concurrent insert of it waits, then gets undefined). */
  private static async insertImage(client: pg.PoolClient, image: NewImage): Promise<number | undefined> {
    const { rows } = await client.query<{ pk: number }>(
      `INSERT INTO images (image_id, description, format, bytes) VALUES ($1, $2, $3, $4)
       ON CONFLICT (image_id) DO NOTHING RETURNING pk`,
      [image.imageId, image.description, image.format, Buffer.from(image.bytes)],
    );
    return rows[0]?.pk;
  }

  /** Inserts a face (with `id` when given, else the next from the sequence) and its compact record; its id. */
  private static async insertFace(client: pg.PoolClient, imagePk: number, face: NewFace, id: number | null = null): Promise<number> {
    const { rect } = face;
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO faces (id, face_token, image_pk, name, gender, rect_left, rect_top, rect_right, rect_bottom,
                          model_id, embedding, crop)
       VALUES (coalesce($1, nextval('faces_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
        id, face.faceToken, imagePk, face.name, face.gender, rect.left, rect.top, rect.right, rect.bottom,
        face.modelId, embeddingToBytes(face.embedding), Buffer.from(face.crop),
      ],
    );
    const faceId = rows[0]!.id;
    await writeCompactVectors(client, [{ faceId, ...face }]);
    return faceId;
  }

  // ---- images and faces ----

  registerFace(image: NewImage, face: NewFace): Promise<{ id: number }> {
    return registerOne(this, image, face);
  }

  /** One transaction an entry, in order: each stays independent without savepoints, and the server does its own group commit. */
  async registerFaces(entries: readonly NewRegistration[]): Promise<Array<PromiseSettledResult<{ id: number }>>> {
    const outcomes: Array<PromiseSettledResult<{ id: number }>> = [];
    for (const { image, face } of entries) {
      try {
        outcomes.push({ status: 'fulfilled', value: await this.insertRegistration(image, face) });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
      }
    }
    return outcomes;
  }

  private insertRegistration(image: NewImage, face: NewFace): Promise<{ id: number }> {
    return this.write(async (client) => {
      const imagePk = await PostgresStore.insertImage(client, image);
      if (imagePk === undefined) throw new VisageError('FACE_ALREADY_EXIST');
      const id = await PostgresStore.insertFace(client, imagePk, face);
      const bound = await client.query(
        'INSERT INTO bindings (face_id, group_pk) SELECT $1, pk FROM face_groups WHERE group_id = $2',
        [id, DEFAULT_GROUP_ID],
      );
      if (bound.rowCount !== 1) throw new Error('the default group is missing');
      await this.record(client, faceChanges([face.faceToken]));
      return { id };
    });
  }

  async listFaces(page: Page): Promise<RowPage> {
    return inTransaction(
      this.pool,
      async (client) => {
        const { total, rows } = await queryPage<FaceRowSql>(
          client,
          'SELECT count(*) AS total FROM faces',
          `SELECT ${FACE_ROW_COLUMNS} FROM faces f JOIN images i ON i.pk = f.image_pk ORDER BY f.id`,
          [],
          page,
        );
        return { total, rows: rows.map(toFaceRow) };
      },
      'read only',
    );
  }

  async getFace(faceToken: string): Promise<FaceRecord | undefined> {
    const { rows } = await this.pool.query<FaceDetailSql>(
      `SELECT ${FACE_ROW_COLUMNS}, f.rect_left, f.rect_top, f.rect_right, f.rect_bottom, f.model_id, f.embedding, f.crop,
              ${GROUP_IDS_OF_FACE} AS group_ids
       FROM faces f JOIN images i ON i.pk = f.image_pk WHERE f.face_token = $1`,
      [faceToken],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...toFaceRow(row),
      rect: toRect(row),
      modelId: row.model_id,
      embedding: bytesToEmbedding(row.embedding),
      groupIds: row.group_ids,
      crop: new Uint8Array(row.crop),
    };
  }

  async deleteFace(faceToken: string): Promise<boolean> {
    return this.write(async (client) => {
      const { rowCount } = await client.query('DELETE FROM faces WHERE face_token = $1', [faceToken]); // bindings cascade
      if (rowCount === 0) return false;
      await this.record(client, faceChanges([faceToken]));
      return true;
    });
  }

  async getImage(imageId: string): Promise<ImageRecord | undefined> {
    const { rows } = await this.pool.query<{ description: string; format: ImageFormat; bytes: Buffer; face_tokens: string[] }>(
      `SELECT i.description, i.format, i.bytes,
              ARRAY(SELECT f.face_token FROM faces f WHERE f.image_pk = i.pk ORDER BY f.id) AS face_tokens
       FROM images i WHERE i.image_id = $1`,
      [imageId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      imageId,
      description: row.description,
      format: row.format,
      bytes: new Uint8Array(row.bytes),
      faceTokens: row.face_tokens,
    };
  }

  async deleteImage(imageId: string): Promise<RemovedFaces | undefined> {
    return this.write(async (client) => {
      const image = await client.query<{ pk: number }>('SELECT pk FROM images WHERE image_id = $1 FOR UPDATE', [imageId]);
      const imagePk = image.rows[0]?.pk;
      if (imagePk === undefined) return undefined;
      const faces = await client.query<{ id: number; face_token: string }>(
        'DELETE FROM faces WHERE image_pk = $1 RETURNING id, face_token',
        [imagePk],
      );
      await client.query('DELETE FROM images WHERE pk = $1', [imagePk]);
      const removedFaceTokens = faces.rows.sort((a, b) => a.id - b.id).map((row) => row.face_token);
      await this.record(client, faceChanges(removedFaceTokens));
      return { removedFaceTokens };
    });
  }

  async wipe(): Promise<void> {
    await this.write(async (client) => {
      // Blocks registrations until we commit, so no face can appear between the two deletes.
      await client.query('LOCK TABLE images IN SHARE ROW EXCLUSIVE MODE');
      await client.query('DELETE FROM faces'); // bindings cascade
      await client.query('DELETE FROM images');
      await this.record(client, [{ kind: 'wipe' }]);
    });
  }

  // ---- groups ----

  async listGroups(): Promise<GroupWithCount[]> {
    const { rows } = await this.pool.query<GroupSql & { face_count: number }>(
      `SELECT g.*, (SELECT count(*) FROM bindings b WHERE b.group_pk = g.pk) AS face_count
       FROM face_groups g ORDER BY g.pk`,
    );
    return rows.map((row) => ({ ...toGroupRecord(row), faceCount: row.face_count }));
  }

  async getGroup(groupId: string): Promise<GroupRecord | undefined> {
    const { rows } = await this.pool.query<GroupSql>('SELECT * FROM face_groups WHERE group_id = $1', [groupId]);
    return rows[0] ? toGroupRecord(rows[0]) : undefined;
  }

  async createGroup(group: GroupRecord): Promise<void> {
    await this.write(async (client) => {
      // Every replica takes this lock first, so the count below sees all groups committed before ours.
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.groups]);
      const holders = await client.query<{ group_id: string }>(
        `SELECT group_id FROM face_groups WHERE group_id = $1 OR (group_name = $2 AND $2 <> '')`,
        [group.groupId, group.groupName],
      );
      if (holders.rows.some((row) => row.group_id === group.groupId)) throw new VisageError('GROUP_ID_CONFLICT');
      if (holders.rows.length > 0) throw new VisageError('GROUP_NAME_CONFLICT');
      // The limit counts every group, `default` included.
      const count = await client.query<{ total: number }>('SELECT count(*) AS total FROM face_groups');
      if (count.rows[0]!.total >= this.groupLimit) {
        throw new VisageError('GROUP_OVER_LIMIT', undefined, { limit: this.groupLimit });
      }
      await client.query(
        'INSERT INTO face_groups (group_id, group_name, group_type, group_score) VALUES ($1, $2, $3, $4)',
        [group.groupId, group.groupName, group.groupType, group.groupScore],
      );
    });
  }

  async updateGroup(update: GroupUpdate): Promise<void> {
    await this.write(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.groups]);
      const group = await PostgresStore.requireGroup(client, update.groupId);
      if (update.groupName !== undefined && update.groupName !== '') {
        const holder = await client.query('SELECT 1 FROM face_groups WHERE group_name = $1 AND pk <> $2', [
          update.groupName,
          group.pk,
        ]);
        if (holder.rowCount !== 0) throw new VisageError('GROUP_NAME_CONFLICT');
      }
      await client.query(
        `UPDATE face_groups SET group_name = coalesce($1, group_name), group_type = coalesce($2, group_type),
                                group_score = coalesce($3, group_score) WHERE pk = $4`,
        [update.groupName ?? null, update.groupType ?? null, update.groupScore ?? null, group.pk],
      );
    });
  }

  async deleteGroup(groupId: string, mode: GroupDeletionMode): Promise<RemovedFaces> {
    return this.write(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.groups]);
      // FOR UPDATE: binds to this group (FOR KEY SHARE) wait until we commit.
      const group = await PostgresStore.requireGroup(client, groupId, 'FOR UPDATE');
      // Lock the members, so no concurrent bind/unbind changes which of them belong elsewhere too.
      await client.query(
        `SELECT f.id FROM faces f JOIN bindings b ON b.face_id = f.id WHERE b.group_pk = $1 ORDER BY f.id FOR UPDATE OF f`,
        [group.pk],
      );
      // Mode 1 removes no face; 2 every member; 3 and 4 the members bound to no other group.
      const doomed =
        mode === 1
          ? []
          : (
              await client.query<{ id: number; face_token: string; image_pk: number }>(
                `SELECT f.id, f.face_token, f.image_pk FROM bindings b JOIN faces f ON f.id = b.face_id
                 WHERE b.group_pk = $1
                   AND ($2 OR NOT EXISTS (SELECT 1 FROM bindings o WHERE o.face_id = b.face_id AND o.group_pk <> b.group_pk))
                 ORDER BY f.id`,
                [group.pk, mode === 2],
              )
            ).rows;
      await client.query('DELETE FROM faces WHERE id = ANY($1::bigint[])', [doomed.map((face) => face.id)]);
      if (mode === 4) {
        // The original goes only when its image has no face left.
        await client.query(
          `DELETE FROM images i WHERE i.pk = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.image_pk = i.pk)`,
          [[...new Set(doomed.map((face) => face.image_pk))]],
        );
      }
      if (mode === 3) await client.query('DELETE FROM bindings WHERE group_pk = $1', [group.pk]);
      else await client.query('DELETE FROM face_groups WHERE pk = $1', [group.pk]); // remaining bindings cascade
      const removedFaceTokens = doomed.map((face) => face.face_token);
      await this.record(client, [...faceChanges(removedFaceTokens), { kind: 'group-emptied', groupId }]);
      return { removedFaceTokens };
    });
  }

  async listGroupMembers(groupId: string, page: Page): Promise<RowPage> {
    return inTransaction(
      this.pool,
      async (client) => {
        const group = await PostgresStore.requireGroup(client, groupId);
        const { total, rows } = await queryPage<FaceRowSql>(
          client,
          'SELECT count(*) AS total FROM bindings WHERE group_pk = $1',
          `SELECT ${FACE_ROW_COLUMNS} FROM bindings b JOIN faces f ON f.id = b.face_id JOIN images i ON i.pk = f.image_pk
           WHERE b.group_pk = $1 ORDER BY f.id`,
          [group.pk],
          page,
        );
        return { total, rows: rows.map(toFaceRow) };
      },
      'read only',
    );
  }

  async bind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange> {
    return this.changeBindings(faceToken, groupIds, (client, faceId, groupPks) =>
      client.query(
        // In the order asked for: `seq` records the binding order.
        `INSERT INTO bindings (face_id, group_pk)
         SELECT $1, u.pk FROM unnest($2::bigint[]) WITH ORDINALITY AS u(pk, n) ORDER BY u.n
         ON CONFLICT DO NOTHING`,
        [faceId, groupPks],
      ),
    );
  }

  async unbind(faceToken: string, groupIds: readonly string[]): Promise<BindingChange> {
    return this.changeBindings(faceToken, groupIds, (client, faceId, groupPks) =>
      client.query('DELETE FROM bindings WHERE face_id = $1 AND group_pk = ANY($2::bigint[])', [faceId, groupPks]),
    );
  }

  /** ON CONFLICT DO NOTHING / DELETE make binding twice and unbinding a non-member no-ops (idempotent). */
  private changeBindings(
    faceToken: string,
    groupIds: readonly string[],
    change: (client: pg.PoolClient, faceId: number, groupPks: number[]) => Promise<pg.QueryResult>,
  ): Promise<BindingChange> {
    return this.write(async (client) => {
      const requested = [...new Set(groupIds)];
      // Groups before the face (the lock order): a group being deleted makes us wait, not deadlock.
      const groups = await client.query<{ pk: number; group_id: string }>(
        'SELECT pk, group_id FROM face_groups WHERE group_id = ANY($1) FOR KEY SHARE',
        [requested],
      );
      const face = await client.query<{ id: number }>('SELECT id FROM faces WHERE face_token = $1 FOR UPDATE', [faceToken]);
      const faceId = face.rows[0]?.id;
      if (faceId === undefined) throw new VisageError('FACE_TOKEN_NOT_EXIST');
      const pkOf = new Map(groups.rows.map((row) => [row.group_id, row.pk]));
      const known = requested.filter((groupId) => pkOf.has(groupId));
      const { rowCount } = await change(client, faceId, known.map((groupId) => pkOf.get(groupId)!));
      if (rowCount !== 0) await this.record(client, faceChanges([faceToken]));
      return {
        unknownGroupIds: requested.filter((groupId) => !pkOf.has(groupId)),
        groupIds: await PostgresStore.groupIdsOf(client, faceId),
      };
    });
  }

  // ---- audit log and API keys ----

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.access.appendAudit(entry);
  }

  listAudit(page: Page): Promise<AuditPage> {
    return this.access.listAudit(page);
  }

  createApiKey(key: ApiKeyRecord): Promise<void> {
    return this.access.createApiKey(key);
  }

  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    return this.access.getApiKey(keyId);
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.access.listApiKeys();
  }

  revokeApiKey(keyId: string, at: string): Promise<boolean> {
    return this.access.revokeApiKey(keyId, at);
  }

  // ---- moving a library ----

  async *exportImages(): AsyncIterable<ExportedImage> {
    let afterPk = 0;
    const batchSize = 100; // originals can be megabytes each
    for (;;) {
      const images = await this.pool.query<{ pk: number; image_id: string; description: string; format: ImageFormat; bytes: Buffer }>(
        'SELECT pk, image_id, description, format, bytes FROM images WHERE pk > $1 ORDER BY pk LIMIT $2',
        [afterPk, batchSize],
      );
      if (images.rows.length === 0) return;
      const faces = await this.pool.query<ExportedFaceSql>(
        `SELECT f.id, f.image_pk, f.face_token, f.name, f.gender, f.rect_left, f.rect_top, f.rect_right, f.rect_bottom,
                f.model_id, f.embedding, f.crop, ${GROUP_IDS_OF_FACE} AS group_ids
         FROM faces f WHERE f.image_pk = ANY($1::bigint[]) ORDER BY f.id`,
        [images.rows.map((row) => row.pk)],
      );
      for (const image of images.rows) {
        yield {
          image: { imageId: image.image_id, description: image.description, format: image.format, bytes: new Uint8Array(image.bytes) },
          faces: faces.rows
            .filter((face) => face.image_pk === image.pk)
            .map((face): ExportedFace => ({
              id: face.id,
              faceToken: face.face_token,
              name: face.name,
              gender: face.gender,
              rect: toRect(face),
              embedding: bytesToEmbedding(face.embedding),
              modelId: face.model_id,
              crop: new Uint8Array(face.crop),
              groupIds: face.group_ids,
            })),
        };
      }
      afterPk = images.rows.at(-1)!.pk;
    }
  }

  async importImage({ image, faces }: ExportedImage): Promise<boolean> {
    return this.write(async (client) => {
      const imagePk = await PostgresStore.insertImage(client, image);
      if (imagePk === undefined) return false;
      await this.insertFacesWithIds(client, imagePk, faces, (groupId) => new Error(`group ${groupId} of an imported face does not exist`));
      return true;
    });
  }

  async restoreImage(image: NewImage, faces: readonly RestoredFace[]): Promise<void> {
    await this.write(async (client) => {
      const imagePk = await PostgresStore.insertImage(client, image);
      if (imagePk === undefined) throw new VisageError('FACE_ALREADY_EXIST');
      await this.insertFacesWithIds(client, imagePk, faces, () => new VisageError('GROUP_ID_NOT_EXIST'));
    });
  }

  /** Faces with the ids and bindings of the library they come from; every group must exist. */
  private async insertFacesWithIds(
    client: pg.PoolClient,
    imagePk: number,
    faces: readonly RestoredFace[],
    missingGroup: (groupId: string) => Error,
  ): Promise<void> {
    const wanted = [...new Set(faces.flatMap((face) => face.groupIds))];
    const existing = await client.query<{ group_id: string }>('SELECT group_id FROM face_groups WHERE group_id = ANY($1)', [wanted]);
    const missing = wanted.find((groupId) => !existing.rows.some((row) => row.group_id === groupId));
    if (missing !== undefined) throw missingGroup(missing);
    for (const face of faces) {
      await PostgresStore.insertFace(client, imagePk, face, face.id);
      await client.query(
        `INSERT INTO bindings (face_id, group_pk)
         SELECT $1, g.pk FROM unnest($2::text[]) WITH ORDINALITY AS u(group_id, n) JOIN face_groups g USING (group_id)
         ORDER BY u.n`,
        [face.id, face.groupIds],
      );
    }
    // Explicit ids bypass the sequence: move it past them, so later registrations follow.
    await client.query(
      `SELECT setval('faces_id_seq', m) FROM (SELECT max(id) AS m FROM faces) AS top
       WHERE m > (SELECT last_value FROM faces_id_seq)`,
    );
    await this.record(client, faceChanges(faces.map((face) => face.faceToken)));
  }

  async *streamImageIds(): AsyncIterable<string> {
    let afterPk = 0;
    for (;;) {
      const { rows } = await this.pool.query<{ pk: number; image_id: string }>(
        'SELECT pk, image_id FROM images WHERE pk > $1 ORDER BY pk LIMIT $2',
        [afterPk, this.streamBatchSize],
      );
      for (const row of rows) yield row.image_id;
      const last = rows.at(-1);
      if (!last || rows.length < this.streamBatchSize) return;
      afterPk = last.pk;
    }
  }

  /** Originals and crops live in the rows themselves: no file can be missing or left over. */
  async checkFiles(): Promise<FileCheck> {
    return { unreferencedFiles: 0, missingFiles: 0 };
  }

  // ---- index loading ----

  async *streamVectors(modelId?: string): AsyncIterable<StoredVector> {
    let afterId = 0;
    for (;;) {
      const { rows } =
        modelId === undefined
          ? await this.pool.query<VectorSql>(`${selectVectors} WHERE f.id > $1 ORDER BY f.id LIMIT $2`, [afterId, this.streamBatchSize])
          : await this.pool.query<VectorSql>(`${selectVectorsByModel} AND f.id > $2 ORDER BY f.id LIMIT $3`, [
              modelId,
              afterId,
              this.streamBatchSize,
            ]);
      for (const row of rows) yield toStoredVector(row);
      const last = rows.at(-1);
      if (!last || rows.length < this.streamBatchSize) return;
      afterId = last.id;
    }
  }

  async getEmbeddings(faceTokens: readonly string[], modelId?: string): Promise<Map<string, Float32Array>> {
    if (faceTokens.length === 0) return new Map();
    const { rows } =
      modelId === undefined
        ? await this.pool.query<{ face_token: string; embedding: Buffer }>(
            'SELECT face_token, embedding FROM faces WHERE face_token = ANY($1)',
            [faceTokens],
          )
        : await this.pool.query<{ face_token: string; embedding: Buffer }>(
            `SELECT f.face_token, coalesce(s.embedding, f.embedding) AS embedding
             FROM faces f LEFT JOIN staged_embeddings s ON s.face_id = f.id AND s.model_id = $1
             WHERE f.face_token = ANY($2) AND (f.model_id = $1 OR s.face_id IS NOT NULL)`,
            [modelId, faceTokens],
          );
    return new Map(rows.map((row) => [row.face_token, bytesToEmbedding(row.embedding)]));
  }

  /** From the compact records persisted beside the embeddings (compact-vectors.ts). */
  streamCompactVectors(modelId: string): AsyncIterable<CompactVectorBatch> {
    return streamCompactRecords(this.pool, modelId, this.streamBatchSize);
  }

  // ---- model upgrade ----

  async facesToReembed(modelId: string, limit: number): Promise<ReembedTarget[]> {
    const { rows } = await this.pool.query<{ face_token: string; image_id: string }>(
      `SELECT f.face_token, i.image_id FROM faces f JOIN images i ON i.pk = f.image_pk
       WHERE f.model_id <> $1
         AND NOT EXISTS (SELECT 1 FROM staged_embeddings s WHERE s.face_id = f.id AND s.model_id = $1)
       ORDER BY f.id LIMIT $2`,
      [modelId, limit],
    );
    return rows.map((row) => ({ faceToken: row.face_token, imageId: row.image_id }));
  }

  async stageEmbedding(faceToken: string, modelId: string, embedding: Float32Array): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO staged_embeddings (face_id, model_id, embedding)
       SELECT id, $1, $2 FROM faces WHERE face_token = $3
       ON CONFLICT (face_id, model_id) DO UPDATE SET embedding = excluded.embedding`,
      [modelId, embeddingToBytes(embedding), faceToken],
    );
    return rowCount !== 0;
  }

  private static async coverage(client: pg.ClientBase, modelId: string): Promise<ModelCoverage> {
    const { rows } = await client.query<ModelCoverage>(
      `SELECT count(*) AS faces,
              count(*) FILTER (WHERE f.model_id = $1
                               OR EXISTS (SELECT 1 FROM staged_embeddings s WHERE s.face_id = f.id AND s.model_id = $1)) AS covered
       FROM faces f`,
      [modelId],
    );
    return rows[0]!;
  }

  modelCoverage(modelId: string): Promise<ModelCoverage> {
    return inTransaction(this.pool, (client) => PostgresStore.coverage(client, modelId), 'read only');
  }

  async promoteEmbeddings(modelId: string): Promise<boolean> {
    return this.write(async (client) => {
      // No face may be registered between the coverage check and the switch.
      await client.query('LOCK TABLE faces IN SHARE MODE');
      const { faces, covered } = await PostgresStore.coverage(client, modelId);
      if (covered < faces) return false;
      // The promoted faces' compact records follow their new embeddings.
      for (let afterId = 0; ; ) {
        const { rows } = await client.query<{ face_id: number; face_token: string; embedding: Buffer }>(
          `SELECT s.face_id, f.face_token, s.embedding FROM staged_embeddings s JOIN faces f ON f.id = s.face_id
           WHERE s.model_id = $1 AND s.face_id > $2 ORDER BY s.face_id LIMIT 1000`,
          [modelId, afterId],
        );
        await writeCompactVectors(
          client,
          rows.map((row) => ({ faceId: row.face_id, faceToken: row.face_token, modelId, embedding: bytesToEmbedding(row.embedding) })),
        );
        if (rows.length < 1000) break;
        afterId = rows.at(-1)!.face_id;
      }
      const promoted = await client.query<{ face_token: string }>(
        `UPDATE faces f SET model_id = s.model_id, embedding = s.embedding
         FROM staged_embeddings s WHERE s.face_id = f.id AND s.model_id = $1 RETURNING f.face_token`,
        [modelId],
      );
      await client.query('DELETE FROM staged_embeddings');
      // Every replica re-reads the promoted faces (and keeps those its own model can search).
      await this.record(client, faceChanges(promoted.rows.map((row) => row.face_token)));
      return true;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

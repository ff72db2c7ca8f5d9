/**
 * The change log (outbox) replicas follow: every write transaction appends what it changed for the
 * search index, then NOTIFYs; PostgreSQL delivers the notification at commit. A follower reads the
 * rows after the last sequence it applied, so a notification lost while it was disconnected costs
 * nothing: it reads from its sequence when it reconnects.
 *
 * Old rows are pruned (a prefix of the log, always short of the latest row). A reader whose sequence falls
 * before the oldest row left may have lost changes to pruning; `read` says so, and the reader reloads.
 */
import pg from 'pg';
import type { ChangeBatch, ChangeFeed, StoreChange, StoredVector } from '../store.js';
import { clientConfig, inTransaction, type PostgresConnection } from './database.js';
import { ADVISORY_LOCK } from './locks.js';
import { selectVectors, toStoredVector, type VectorSql } from './vectors.js';

/** The NOTIFY channel, one per schema so stores in other schemas do not wake us. */
export const changeChannel = (schema: string | undefined): string =>
  schema === undefined ? 'visage_changes' : `visage_changes_${schema}`;

const subjectOf = (change: StoreChange): string =>
  change.kind === 'face' ? change.faceToken : change.kind === 'group-emptied' ? change.groupId : '';

/**
 * Appends `changes` in the caller's transaction; call it as the transaction's last step. The advisory
 * lock is held until commit, so sequences are handed out in commit order: a reader that has seen
 * sequence n has seen every change that committed before it.
 */
export async function appendChanges(client: pg.PoolClient, channel: string, changes: readonly StoreChange[]): Promise<void> {
  if (changes.length === 0) return;
  await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK.changeLog]);
  await client.query('INSERT INTO changes (kind, subject) SELECT * FROM unnest($1::text[], $2::text[])', [
    changes.map((change) => change.kind),
    changes.map(subjectOf),
  ]);
  await client.query('SELECT pg_notify($1, $2)', [channel, '']);
}

interface ChangeSql {
  seq: number;
  kind: StoreChange['kind'];
  subject: string;
}

const toChange = (row: ChangeSql): StoreChange =>
  row.kind === 'face'
    ? { kind: 'face', faceToken: row.subject }
    : row.kind === 'group-emptied'
      ? { kind: 'group-emptied', groupId: row.subject }
      : { kind: 'wipe' };

const RECONNECT_DELAYS_MS = [100, 250, 500, 1000, 2000, 5000];

export class PostgresChangeFeed implements ChangeFeed {
  private readonly channel: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: PostgresConnection,
  ) {
    this.channel = changeChannel(connection.schema);
  }

  async head(): Promise<number> {
    const { rows } = await this.pool.query<{ head: number }>('SELECT coalesce(max(seq), 0)::bigint AS head FROM changes');
    return rows[0]!.head;
  }

  async read(after: number, limit: number): Promise<ChangeBatch> {
    const { rows } = await this.pool.query<ChangeSql>(
      'SELECT seq, kind, subject FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, limit],
    );
    // Read after the rows: pruning only raises the oldest sequence, so an oldest row at most one past
    // `after` now means no row after `after` had been pruned when they were read. (A sequence number a
    // rolled-back transaction used can leave a gap there; the reader then reloads once for nothing.)
    const oldest = await this.pool.query<{ oldest: number | null }>('SELECT min(seq) AS oldest FROM changes');
    const oldestSeq = oldest.rows[0]!.oldest;
    return {
      changes: rows.map((row) => ({ sequence: row.seq, change: toChange(row) })),
      missed: oldestSeq !== null && oldestSeq > after + 1,
    };
  }

  async prune(retainMs: number): Promise<number | undefined> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        ADVISORY_LOCK.changePruning,
      ]);
      if (!rows[0]!.locked) return undefined;
      // The first row young enough bounds the cut (found through the primary key, not a scan of created_at);
      // when none is, everything but the latest row goes.
      const { rowCount } = await client.query(
        `DELETE FROM changes WHERE seq < coalesce(
           (SELECT seq FROM changes WHERE created_at >= now() - make_interval(secs => $1) ORDER BY seq LIMIT 1),
           (SELECT max(seq) FROM changes))`,
        [retainMs / 1000],
      );
      return rowCount ?? 0;
    });
  }

  async vectorsOf(faceTokens: readonly string[]): Promise<StoredVector[]> {
    if (faceTokens.length === 0) return [];
    const { rows } = await this.pool.query<VectorSql>(`${selectVectors} WHERE f.face_token = ANY($1) ORDER BY f.id`, [
      [...faceTokens],
    ]);
    return rows.map(toStoredVector);
  }

  /** A dedicated connection (LISTEN does not survive a pool checkout), reconnected with back-off. */
  async listen(wake: () => void): Promise<{ close(): Promise<void> }> {
    let closed = false;
    let client: pg.Client | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let failures = 0;

    const connect = async (): Promise<void> => {
      const attempt = new pg.Client(clientConfig(this.connection));
      attempt.on('notification', (message) => {
        if (message.channel === this.channel) wake();
      });
      attempt.on('error', () => reconnect(attempt)); // also fired when the server goes away
      attempt.on('end', () => reconnect(attempt));
      await attempt.connect();
      await attempt.query(`LISTEN "${this.channel}"`);
      if (closed) {
        await attempt.end();
        return;
      }
      client = attempt;
      failures = 0;
      wake(); // whatever committed while we were not listening
    };

    const reconnect = (from: pg.Client): void => {
      if (closed || client !== from) return;
      client = undefined;
      from.end().catch(() => undefined);
      scheduleConnect();
    };

    const scheduleConnect = (): void => {
      if (closed || retryTimer) return;
      const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)]!;
      failures += 1;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        connect().catch((error: unknown) => {
          console.warn(`visage: change listener could not connect: ${String(error)}`);
          scheduleConnect();
        });
      }, delay);
    };

    await connect();
    return {
      close: async () => {
        closed = true;
        if (retryTimer) clearTimeout(retryTimer);
        const current = client;
        client = undefined;
        await current?.end();
      },
    };
  }
}

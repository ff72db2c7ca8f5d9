/**
 * Two real servers (child processes) on one PostgreSQL database, as a load balancer would see them.
 * The safety poll is set to a minute, so what B sees of A's writes arrives through LISTEN/NOTIFY.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminQuery, freshDatabase, SKIP_WITHOUT_POSTGRES } from './helpers/postgres.js';
import { dataUrl, samplePhoto, toJpeg } from './helpers/images.js';
import { eventually, startReplica, type ReplicaProcess } from './helpers/replica-process.js';

interface Registered {
  faceToken: string;
  imageId: string;
}

const RANKS = ['top1', 'top2', 'top3', 'top4', 'top5'] as const;

type Person = 'ann' | 'bea';

describe('replicas on one PostgreSQL database', { skip: SKIP_WITHOUT_POSTGRES }, () => {
  let databaseUrl: string;
  let a: ReplicaProcess;
  let b: ReplicaProcess;
  /** The one that gets killed. */
  let c: ReplicaProcess;
  /** Two of the demo photos at 800 px (quicker to analyse than the 1920-px originals). */
  const photos = new Map<Person, string>();

  before(async () => {
    photos.set('ann', dataUrl(await toJpeg(samplePhoto(5), 800)));
    photos.set('bea', dataUrl(await toJpeg(samplePhoto(3), 800)));
    databaseUrl = await freshDatabase();
    const env = { VISAGE_DATABASE_URL: databaseUrl, VISAGE_CHANGE_POLL_MS: '60000' };
    // Together: they race to migrate the new database, which the migration lock settles.
    [a, b, c] = await Promise.all([startReplica(env), startReplica(env), startReplica(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  });

  const register = async (replica: ReplicaProcess, person: Person, imageMd5: string) => {
    const reply = await replica.call<Registered>('POST', '/api/faces', {
      image: photos.get(person),
      description: `${imageMd5}.jpg`,
      imageMd5,
      name: imageMd5,
      gender: '',
    });
    assert.equal(reply.code, 0, JSON.stringify(reply).slice(0, 300));
    return reply.data;
  };

  /** Face tokens a replica's search returns for the sample photo in these groups. */
  const searchTokens = async (replica: ReplicaProcess, person: Person, group: string[]): Promise<string[]> => {
    const reply = await replica.call<Record<string, { faceToken?: string }>>('POST', '/api/face/search', {
      image: photos.get(person),
      group,
      topN: 5,
      livenessEnabled: false,
    });
    assert.equal(reply.code, 0, JSON.stringify(reply).slice(0, 300));
    return RANKS.flatMap((rank) => (reply.data[rank]?.faceToken ? [reply.data[rank].faceToken] : []));
  };

  it('a face registered on A is found by a search on B; deleted on B, A no longer returns it', async () => {
    const ann = await register(a, 'ann', 'ann');
    await eventually(async () => ((await searchTokens(b, 'ann', ['default'])).includes(ann.faceToken) ? true : undefined));

    assert.equal((await b.call('DELETE', `/api/faces/${ann.faceToken}`)).code, 0);
    await eventually(async () => ((await searchTokens(a, 'ann', ['default'])).includes(ann.faceToken) ? undefined : true));
  });

  it('bindings made on B reach A: a search on A in the new group finds the face', async () => {
    const bea = await register(a, 'bea', 'bea');
    assert.equal((await b.call('POST', '/api/faceGroups', { groupId: 'vip', groupName: 'VIP', groupScore: 80, groupType: '' })).code, 0);
    assert.equal((await b.call('POST', `/api/faceGroups/binding/${bea.faceToken}`, { faceGroupList: ['vip'] })).code, 0);
    await eventually(async () => ((await searchTokens(a, 'bea', ['vip'])).includes(bea.faceToken) ? true : undefined));
    // Group deleted on A (mode 1: the faces stay): B stops finding it in that group at once.
    assert.equal((await a.call('DELETE', '/api/faceGroups/vip', { deleteAllFace: 1 })).code, 0);
    const reply = await b.call('POST', '/api/face/search', { image: photos.get('bea'), group: ['vip'], topN: 1 });
    assert.equal(reply.code, 104311); // GROUP_ID_NOT_EXIST: B reads groups from the database
    await eventually(async () => ((await searchTokens(b, 'bea', ['default'])).includes(bea.faceToken) ? true : undefined));
  });

  it('holds the 64-group limit when both replicas create groups at once', async () => {
    const groupCount = async (replica: ReplicaProcess) =>
      (await replica.call<{ faceGroupList: unknown[] }>('GET', '/api/faceGroups')).data.faceGroupList.length;
    const existing = await groupCount(a);
    const attempts = Array.from({ length: 80 }, (_, i) =>
      (i % 2 === 0 ? a : b).call('POST', '/api/faceGroups', { groupId: `g${i}`, groupName: `group ${i}`, groupScore: 80, groupType: '' }),
    );
    const replies = await Promise.all(attempts);
    const created = replies.filter((reply) => reply.code === 0).length;
    assert.equal(created, 64 - existing);
    for (const reply of replies) if (reply.code !== 0) assert.equal(reply.msg, 'GROUP_OVER_LIMIT');
    for (const replica of [a, b]) assert.equal(await groupCount(replica), 64);
  });

  it('a replica killed mid-write leaves nothing half-written; acknowledged writes survive', async () => {
    const imageIds = Array.from({ length: 8 }, (_, i) => `kill-${i}`);
    const acknowledged: Registered[] = [];
    let killed: Promise<void> | undefined;
    const requests = imageIds.map(async (imageId, i) => {
      try {
        const reply = await c.call<Registered>('POST', '/api/faces', {
          image: photos.get(i % 2 === 0 ? 'ann' : 'bea'),
          description: '',
          imageMd5: imageId,
          name: imageId,
          gender: '',
        });
        if (reply.code === 0) {
          acknowledged.push(reply.data);
          killed ??= c.kill(); // right after the first acknowledgement, while the others are in flight
        }
      } catch {
        // the connection died with the replica
      }
    });
    await Promise.all(requests);
    await (killed ?? c.kill());
    assert.ok(acknowledged.length >= 1 && acknowledged.length < imageIds.length, `${acknowledged.length} acknowledged`);

    // Every registration is all there (image, face, crop, default binding, change row) or not at all.
    const database = new URL(databaseUrl);
    const rows = await adminQuery<{ image_id: string; faces: number; crops: number; bound: number; logged: number }>(
      `SELECT i.image_id,
              count(f.id)::int AS faces,
              count(f.id) FILTER (WHERE length(f.crop) > 0 AND length(f.embedding) = 2048)::int AS crops,
              count(b.face_id)::int AS bound,
              count(c.seq)::int AS logged
       FROM images i
       LEFT JOIN faces f ON f.image_pk = i.pk
       LEFT JOIN bindings b ON b.face_id = f.id
       LEFT JOIN changes c ON c.kind = 'face' AND c.subject = f.face_token
       WHERE i.image_id = ANY($1) GROUP BY i.image_id`,
      [imageIds],
      database.toString(),
    );
    for (const row of rows) assert.deepEqual([row.faces, row.crops, row.bound, row.logged], [1, 1, 1, 1], row.image_id);
    for (const face of acknowledged) assert.ok(rows.some((row) => row.image_id === face.imageId), `${face.imageId} lost`);

    // The survivors' indexes agree with the database: every stored face is searchable on A and B.
    const stored = await adminQuery<{ face_token: string; image_id: string }>(
      `SELECT f.face_token, i.image_id FROM faces f JOIN images i ON i.pk = f.image_pk WHERE i.image_id = ANY($1)`,
      [imageIds],
      database.toString(),
    );
    for (const replica of [a, b]) {
      for (const person of ['ann', 'bea'] as const) {
        const expected = stored.filter((row) => Number(row.image_id.slice(5)) % 2 === (person === 'ann' ? 0 : 1));
        await eventually(async () => {
          const found = new Set(await searchTokens(replica, person, ['default']));
          return expected.every((row) => found.has(row.face_token)) ? true : undefined;
        });
      }
    }
  });
});

/**
 * Concurrent writers on the real app: one imageId registered by ten clients at once, and a storm of
 * bind / unbind / delete-group / create-group on the same faces, after which every view of the groups
 * (2.1 counts, 2.4 members, 1.5 group lists, search over the index) must agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { blobFiles } from './helpers/data-dir.js';
import { Code, expectError, expectSuccess, startTestApp, type ApiReply, type FacePage, type TestApp } from './helpers/http-app.js';
import { dataUrl, samplePhoto, type SampleNumber } from './helpers/images.js';
import { seededRandom } from './helpers/random-vectors.js';

interface GroupList {
  faceGroupList: Array<{ groupId: string; groupFaces: number }>;
}
interface FaceDetail {
  faceGroupList: Array<{ groupId: string }>;
}
type SearchResult = Record<string, { faceToken?: string; group?: Array<{ groupId: string }> }>;

describe('concurrent writers', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp();
  });
  after(async () => {
    await api.close();
  });

  it('registers one image sent by ten clients at once exactly once; nine get FACE_ALREADY_EXIST', async () => {
    const body = { image: dataUrl(samplePhoto(2)), name: 'Same' };
    const replies = await Promise.all(Array.from({ length: 10 }, () => api.call<{ faceToken: string }>('POST', '/api/faces', body)));
    const successes = replies.filter((reply) => reply.status === 200);
    assert.equal(successes.length, 1, replies.map((reply) => reply.body.msg).join(','));
    for (const reply of replies.filter((entry) => entry.status !== 200)) expectError(reply, Code.FACE_ALREADY_EXIST, 'FACE_ALREADY_EXIST');
    const listed = expectSuccess(await api.call<FacePage>('GET', '/api/faces'));
    assert.equal(listed.totalFaces, 1);
    assert.equal(listed.face[0]!.faceToken, successes[0]!.body.data.faceToken);
    // One original and one crop: the nine refused writers left no file behind.
    assert.equal(blobFiles(api.config.dataDir).length, 2);
    expectSuccess(await api.call('DELETE', '/api/faces/facesLib'));
  });

  it('keeps counts, member lists, face group lists and the index consistent under concurrent group changes', async () => {
    const samples: SampleNumber[] = [3, 4, 6];
    const faces: string[] = [];
    for (const sample of samples) {
      const registered = await api.call<{ faceToken: string }>('POST', '/api/faces', { image: dataUrl(samplePhoto(sample)), imageMd5: `concurrent-${sample}` });
      faces.push(expectSuccess(registered).faceToken);
    }
    const groupIds = ['g1', 'g2', 'g3', 'g4'];
    const createGroup = (groupId: string) => api.call('POST', '/api/faceGroups', { groupId, groupName: '', groupScore: 0 });
    for (const groupId of groupIds) expectSuccess(await createGroup(groupId));

    const random = seededRandom(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const someGroups = () => groupIds.filter(() => random() < 0.5).concat(pick(groupIds));
    const operations: Array<() => Promise<ApiReply>> = [];
    for (let i = 0; i < 60; i++) {
      const roll = random();
      const face = pick(faces);
      if (roll < 0.4) operations.push(() => api.call('POST', `/api/faceGroups/binding/${face}`, { faceGroupList: someGroups() }));
      else if (roll < 0.7) operations.push(() => api.call('DELETE', `/api/faceGroups/unbind/${face}`, { faceGroupList: someGroups() }));
      else if (roll < 0.85) operations.push(() => api.call('DELETE', `/api/faceGroups/${pick(groupIds)}`, { deleteAllFace: pick([1, 3]) }));
      else operations.push(() => createGroup(pick(groupIds)));
    }
    const replies = await Promise.all(operations.map((operation) => operation()));
    for (const reply of replies) {
      // Each succeeds or fails as a whole for a business reason (a group deleted or created meanwhile).
      assert.ok(reply.status === 200 || [Code.GROUP_ID_NOT_EXIST, Code.GROUP_ID_CONFLICT].includes(reply.body.code as never), JSON.stringify(reply.body));
    }

    const listed = expectSuccess(await api.call<GroupList>('GET', '/api/faceGroups')).faceGroupList;
    const existing = new Set(listed.map((group) => group.groupId));
    const groupsOfFace = new Map<string, string[]>();
    for (const face of faces) {
      const detail = expectSuccess(await api.call<FaceDetail>('GET', `/api/faces/faceToken/${face}`));
      groupsOfFace.set(face, detail.faceGroupList.map((entry) => entry.groupId).sort());
      for (const groupId of groupsOfFace.get(face)!) assert.ok(existing.has(groupId), `${face} still in deleted ${groupId}`);
    }
    let searchedGroups = 0;
    for (const { groupId, groupFaces } of listed) {
      const members = expectSuccess(await api.call<FacePage>('GET', `/api/faceGroups/${groupId}?pageSize=100`));
      const expected = faces.filter((face) => groupsOfFace.get(face)!.includes(groupId)).sort();
      assert.equal(groupFaces, members.totalFaces, `2.1 count of ${groupId}`);
      assert.deepEqual(members.face.map((face) => face.faceToken).sort(), expected, `2.4 members of ${groupId}`);
      if (groupId === 'default' || expected.length === 0) continue;
      // The index agrees: with groupScore 0 every member of the group is a hit, and only members are.
      searchedGroups += 1;
      const search = expectSuccess(await api.call<SearchResult>('POST', '/api/face/search', { image: dataUrl(samplePhoto(3)), group: [groupId], topN: 5 }));
      const hits = Object.entries(search).filter(([key, hit]) => key.startsWith('top') && hit.faceToken !== undefined).map(([, hit]) => hit);
      assert.deepEqual(hits.map((hit) => hit.faceToken!).sort(), expected, `search in ${groupId}`);
      for (const hit of hits) assert.deepEqual(hit.group!.map((entry) => entry.groupId).sort(), groupsOfFace.get(hit.faceToken!), `groups of hit ${hit.faceToken}`);
    }
    assert.ok(searchedGroups > 0, 'the storm left some group with members to search');
  });
});

/** api.md section 2 through HTTP, on the real app: groups, bindings, the four deletion modes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Code, expectError, expectSuccess, startTestApp, type FacePage, type TestApp } from './helpers/http-app.js';
import { dataUrl, samplePhoto, type SampleNumber } from './helpers/images.js';

interface Group {
  groupId: string;
  groupType: string;
  groupName: string;
  groupScore: number;
  groupFaces: number;
}
interface GroupList {
  faceGroupList: Group[];
}
type Members = FacePage;
interface BindingReport {
  totalCnt: number;
  successCnt: number;
  failCnt: number;
  failInfo: Array<{ groupId: string; errorMsg: string }>;
}
interface Registered {
  imageId: string;
  faceToken: string;
}
interface FaceDetail {
  faceGroupList: Array<{ groupId: string }>;
}
interface ImageDetail {
  faceToken: string[];
}

describe('groups (api.md section 2)', () => {
  let api: TestApp;
  before(async () => {
    api = await startTestApp();
  });
  after(async () => {
    await api.close();
  });

  const groups = async () => expectSuccess(await api.call<GroupList>('GET', '/api/faceGroups')).faceGroupList;
  const group = async (groupId: string) => (await groups()).find((entry) => entry.groupId === groupId);
  const createGroup = (body: Record<string, unknown>) => api.call('POST', '/api/faceGroups', body);
  const bind = (faceToken: string, faceGroupList: unknown) =>
    api.call<BindingReport>('POST', `/api/faceGroups/binding/${faceToken}`, { faceGroupList });
  const unbind = (faceToken: string, faceGroupList: unknown) =>
    api.call<BindingReport>('DELETE', `/api/faceGroups/unbind/${faceToken}`, { faceGroupList });
  const deleteGroup = (groupId: string, body: unknown) => api.call('DELETE', `/api/faceGroups/${encodeURIComponent(groupId)}`, body);
  const faceGroups = async (faceToken: string) =>
    expectSuccess(await api.call<FaceDetail>('GET', `/api/faces/faceToken/${faceToken}`)).faceGroupList.map((entry) => entry.groupId);

  /** Registers sampleN under its own imageMd5 so the same photo can serve several tests. */
  let registrations = 0;
  const registerFace = async (sample: SampleNumber): Promise<Registered> => {
    registrations += 1;
    const reply = await api.call<Registered>('POST', '/api/faces', {
      image: dataUrl(samplePhoto(sample)),
      imageMd5: `groups-${registrations}`,
      description: `sample${sample}.jpg`,
      name: `person ${sample}`,
      gender: '',
    });
    return expectSuccess(reply);
  };

  it('2.1 starts with the built-in default group (score 80, empty name and type)', async () => {
    assert.deepEqual(await groups(), [{ groupId: 'default', groupType: '', groupName: '', groupScore: 80, groupFaces: 0 }]);
  });

  it('2.2 creates groups with defaults (type "", score 80) and the given values', async () => {
    expectSuccess(await createGroup({ groupId: 'staff', groupName: '员工' }));
    expectSuccess(await createGroup({ groupId: 'vip', groupName: 'VIP', groupType: '白名单', groupScore: 90 }));
    assert.deepEqual(await group('staff'), { groupId: 'staff', groupType: '', groupName: '员工', groupScore: 80, groupFaces: 0 });
    assert.deepEqual(await group('vip'), { groupId: 'vip', groupType: '白名单', groupName: 'VIP', groupScore: 90, groupFaces: 0 });
  });

  it('2.2 refuses an existing groupId (104310) or groupName (104300)', async () => {
    expectError(await createGroup({ groupId: 'staff', groupName: 'other name' }), Code.GROUP_ID_CONFLICT, 'GROUP_ID_CONFLICT');
    expectError(await createGroup({ groupId: 'staff2', groupName: '员工' }), Code.GROUP_NAME_CONFLICT, 'GROUP_NAME_CONFLICT');
  });

  it('2.2 validates fields, UTF-8 byte limits included (100001)', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ groupName: 'n' }, 'groupId'],
      [{ groupId: '', groupName: 'n' }, 'groupId'],
      [{ groupId: '中'.repeat(11), groupName: 'n' }, 'groupId'], // 33 bytes, 11 characters
      [{ groupId: 7, groupName: 'n' }, 'groupId'],
      [{ groupId: 'g' }, 'groupName'],
      [{ groupId: 'g', groupName: 'é'.repeat(64) + 'x' }, 'groupName'], // 129 bytes
      [{ groupId: 'g', groupName: 'n', groupType: '类'.repeat(43) }, 'groupType'], // 129 bytes
      [{ groupId: 'g', groupName: 'n', groupScore: 101 }, 'groupScore'],
      [{ groupId: 'g', groupName: 'n', groupScore: -1 }, 'groupScore'],
      [{ groupId: 'g', groupName: 'n', groupScore: '80' }, 'groupScore'],
      [{ groupId: 'g', groupName: 'n', groupScore: 80.5 }, 'groupScore'], // the original types it int
    ];
    for (const [body, field] of cases) expectError(await createGroup(body), Code.INVALID_PARAM, `INVALID_PARAM:${field}`);
    // Exactly at the limits.
    expectSuccess(await createGroup({ groupId: '中'.repeat(10) + 'ab', groupName: 'é'.repeat(64), groupType: '类'.repeat(42) + 'xy', groupScore: 0 }));
    expectSuccess(await deleteGroup('中'.repeat(10) + 'ab', { deleteAllFace: 1 }));
  });

  it('2.7 updates only the fields given; unknown group 104311, taken name 104300', async () => {
    expectSuccess(await api.call('PUT', '/api/faceGroups', { groupId: 'vip', groupScore: 85 }));
    assert.deepEqual(await group('vip'), { groupId: 'vip', groupType: '白名单', groupName: 'VIP', groupScore: 85, groupFaces: 0 });
    expectSuccess(await api.call('PUT', '/api/faceGroups', { groupId: 'vip', groupName: 'V.I.P.', groupType: 'guests' }));
    assert.deepEqual(await group('vip'), { groupId: 'vip', groupType: 'guests', groupName: 'V.I.P.', groupScore: 85, groupFaces: 0 });
    expectError(await api.call('PUT', '/api/faceGroups', { groupId: 'nope', groupScore: 70 }), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
    expectError(await api.call('PUT', '/api/faceGroups', { groupId: 'vip', groupName: '员工' }), Code.GROUP_NAME_CONFLICT, 'GROUP_NAME_CONFLICT');
    expectError(await api.call('PUT', '/api/faceGroups', { groupScore: 70 }), Code.INVALID_PARAM, 'INVALID_PARAM:groupId');
    expectError(await api.call('PUT', '/api/faceGroups', { groupId: 'vip', groupScore: 100.5 }), Code.INVALID_PARAM, 'INVALID_PARAM:groupScore');
  });

  it('2.2 refuses more than 64 groups (104302)', async () => {
    const existing = (await groups()).length;
    const extra = Array.from({ length: 64 - existing }, (_, index) => `bulk-${index}`);
    for (const groupId of extra) expectSuccess(await createGroup({ groupId, groupName: groupId }));
    assert.equal((await groups()).length, 64);
    expectError(await createGroup({ groupId: 'one-too-many', groupName: 'one-too-many' }), Code.GROUP_OVER_LIMIT, 'GROUP_OVER_LIMIT');
    for (const groupId of extra) expectSuccess(await deleteGroup(groupId, { deleteAllFace: 1 }));
  });

  it('2.5 binds a face to groups and reports unknown ones; binding twice succeeds', async () => {
    const face = await registerFace(1);
    const report = expectSuccess(await bind(face.faceToken, ['staff', 'missing-1', 'vip', 'missing-2']));
    assert.deepEqual(report, {
      totalCnt: 4,
      successCnt: 2,
      failCnt: 2,
      failInfo: [
        { groupId: 'missing-1', errorMsg: 'GROUP_ID_NOT_EXIST' },
        { groupId: 'missing-2', errorMsg: 'GROUP_ID_NOT_EXIST' },
      ],
    });
    assert.deepEqual(expectSuccess(await bind(face.faceToken, ['staff'])), { totalCnt: 1, successCnt: 1, failCnt: 0, failInfo: [] });
    assert.deepEqual((await faceGroups(face.faceToken)).sort(), ['default', 'staff', 'vip']);
    assert.equal((await group('staff'))?.groupFaces, 1);
  });

  it('2.5/2.6 validate the token and the list', async () => {
    expectError(await bind('unknownToken', ['staff']), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    expectError(await unbind('unknownToken', ['staff']), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    expectError(await bind('x'.repeat(33), ['staff']), Code.FACE_TOKEN_NOT_EXIST, 'FACE_TOKEN_NOT_EXIST');
    const token = expectSuccess(await api.call<Members>('GET', '/api/faceGroups/staff')).face[0]!.faceToken;
    for (const list of [[], 'staff', [1], null]) {
      expectError(await bind(token, list), Code.INVALID_PARAM, 'INVALID_PARAM:faceGroupList');
      expectError(await unbind(token, list), Code.INVALID_PARAM, 'INVALID_PARAM:faceGroupList');
    }
    expectError(await api.call('POST', `/api/faceGroups/binding/${token}`, {}), Code.INVALID_PARAM, 'INVALID_PARAM:faceGroupList');
  });

  it('2.4 lists a group\'s faces with paging; unknown group 104311', async () => {
    const second = await registerFace(2);
    expectSuccess(await bind(second.faceToken, ['staff']));
    const members = expectSuccess(await api.call<Members>('GET', '/api/faceGroups/staff?pageOffset=0&pageSize=10'));
    assert.equal(members.totalFaces, 2);
    assert.equal(members.face.length, 2);
    const last = members.face[1]!;
    assert.deepEqual(Object.keys(last).sort(), ['description', 'faceToken', 'gender', 'imageId', 'imgId', 'imgeld', 'name']);
    assert.deepEqual(last, {
      imageId: second.imageId,
      imgId: second.imageId,
      imgeld: second.imageId,
      faceToken: second.faceToken,
      description: 'sample2.jpg',
      name: 'person 2',
      gender: '',
    });
    const page = expectSuccess(await api.call<Members>('GET', '/api/faceGroups/staff?pageOffset=1&pageSize=1'));
    assert.deepEqual(page, { totalFaces: 2, face: [last] });
    expectError(await api.call('GET', '/api/faceGroups/nope'), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
    expectError(await api.call('GET', `/api/faceGroups/${'g'.repeat(33)}`), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
    expectError(await api.call('GET', '/api/faceGroups/staff?pageSize=0'), Code.INVALID_PARAM, 'INVALID_PARAM:pageSize');
    expectError(await api.call('GET', '/api/faceGroups/staff?pageOffset=-3'), Code.INVALID_PARAM, 'INVALID_PARAM:pageOffset');
  });

  it('2.6 unbinds through DELETE with a JSON body and reports unknown groups', async () => {
    const face = await registerFace(3);
    expectSuccess(await bind(face.faceToken, ['staff', 'vip']));
    const report = expectSuccess(await unbind(face.faceToken, ['vip', 'missing']));
    assert.deepEqual(report, { totalCnt: 2, successCnt: 1, failCnt: 1, failInfo: [{ groupId: 'missing', errorMsg: 'GROUP_ID_NOT_EXIST' }] });
    assert.deepEqual((await faceGroups(face.faceToken)).sort(), ['default', 'staff']);
    // Old clients send the body as text/plain.
    const plain = await api.raw<BindingReport>('DELETE', `/api/faceGroups/unbind/${face.faceToken}`, {
      payload: JSON.stringify({ faceGroupList: ['staff'] }),
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(expectSuccess(plain).successCnt, 1);
    assert.deepEqual(await faceGroups(face.faceToken), ['default']);
  });

  describe('2.3 delete', () => {
    it('refuses the default group (104304), unknown groups (104311) and bad modes (100001)', async () => {
      expectError(await deleteGroup('default', { deleteAllFace: 1 }), Code.GROUP_BEUSED, 'GROUP_BEUSED');
      expectError(await deleteGroup('nope', { deleteAllFace: 1 }), Code.GROUP_ID_NOT_EXIST, 'GROUP_ID_NOT_EXIST');
      for (const body of [{}, { deleteAllFace: 0 }, { deleteAllFace: 5 }, { deleteAllFace: '1' }, { deleteAllFace: 1.5 }]) {
        expectError(await deleteGroup('staff', body), Code.INVALID_PARAM, 'INVALID_PARAM:deleteAllFace');
      }
      expectError(await api.call('DELETE', '/api/faceGroups/staff'), Code.INVALID_PARAM, 'INVALID_PARAM:deleteAllFace');
      assert.ok(await group('staff'));
    });

    /** A group holding `shared` (also in default) and `exclusive` (unbound from default: only here). */
    const prepare = async (groupId: string) => {
      expectSuccess(await createGroup({ groupId, groupName: `group ${groupId}` }));
      const shared = await registerFace(5);
      const exclusive = await registerFace(6);
      expectSuccess(await bind(shared.faceToken, [groupId]));
      expectSuccess(await bind(exclusive.faceToken, [groupId]));
      expectSuccess(await unbind(exclusive.faceToken, ['default']));
      return { shared, exclusive };
    };
    const tokenExists = async (faceToken: string) =>
      (await api.call('GET', `/api/faces/faceToken/${faceToken}`)).body.code === 0;
    const imageTokens = async (imageId: string) => {
      const reply = await api.call<ImageDetail>('GET', `/api/faces/image/${imageId}`);
      return reply.body.code === 0 ? reply.body.data.faceToken : undefined;
    };

    it('mode 1 unbinds every face and deletes the group; faces stay', async () => {
      const { shared, exclusive } = await prepare('mode1');
      expectSuccess(await deleteGroup('mode1', { deleteAllFace: 1 }));
      assert.equal(await group('mode1'), undefined);
      assert.deepEqual(await faceGroups(shared.faceToken), ['default']);
      assert.deepEqual(await faceGroups(exclusive.faceToken), []);
    });

    it('mode 2 deletes every face of the group (originals stay) and the group', async () => {
      const { shared, exclusive } = await prepare('mode2');
      expectSuccess(await deleteGroup('mode2', { deleteAllFace: 2 }));
      assert.equal(await group('mode2'), undefined);
      assert.equal(await tokenExists(shared.faceToken), false);
      assert.equal(await tokenExists(exclusive.faceToken), false);
      assert.deepEqual(await imageTokens(shared.imageId), []);
      assert.deepEqual(await imageTokens(exclusive.imageId), []);
    });

    it('mode 3 unbinds all, drops faces bound nowhere else (originals stay), keeps the group', async () => {
      const { shared, exclusive } = await prepare('mode3');
      expectSuccess(await deleteGroup('mode3', { deleteAllFace: 3 }));
      assert.equal((await group('mode3'))?.groupFaces, 0);
      assert.deepEqual(await faceGroups(shared.faceToken), ['default']);
      assert.equal(await tokenExists(exclusive.faceToken), false);
      assert.deepEqual(await imageTokens(exclusive.imageId), []);
    });

    it('mode 4 unbinds all, drops faces bound nowhere else with their originals, deletes the group', async () => {
      const { shared, exclusive } = await prepare('mode4');
      // A text/plain DELETE body, as old clients send it.
      const reply = await api.raw('DELETE', '/api/faceGroups/mode4', {
        payload: '{"deleteAllFace": 4}',
        headers: { 'content-type': 'text/plain;charset=UTF-8' },
      });
      expectSuccess(reply);
      assert.equal(await group('mode4'), undefined);
      assert.deepEqual(await faceGroups(shared.faceToken), ['default']);
      assert.equal(await tokenExists(exclusive.faceToken), false);
      assert.equal(await imageTokens(exclusive.imageId), undefined);
    });
  });
});

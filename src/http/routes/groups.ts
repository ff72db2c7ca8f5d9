/** Section 2 of api.md: face groups and the bindings of faces to them. */
import type { FastifyPluginAsync } from 'fastify';
import type { GroupLibrary } from '../../library/types.js';
import { emptySuccess, success } from '../envelope.js';
import {
  bindingBody,
  createGroupBody,
  deleteGroupBody,
  faceTokenParams,
  groupIdParams,
  pageQuery,
  parseBody,
  parseParams,
  parseQuery,
  updateGroupBody,
} from '../schemas.js';
import { wireGroupFace } from '../wire.js';

export interface GroupRoutesOptions {
  groups: GroupLibrary;
}

export const groupRoutes: FastifyPluginAsync<GroupRoutesOptions> = async (app, { groups }) => {
  // 2.1
  app.get('/api/faceGroups', async () => {
    const list = await groups.list();
    return success({
      faceGroupList: list.map((group) => ({
        groupId: group.groupId,
        groupType: group.groupType,
        groupName: group.groupName,
        groupScore: group.groupScore,
        groupFaces: group.groupFaces,
      })),
    });
  });

  // 2.2
  app.post('/api/faceGroups', async (request) => {
    await groups.create(parseBody(createGroupBody, request.body));
    return emptySuccess();
  });

  // 2.7: only the fields present change.
  app.put('/api/faceGroups', async (request) => {
    const { groupId, groupName, groupType, groupScore } = parseBody(updateGroupBody, request.body);
    await groups.update({
      groupId,
      ...(groupName === undefined ? {} : { groupName }),
      ...(groupType === undefined ? {} : { groupType }),
      ...(groupScore === undefined ? {} : { groupScore }),
    });
    return emptySuccess();
  });

  // 2.3
  app.delete('/api/faceGroups/:groupId', async (request) => {
    const { groupId } = parseParams(groupIdParams, request.params, 'GROUP_ID_NOT_EXIST');
    const { deleteAllFace } = parseBody(deleteGroupBody, request.body);
    await groups.delete(groupId, deleteAllFace);
    return emptySuccess();
  });

  // 2.4
  app.get('/api/faceGroups/:groupId', async (request) => {
    const { groupId } = parseParams(groupIdParams, request.params, 'GROUP_ID_NOT_EXIST');
    const { pageOffset, pageSize } = parseQuery(pageQuery, request.query);
    const page = await groups.members(groupId, { offset: pageOffset, size: pageSize });
    return success({ totalFaces: page.total, face: page.faces.map(wireGroupFace) });
  });

  // 2.5
  app.post('/api/faceGroups/binding/:faceToken', async (request) => {
    const { faceToken } = parseParams(faceTokenParams, request.params, 'FACE_TOKEN_NOT_EXIST');
    const { faceGroupList } = parseBody(bindingBody, request.body);
    return success(await groups.bind(faceToken, faceGroupList));
  });

  // 2.6
  app.delete('/api/faceGroups/unbind/:faceToken', async (request) => {
    const { faceToken } = parseParams(faceTokenParams, request.params, 'FACE_TOKEN_NOT_EXIST');
    const { faceGroupList } = parseBody(bindingBody, request.body);
    return success(await groups.unbind(faceToken, faceGroupList));
  });
};

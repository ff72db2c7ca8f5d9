/** Section 1 of api.md: registering, listing, reading and deleting faces and their images. */
import type { FastifyPluginAsync } from 'fastify';
import type { FaceLibrary } from '../../library/types.js';
import { emptySuccess, success } from '../envelope.js';
import { faceTokenParams, imageIdParams, pageQuery, parseBody, parseParams, parseQuery, registerFaceBody } from '../schemas.js';
import { toDataUrl } from '../data-url.js';
import { wireFace, wireRect } from '../wire.js';

export interface FaceRoutesOptions {
  faces: FaceLibrary;
}

export const faceRoutes: FastifyPluginAsync<FaceRoutesOptions> = async (app, { faces }) => {
  // 1.1
  app.post('/api/faces', async (request) => {
    const input = parseBody(registerFaceBody, request.body);
    const registered = await faces.register(input);
    return success({
      id: registered.id,
      imageId: registered.imageId,
      faceToken: registered.faceToken,
      rect: wireRect(registered.rect),
    });
  });

  // 1.2
  app.get('/api/faces', async (request) => {
    const { pageOffset, pageSize } = parseQuery(pageQuery, request.query);
    const page = await faces.list({ offset: pageOffset, size: pageSize });
    return success({ totalFaces: page.total, face: page.faces.map(wireFace) });
  });

  // 1.7 (static paths win over the parametric routes below)
  app.delete('/api/faces/facesLib', async () => {
    await faces.wipe();
    return emptySuccess();
  });

  // 1.3
  app.delete('/api/faces/:faceToken', async (request) => {
    const { faceToken } = parseParams(faceTokenParams, request.params, 'FACE_TOKEN_NOT_EXIST');
    await faces.deleteFace(faceToken);
    return emptySuccess();
  });

  // 1.4
  app.delete('/api/faces/image/:imageId', async (request) => {
    const { imageId } = parseParams(imageIdParams, request.params, 'IMAGE_ID_NOT_EXIST');
    await faces.deleteImage(imageId);
    return emptySuccess();
  });

  // 1.5
  app.get('/api/faces/faceToken/:faceToken', async (request) => {
    const { faceToken } = parseParams(faceTokenParams, request.params, 'FACE_TOKEN_NOT_EXIST');
    const face = await faces.getFace(faceToken);
    return success({
      imageId: face.imageId,
      description: face.description,
      name: face.name,
      gender: face.gender,
      rect: wireRect(face.rect),
      faceGroupList: face.groupIds.map((groupId) => ({ groupId })),
      image: toDataUrl('jpeg', face.crop),
    });
  });

  // 1.6
  app.get('/api/faces/image/:imageId', async (request) => {
    const { imageId } = parseParams(imageIdParams, request.params, 'IMAGE_ID_NOT_EXIST');
    const image = await faces.getImage(imageId);
    return success({ image: toDataUrl(image.format, image.bytes), faceToken: image.faceTokens });
  });
};

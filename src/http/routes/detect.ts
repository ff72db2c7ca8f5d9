/**
 * Extension (not in api.md): every face of an image with its box, pose and quality, main face first.
 * The web console draws them; a client of the original API never needs it.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Recognition } from '../../recognition/types.js';
import { success } from '../envelope.js';
import { detectBody, parseBody } from '../schemas.js';
import { wireDetectionResult, type WireDetectedFace } from '../wire.js';

export interface DetectRoutesOptions {
  recognition: Recognition;
}

export const detectRoutes: FastifyPluginAsync<DetectRoutesOptions> = async (app, { recognition }) => {
  app.post('/api/face/detect', async (request) => {
    const { image, livenessEnabled } = parseBody(detectBody, request.body);
    const faces = await recognition.detect({ image, liveness: livenessEnabled });
    return success({
      faceNum: faces.length,
      // The registration gate's measures too, so a console can show why a face would be refused.
      faces: faces.map((face): WireDetectedFace => ({
        ...wireDetectionResult(face),
        brightness: face.quality.brightness,
        contrast: face.quality.contrast,
        faceSize: face.quality.faceSize,
      })),
    });
  });
};

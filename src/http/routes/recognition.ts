/** Section 3 of api.md: 1:1 compare and 1:N search. */
import type { FastifyPluginAsync } from 'fastify';
import type { Recognition, SearchHit } from '../../recognition/types.js';
import { success } from '../envelope.js';
import { toDataUrl } from '../data-url.js';
import { compareBody, parseBody, searchBody } from '../schemas.js';
import { wireDetectionResult, type WireSearchHit } from '../wire.js';

export interface RecognitionRoutesOptions {
  recognition: Recognition;
}

function wireSearchHit(hit: SearchHit): WireSearchHit {
  return {
    group: hit.groupIds.map((groupId) => ({ groupId })),
    searchScore: hit.score,
    far: hit.far,
    faceToken: hit.faceToken,
    imageId: hit.imageId,
    description: hit.description,
    name: hit.name,
    gender: hit.gender,
    imageUrl: toDataUrl('jpeg', hit.crop),
  };
}

const RANK_KEYS = ['top1', 'top2', 'top3', 'top4', 'top5'] as const;
type RankKey = (typeof RANK_KEYS)[number];

/** top1..top5 are always present; ranks without a hit are `{}`. */
function rankedHits(hits: SearchHit[]): Record<RankKey, WireSearchHit | Record<string, never>> {
  const entries = RANK_KEYS.map((key, rank) => {
    const hit = hits[rank];
    return [key, hit === undefined ? {} : wireSearchHit(hit)] as const;
  });
  return Object.fromEntries(entries) as Record<RankKey, WireSearchHit | Record<string, never>>;
}

export const recognitionRoutes: FastifyPluginAsync<RecognitionRoutesOptions> = async (app, { recognition }) => {
  // 3.1
  app.post('/api/face/compare', async (request) => {
    const { image1, image2, livenessEnabled } = parseBody(compareBody, request.body);
    const result = await recognition.compare({ image1, image2, liveness: livenessEnabled });
    return success({
      compareScore: result.score,
      detectionResult1: wireDetectionResult(result.face1),
      detectionResult2: wireDetectionResult(result.face2),
    });
  });

  // 3.2
  app.post('/api/face/search', async (request) => {
    const { image, group, topN, livenessEnabled, featureUpload, allFaces } = parseBody(searchBody, request.body);
    const result = await recognition.search({
      image,
      groupIds: group,
      topN,
      liveness: livenessEnabled,
      featureUpload,
      allFaces,
    });
    return success({
      detectionResult: wireDetectionResult(result.face),
      ...rankedHits(result.hits.slice(0, topN)),
      ...(result.faces === undefined
        ? {}
        : {
            faces: result.faces.map((each) => ({
              detectionResult: wireDetectionResult(each.face),
              ...rankedHits(each.hits.slice(0, topN)),
            })),
          }),
      ...(result.feature === undefined ? {} : { feature: result.feature.vector, featureModel: result.feature.model }),
    });
  });
};

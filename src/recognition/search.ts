/** 3.2: 1:N search of the most prominent face of an image in the given groups. */
import { VisageError } from '../errors.js';
import type { VectorIndex } from '../index/vector-index.js';
import type { GroupRecord, Store } from '../store/store.js';
import type { FaceAnalyzer } from '../vision/types.js';
import { detectedFace } from './detected-face.js';
import type { LivenessCheck } from './liveness-scale.js';
import type { ScoreScale } from './score-scale.js';
import type { SearchHit, SearchRequest, SearchResult } from './types.js';

export class SearchService {
  constructor(
    private readonly store: Store,
    private readonly index: VectorIndex,
    private readonly analyzer: FaceAnalyzer,
    private readonly scale: ScoreScale,
    private readonly liveness: LivenessCheck,
  ) {}

  async search(request: SearchRequest): Promise<SearchResult> {
    // Groups are checked before the (expensive) analysis: any unknown id → GROUP_ID_NOT_EXIST.
    const groups = await this.searchedGroups(request.groupIds);
    const analysis = await this.analyzer.analyze(request.image, { liveness: request.liveness, maxFaces: 1 });
    const face = analysis.faces[0];
    if (!face) throw new VisageError('FACE_NOT_FOUND');

    // A candidate is a hit when it reaches the groupScore of a searched group it belongs to. The
    // index applies each group's threshold during the scan, so the top slots only go to real hits.
    const scoreOf = new Map(groups.map((group) => [group.groupId, group.groupScore]));
    const groupMinCosine = new Map(groups.map((group) => [group.groupId, this.scale.toCosine(group.groupScore)]));
    const candidates = this.index.search(face.embedding, {
      groups: scoreOf.keys(),
      limit: request.topN,
      minCosine: Math.min(...groupMinCosine.values()),
      groupMinCosine,
    });

    const hits: SearchHit[] = [];
    for (const candidate of candidates) {
      const score = this.scale.fromCosine(candidate.cosine);
      // Re-check on the score itself, so toCosine/fromCosine rounding can never admit a score below the threshold.
      const qualifies = candidate.groupIds.some((groupId) => {
        const threshold = scoreOf.get(groupId);
        return threshold !== undefined && score >= threshold;
      });
      if (!qualifies) continue;
      const stored = await this.store.getFace(candidate.faceToken);
      if (!stored) continue; // deleted since the scan
      hits.push({
        groupIds: stored.groupIds,
        score,
        faceToken: stored.faceToken,
        imageId: stored.imageId,
        description: stored.description,
        name: stored.name,
        gender: stored.gender,
        crop: stored.crop,
      });
    }

    const result: SearchResult = { face: detectedFace(face, this.liveness), hits };
    if (request.featureUpload) result.feature = { vector: Array.from(face.embedding), model: this.analyzer.modelId };
    return result;
  }

  private async searchedGroups(groupIds: readonly string[]): Promise<GroupRecord[]> {
    const groups: GroupRecord[] = [];
    for (const groupId of new Set(groupIds)) {
      const group = await this.store.getGroup(groupId);
      if (!group) throw new VisageError('GROUP_ID_NOT_EXIST', undefined, { groupId });
      groups.push(group);
    }
    return groups;
  }
}

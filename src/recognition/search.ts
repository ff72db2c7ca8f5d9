/** 3.2: 1:N search of the most prominent face of an image in the given groups. */
import { VisageError } from '../errors.js';
import type { VectorIndex } from '../index/vector-index.js';
import type { GroupRecord, Store } from '../store/store.js';
import type { FaceAnalyzer, Rect } from '../vision/types.js';
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
    const analysis = await this.analyzer.analyze(request.image, {
      liveness: request.liveness,
      handOver: true,
      ...(request.allFaces ? {} : { maxFaces: 1 }),
    });
    const face = analysis.faces[0];
    if (!face) throw new VisageError('FACE_NOT_FOUND');

    const result: SearchResult = { face: detectedFace(face, this.liveness), hits: await this.hitsFor(face.embedding, groups, request.topN) };
    if (request.allFaces) {
      const largestFirst = [...analysis.faces].sort((a, b) => rectArea(b.rect) - rectArea(a.rect));
      result.faces = [];
      for (const other of largestFirst) {
        const hits = other === face ? result.hits : await this.hitsFor(other.embedding, groups, request.topN);
        result.faces.push({ face: detectedFace(other, this.liveness), hits });
      }
    }
    if (request.featureUpload) result.feature = { vector: Array.from(face.embedding), model: this.analyzer.modelId };
    return result;
  }

  /** The hits of one probe embedding: at or above a searched group's threshold, best first, at most `limit`. */
  private async hitsFor(embedding: Float32Array, groups: GroupRecord[], limit: number): Promise<SearchHit[]> {
    // A candidate is a hit when it reaches the groupScore of a searched group it belongs to. The
    // index applies each group's threshold during the scan, so the top slots only go to real hits.
    const scoreOf = new Map(groups.map((group) => [group.groupId, group.groupScore]));
    const groupMinCosine = new Map(groups.map((group) => [group.groupId, this.scale.toCosine(group.groupScore)]));
    const candidates = await this.index.search(embedding, {
      groups: scoreOf.keys(),
      limit,
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
        far: this.scale.falseAcceptRate(score),
        faceToken: stored.faceToken,
        imageId: stored.imageId,
        description: stored.description,
        name: stored.name,
        gender: stored.gender,
        crop: stored.crop,
      });
    }
    return hits;
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

function rectArea(rect: Rect): number {
  return (rect.right - rect.left) * (rect.bottom - rect.top);
}

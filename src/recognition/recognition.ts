/** Section 3 behind the Recognition interface: compare and search over one analyzer and score scale. */
import type { VectorIndex } from '../index/vector-index.js';
import type { Store } from '../store/store.js';
import type { FaceAnalyzer } from '../vision/types.js';
import { CompareService } from './compare.js';
import type { LivenessCheck } from './liveness-scale.js';
import type { ScoreScale } from './score-scale.js';
import { SearchService } from './search.js';
import { detectedFace } from './detected-face.js';
import type { CompareRequest, CompareResult, DetectRequest, DetectedFace, Recognition, SearchRequest, SearchResult } from './types.js';

export class RecognitionService implements Recognition {
  private readonly comparer: CompareService;
  private readonly searcher: SearchService;

  constructor(store: Store, index: VectorIndex, private readonly analyzer: FaceAnalyzer, scale: ScoreScale, private readonly liveness: LivenessCheck) {
    this.comparer = new CompareService(analyzer, scale, liveness);
    this.searcher = new SearchService(store, index, analyzer, scale, liveness);
  }

  compare(request: CompareRequest): Promise<CompareResult> {
    return this.comparer.compare(request);
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return this.searcher.search(request);
  }

  async detect(request: DetectRequest): Promise<DetectedFace[]> {
    const analysis = await this.analyzer.analyze(request.image, { liveness: request.liveness, handOver: true });
    return analysis.faces.map((face) => detectedFace(face, this.liveness));
  }
}

/** The domain API of section 3 (1:1 compare and 1:N search), as the HTTP edge sees it. */
import type { AnalyzedFace } from '../vision/types.js';

/** The face the result is about: box, pose, blur, quality, and liveness when asked for. */
export interface DetectedFace extends Pick<AnalyzedFace, 'rect' | 'pose' | 'quality'> {
  /** Only when liveness was asked for. */
  liveness?: {
    /** 0..100 on the liveness scale (50 ≙ the measured equal-error point). */
    score: number;
    /** score ≥ the configured threshold. */
    live: boolean;
  };
}

export interface CompareRequest {
  image1: Uint8Array;
  image2: Uint8Array;
  liveness: boolean;
}

export interface CompareResult {
  /** Calibrated 0..100. */
  score: number;
  face1: DetectedFace;
  face2: DetectedFace;
}

export interface SearchRequest {
  image: Uint8Array;
  groupIds: string[];
  /** 1..5 */
  topN: number;
  liveness: boolean;
  featureUpload: boolean;
  /** Extension: search every face of the photo, not only the main one. */
  allFaces?: boolean;
}

export interface SearchHit {
  /** Every group the hit face is bound to. */
  groupIds: string[];
  /** Calibrated 0..100. */
  score: number;
  /** Estimated false-accept rate of one comparison at `score` (the calibration table's). */
  far: number;
  faceToken: string;
  imageId: string;
  description: string;
  name: string;
  gender: string;
  /** JPEG bytes of the hit's face crop. */
  crop: Uint8Array;
}

/** One face of the photo with its own hits. */
export interface FaceSearchResult {
  face: DetectedFace;
  /** Hits in descending score, at most topN. */
  hits: SearchHit[];
}

export interface SearchResult extends FaceSearchResult {
  /** With `allFaces`: every face of the photo, the main one included, largest first. */
  faces?: FaceSearchResult[];
  /** Present when featureUpload was asked for. */
  feature?: { vector: number[]; model: string };
}

export interface DetectRequest {
  image: Uint8Array;
  liveness: boolean;
}

export interface Recognition {
  compare(request: CompareRequest): Promise<CompareResult>;
  search(request: SearchRequest): Promise<SearchResult>;
  /** Every face of the image, main face first (the one compare, search and registration use). */
  detect(request: DetectRequest): Promise<DetectedFace[]>;
}

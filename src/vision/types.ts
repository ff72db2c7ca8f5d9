/** What the vision pipeline says about one image: the face records every model has added to. */

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

/** Pixel box on the (EXIF-rotated) image, right/bottom exclusive-ish as floats; HTTP rounds them. */
export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Head pose in degrees. */
export interface Pose {
  roll: number;
  yaw: number;
  pitch: number;
}

export interface FaceQuality {
  /** 0..100, larger = blurrier (variance of the Laplacian over that of the luma on the aligned face, log-mapped). */
  blurness: number;
  /** Mean luminance of the face region, 0..255. */
  brightness: number;
  /** Standard deviation of the face region's luminance, 0..255. */
  contrast: number;
  /** Shorter side of the face box in pixels. */
  faceSize: number;
  /** 0..1 overall quality (blur, pose, size, brightness). */
  quality: number;
}

export interface AnalyzedFace {
  rect: Rect;
  /** Detector confidence 0..1. */
  detectionScore: number;
  /** 68 landmark points as [x0, y0, x1, y1, ...] in image pixels. */
  landmarks: number[];
  pose: Pose;
  quality: FaceQuality;
  /** L2-normalised embedding; cosine similarity = dot product. */
  embedding: Float32Array;
  /** Log-odds that the face is live (not a photo or screen), present only when liveness was asked for. */
  liveLogOdds?: number;
  /** JPEG bytes of the face crop, present only when crops were asked for. */
  crop?: Uint8Array;
}

export interface AnalyzedImage {
  format: ImageFormat;
  width: number;
  height: number;
  /** Main face first: the largest, the more central of two of nearly the same size (geometry.ts `prominence`). */
  faces: AnalyzedFace[];
}

export interface AnalyzeOptions {
  /** Run the anti-spoofing model on each face. */
  liveness?: boolean;
  /** Encode a JPEG crop of each face. */
  crops?: boolean;
  /** Analyse at most this many faces, main face first. With 1, detection skips tiles that cannot change the main face. */
  maxFaces?: number;
  /**
   * The caller is done with the bytes: a pooled analyzer moves them to its worker instead of a copy, and the
   * caller's array is left empty (its ArrayBuffer detached). Only for bytes nothing else reads afterwards.
   */
  handOver?: boolean;
}

/**
 * The vision pipeline behind one small interface (InsightFace's FaceAnalysis): decode, detect, then
 * each model adds its attribute to every face record. Throws VisageError IMAGE_INVALID for bad images.
 */
export interface FaceAnalyzer {
  /** Identifies the embedding model, e.g. `faceplugin-fr_feature@0.0.1`; stored with every embedding. */
  readonly modelId: string;
  readonly embeddingSize: number;
  analyze(image: Uint8Array, options?: AnalyzeOptions): Promise<AnalyzedImage>;
  close(): Promise<void>;
}

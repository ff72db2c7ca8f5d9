/**
 * The face analysis app (after InsightFace's FaceAnalysis): decode, detect, then pass each face record through
 * every other model, each adding its attribute — landmarks, alignment + embedding, pose, quality, liveness.
 * Runs inside a worker thread (worker.ts); pool.ts is its face to the rest of the server.
 */
import { decodeImage } from './decode.js';
import { FaceDetector, type Detection } from './detect.js';
import { alignFace } from './align.js';
import { Embedder, EMBEDDING_SIZE } from './embed.js';
import { prominence, squareAround } from './geometry.js';
import { LandmarkModel } from './landmarks.js';
import { LivenessModel } from './liveness.js';
import { loadModel, type InferenceObserver } from './onnx.js';
import { PoseModel } from './pose.js';
import { measureQuality } from './quality.js';
import { ScaledPhoto } from './raster.js';
import type { AnalyzeOptions, AnalyzedFace, AnalyzedImage } from './types.js';

/** Largest side of a stored face crop. */
const CROP_MAX = 256;

export class FacePipeline {
  readonly modelId: string;
  readonly embeddingSize = EMBEDDING_SIZE;

  private constructor(
    private readonly detector: FaceDetector,
    private readonly landmarks: LandmarkModel,
    private readonly embedder: Embedder,
    private readonly pose: PoseModel,
    private readonly liveness: LivenessModel,
  ) {
    this.modelId = embedder.modelId;
  }

  /** `observe` hears of every model run (for the per-model inference metrics). */
  static async load(modelDir: string, observe?: InferenceObserver): Promise<FacePipeline> {
    const [detect, landmark, feature, pose, liveness] = await Promise.all([
      loadModel(modelDir, 'fr_detect.onnx', observe),
      loadModel(modelDir, 'fr_landmark.onnx', observe),
      loadModel(modelDir, 'fr_feature.onnx', observe),
      loadModel(modelDir, 'fr_pose.onnx', observe),
      loadModel(modelDir, 'fr_liveness.onnx', observe),
    ]);
    return new FacePipeline(
      new FaceDetector(detect),
      new LandmarkModel(landmark),
      new Embedder(feature),
      new PoseModel(pose),
      new LivenessModel(liveness),
    );
  }

  async analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<AnalyzedImage> {
    const { format, raster } = await decodeImage(bytes);
    const photo = new ScaledPhoto(raster);
    const detections = (await this.detector.detect(photo, { mainFaceOnly: options.maxFaces === 1 })).sort((a, b) => prominence(b, raster) - prominence(a, raster));
    const faces: AnalyzedFace[] = [];
    for (const detection of detections.slice(0, options.maxFaces ?? detections.length)) {
      faces.push(await this.analyzeFace(photo, detection, options));
    }
    return { format, width: raster.width, height: raster.height, faces };
  }

  private async analyzeFace(photo: ScaledPhoto, detection: Detection, options: AnalyzeOptions): Promise<AnalyzedFace> {
    // Landmarks, alignment and liveness sample the full photo through cropResize/sampleAffine: the embedding
    // and the liveness score were measured that way. Pose and the stored crop tolerate libvips (ScaledPhoto.crop).
    const image = photo.full;
    // libvips shrinks and encodes the crop on its own thread while the models run on this one.
    const crop = options.crops ? faceCrop(photo, detection) : undefined;
    crop?.catch(() => undefined); // awaited below; a model failing first must not leave it unhandled
    const landmarks = await this.landmarks.locate(image, detection);
    const aligned = alignFace(image, landmarks);
    const embedding = await this.embedder.embed(aligned);
    const pose = await this.pose.estimate(photo, detection);
    const faceSize = Math.min(detection.x2 - detection.x1, detection.y2 - detection.y1);
    const face: AnalyzedFace = {
      rect: { left: detection.x1, top: detection.y1, right: detection.x2, bottom: detection.y2 },
      detectionScore: detection.score,
      landmarks,
      pose,
      quality: measureQuality(aligned, pose, faceSize),
      embedding,
    };
    if (options.liveness) face.liveLogOdds = await this.liveness.liveLogOdds(image, detection);
    if (crop) face.crop = await crop;
    return face;
  }
}

/** The face with some context, square, at most CROP_MAX px: what the API returns as a face image. */
async function faceCrop(photo: ScaledPhoto, detection: Detection): Promise<Uint8Array> {
  const box = squareAround(detection, 1.3);
  const size = Math.max(16, Math.min(CROP_MAX, Math.round(box.w)));
  return photo.cropJpeg(box, size, size);
}

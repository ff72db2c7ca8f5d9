/** Section 1 of api.md: registering, listing, reading and deleting faces and images. */
import { VisageError } from '../errors.js';
import type { FaceAnalyzer } from '../vision/types.js';
import type { LibraryContext } from './context.js';
import { imageIdFor, newFaceToken } from './ids.js';
import { reembedLibrary, type ReembedOutcome } from './reembed.js';
import { RegistrationCommits } from './registration-commits.js';
import type { ModelCoverage } from '../store/store.js';
import { assertRegistrableQuality, DEFAULT_QUALITY_THRESHOLDS, type QualityThresholds } from './quality-gate.js';
import type {
  FaceDetail,
  FaceLibrary,
  FacePage,
  ImageDetail,
  PageRequest,
  RegisteredFace,
  RegisterFaceInput,
} from './types.js';

export class FaceService implements FaceLibrary {
  /** Registrations ready at once are committed together (group commit). */
  private readonly commits: RegistrationCommits;

  constructor(
    private readonly context: LibraryContext,
    private readonly analyzer: FaceAnalyzer,
    private readonly quality: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
    /** Optional biometric duplicate check: a face at least this similar to an enrolled one is refused. */
    duplicateMinCosine?: number,
  ) {
    this.commits = new RegistrationCommits(context, duplicateMinCosine);
  }

  async register(input: RegisterFaceInput): Promise<RegisteredFace> {
    const imageId = imageIdFor(input.imageMd5, input.image);
    // api.md 1.1: one face is registered, the main one (the largest; see vision/geometry.ts prominence).
    const analysis = await this.analyzer.analyze(input.image, { crops: true, maxFaces: 1 });
    const face = analysis.faces[0];
    if (!face) throw new VisageError('FACE_NOT_FOUND');
    assertRegistrableQuality(face, this.quality);
    if (!face.crop) throw new Error('the analyzer returned no crop although crops were requested');
    const crop = face.crop;
    const faceToken = newFaceToken();
    const id = await this.commits.commit({
      image: { imageId, description: input.description, format: analysis.format, bytes: input.image },
      face: {
        faceToken,
        name: input.name,
        gender: input.gender,
        rect: face.rect,
        embedding: face.embedding,
        modelId: this.analyzer.modelId,
        crop,
      },
    });
    return { id, imageId, faceToken, rect: face.rect };
  }

  async list(page: PageRequest): Promise<FacePage> {
    const { total, rows } = await this.context.store.listFaces(page);
    return { total, faces: rows };
  }

  async deleteFace(faceToken: string): Promise<void> {
    const { store, index, writes } = this.context;
    await writes.run(async () => {
      // The image row, imageId, description and original stay (api.md 1.3).
      if (!(await store.deleteFace(faceToken))) throw new VisageError('FACE_TOKEN_NOT_EXIST');
      index.remove(faceToken);
    });
  }

  async deleteImage(imageId: string): Promise<void> {
    const { store, index, writes } = this.context;
    await writes.run(async () => {
      // Faces first, then the image (api.md 1.4); the store does both in one transaction.
      const removed = await store.deleteImage(imageId);
      if (!removed) throw new VisageError('IMAGE_ID_NOT_EXIST');
      for (const faceToken of removed.removedFaceTokens) index.remove(faceToken);
    });
  }

  async getFace(faceToken: string): Promise<FaceDetail> {
    const face = await this.context.store.getFace(faceToken);
    if (!face) throw new VisageError('FACE_TOKEN_NOT_EXIST');
    const { id, imageId, description, name, gender, rect, groupIds, crop } = face;
    return { id, imageId, faceToken, description, name, gender, rect, groupIds, crop };
  }

  async getImage(imageId: string): Promise<ImageDetail> {
    const image = await this.context.store.getImage(imageId);
    if (!image) throw new VisageError('IMAGE_ID_NOT_EXIST');
    return { imageId, format: image.format, bytes: image.bytes, faceTokens: image.faceTokens };
  }

  /**
   * Re-embeds the faces of another model from their originals by the analyzer's model (see reembed.ts). Each
   * face becomes searchable as soon as its new embedding is staged; the store switches once all are done.
   */
  async reembed(onProgress?: (coverage: ModelCoverage) => void, signal?: AbortSignal): Promise<ReembedOutcome> {
    const { store, index, writes } = this.context;
    return reembedLibrary(store, this.analyzer, {
      ...(onProgress ? { onProgress } : {}),
      ...(signal ? { signal } : {}),
      serialize: (work) => writes.run(work),
      onStaged: (faceToken, embedding) =>
        writes.run(async () => {
          const face = await store.getFace(faceToken);
          if (face) index.add(faceToken, embedding, face.groupIds);
        }),
    });
  }

  async wipe(): Promise<void> {
    const { store, index, writes } = this.context;
    await writes.run(async () => {
      await store.wipe(); // groups stay, `default` included
      index.clear();
    });
  }
}

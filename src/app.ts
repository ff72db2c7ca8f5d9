/**
 * Wires the server: store → index → analyzer → services → HTTP. `close()` undoes it in reverse order
 * (stop taking requests, then stop the workers, then close the database).
 */
import type { FastifyInstance } from 'fastify';
import type { VisageConfig } from './config.js';
import { ApiKeys } from './access/api-keys.js';
import { buildServer } from './http/server.js';
import { AuditLog } from './library/audit-log.js';
import { loadVectorIndex } from './index/load-index.js';
import { Metrics } from './metrics.js';
import { readinessProbe } from './readiness.js';
import { ChangeFollower } from './library/follow-changes.js';
import { startChangePruning } from './library/prune-changes.js';
import { createLibrary } from './library/library.js';
import { checkStoreFiles } from './library/file-check.js';
import type { FaceService } from './library/faces.js';
import type { ReembedOutcome } from './library/reembed.js';
import { loadScoreScale } from './recognition/calibration.js';
import { loadLivenessScale } from './recognition/liveness-scale.js';
import { RecognitionService } from './recognition/recognition.js';
import { openConfiguredStore } from './store/open-store.js';
import { createFaceAnalyzer } from './vision/pool.js';

export interface VisageApp {
  server: FastifyInstance;
  /** Faces loaded into the search index at start, and those skipped (embedded by another model). */
  indexed: { loaded: number; skippedOtherModel: number };
  /** Present when faces of another model were found: their re-embedding, running in the background. */
  reembedding?: Promise<ReembedOutcome>;
  /** Present for a store that keeps files: the start-up file check, running in the background (never rejects). */
  fileCheck?: Promise<void>;
  close(): Promise<void>;
}

export async function createApp(config: VisageConfig): Promise<VisageApp> {
  // The files-against-rows check runs once the server is ready (below): at a million faces it costs seconds.
  const store = await openConfiguredStore(config, { checkConsistency: false });
  const cleanups: Array<() => Promise<void>> = [() => store.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const metrics = new Metrics();
    const analyzer = await createFaceAnalyzer({
      modelDir: config.modelDir,
      threads: config.threads,
      nice: config.visionNice,
      maxQueue: config.maxPendingAnalyses,
      onAnalyzed: metrics.observeAnalysis,
    });
    cleanups.push(() => analyzer.close());
    metrics.watch({
      queueDepth: () => analyzer.queueDepth,
      liveThreads: () => analyzer.liveThreads,
      faceCount: async () => (await store.listFaces({ offset: 0, size: 1 })).total,
      groupCount: async () => (await store.listGroups()).length,
    });

    // A complete set re-embedded by `visage reembed` (or an interrupted run) becomes current now.
    await store.promoteEmbeddings(analyzer.modelId);
    // A shared store: note where the change log stands before loading, follow it from there after.
    const loadedAt = await store.changeFeed?.head();
    const { index, loaded, skippedOtherModel } = await loadVectorIndex(store, analyzer);
    cleanups.push(() => index.close());
    const scale = loadScoreScale();
    const { faces, groups, context } = createLibrary({
      store,
      index,
      analyzer,
      quality: config.quality,
      ...(config.duplicateThreshold === undefined ? {} : { duplicateMinCosine: scale.toCosine(config.duplicateThreshold) }),
    });
    if (store.changeFeed && loadedAt !== undefined) {
      const follower = await ChangeFollower.start({
        feed: store.changeFeed,
        context,
        model: analyzer,
        after: loadedAt,
        pollIntervalMs: config.changePollMs,
      });
      cleanups.push(() => follower.close());
      if (config.changeRetentionMs !== undefined) {
        const pruning = startChangePruning({ feed: store.changeFeed, retainMs: config.changeRetentionMs });
        cleanups.push(() => pruning.close());
      }
    }
    const recognition = new RecognitionService(store, index, analyzer, scale, {
      scale: loadLivenessScale(),
      threshold: config.livenessThreshold,
    });
    const server = buildServer({
      faces,
      groups,
      recognition,
      keys: new ApiKeys(store),
      audit: new AuditLog(store),
      security: config.security,
      metrics,
      readiness: readinessProbe(store, analyzer),
      logger: { level: config.logLevel },
      maxPendingAnalyses: config.maxPendingAnalyses,
      maxPendingBytes: config.maxPendingBytes,
    });
    cleanups.push(() => server.close());
    await server.ready();
    // In the background; only its short last part waits in the write queue (see file-check.ts).
    const fileCheck = store.checkConsistency
      ? checkStoreFiles(context).catch((error: unknown) => server.log.error({ err: error }, 'start-up consistency check failed'))
      : undefined;
    if (fileCheck) cleanups.push(() => fileCheck);
    const app: VisageApp = { server, indexed: { loaded, skippedOtherModel }, close: closeAll, ...(fileCheck ? { fileCheck } : {}) };
    if (skippedOtherModel > 0) {
      const stop = new AbortController();
      const reembedding = reembedInBackground(faces, server, analyzer.modelId, stop.signal);
      app.reembedding = reembedding;
      // Closing stops the job after the face in hand, before the workers and the store go.
      cleanups.push(async () => {
        stop.abort();
        await reembedding;
      });
    }
    return app;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Faces embedded by an older model are not searchable by this one: re-embed them from their originals while
 * the server answers (each becomes searchable as it is done), logging the progress every 5 %.
 */
function reembedInBackground(faces: FaceService, server: FastifyInstance, modelId: string, signal: AbortSignal): Promise<ReembedOutcome> {
  let logged = -1;
  server.log.info({ modelId }, 'faces of another model found: re-embedding them from their originals');
  return faces
    .reembed(({ faces: total, covered }) => {
      const percent = Math.floor((100 * covered) / Math.max(1, total));
      if (percent >= logged + 5 || covered === total) {
        logged = percent;
        server.log.info({ reembedded: covered, of: total }, `re-embedding: ${percent} %`);
      }
    }, signal)
    .then(
      (outcome) => {
        server.log.info({ staged: outcome.staged, failed: outcome.failed, switched: outcome.switched }, 're-embedding finished');
        return outcome;
      },
      (error: unknown) => {
        // Expected when the server closes mid-run; the staged embeddings stay and the next start resumes.
        server.log.warn({ err: error }, 're-embedding stopped');
        return { modelId, staged: 0, failed: [], switched: false };
      },
    );
}

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
import { createLibrary } from './library/library.js';
import { loadScoreScale } from './recognition/calibration.js';
import { loadLivenessScale } from './recognition/liveness-scale.js';
import { RecognitionService } from './recognition/recognition.js';
import { openConfiguredStore } from './store/open-store.js';
import { createFaceAnalyzer } from './vision/pool.js';

export interface VisageApp {
  server: FastifyInstance;
  /** Faces loaded into the search index at start, and those skipped (embedded by another model). */
  indexed: { loaded: number; skippedOtherModel: number };
  close(): Promise<void>;
}

export async function createApp(config: VisageConfig): Promise<VisageApp> {
  const store = await openConfiguredStore(config);
  const cleanups: Array<() => Promise<void>> = [() => store.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const analyzer = await createFaceAnalyzer({
      modelDir: config.modelDir,
      threads: config.threads,
      maxQueue: config.maxPendingAnalyses,
    });
    cleanups.push(() => analyzer.close());

    const { index, loaded, skippedOtherModel } = await loadVectorIndex(store, analyzer);
    const scale = loadScoreScale();
    const { faces, groups } = createLibrary({
      store,
      index,
      analyzer,
      quality: config.quality,
      ...(config.duplicateThreshold === undefined ? {} : { duplicateMinCosine: scale.toCosine(config.duplicateThreshold) }),
    });
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
      logger: { level: config.logLevel },
      maxPendingAnalyses: config.maxPendingAnalyses,
    });
    cleanups.push(() => server.close());
    await server.ready();
    return { server, indexed: { loaded, skippedOtherModel }, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Readiness (`/readyz`): can this instance serve requests now? The models are loaded (every worker loads them
 * before the server listens; a worker that dies is replaced) and the store answers a query in time.
 * No image is analysed: under load the probe would queue behind real requests and take the instance out of
 * service exactly when it is busy.
 */
import { DEFAULT_GROUP_ID, type Store } from './store/store.js';
import type { PooledFaceAnalyzer } from './vision/pool.js';

export interface CheckResult {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: { models: CheckResult; store: CheckResult };
}

export type ReadinessProbe = () => Promise<Readiness>;

/** A store that has not answered by then counts as unreachable. */
const STORE_TIMEOUT_MS = 2000;

function withTimeout<Value>(promise: Promise<Value>, milliseconds: number): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${milliseconds} ms`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function checkStore(store: Store): Promise<CheckResult> {
  try {
    const group = await withTimeout(store.getGroup(DEFAULT_GROUP_ID), STORE_TIMEOUT_MS);
    return group === undefined ? { ok: false, detail: 'the default group is missing' } : { ok: true, detail: 'reachable' };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

function checkModels(analyzer: PooledFaceAnalyzer): CheckResult {
  const threads = analyzer.liveThreads;
  return { ok: threads > 0, detail: `${analyzer.modelId} loaded in ${threads} worker thread${threads === 1 ? '' : 's'}` };
}

export function readinessProbe(store: Store, analyzer: PooledFaceAnalyzer): ReadinessProbe {
  return async () => {
    const checks = { models: checkModels(analyzer), store: await checkStore(store) };
    return { ready: checks.models.ok && checks.store.ok, checks };
  };
}

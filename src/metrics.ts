/**
 * The server's Prometheus metrics (prom-client), one registry per app so several apps in one process (the
 * tests) do not collide. HTTP latency is observed by the metrics plugin; inference times come from the
 * worker threads through the pool (vision/pool.ts `onAnalyzed`); gauges are read when Prometheus scrapes.
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskTimings } from './vision/worker.js';

/** Seconds; from a 1 ms tile detection to multi-second requests behind a full queue. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the gauges read at scrape time. */
export interface MetricSources {
  queueDepth(): number;
  liveThreads(): number;
  faceCount(): Promise<number>;
  groupCount(): Promise<number>;
}

export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'visage_http_request_duration_seconds',
    help: 'HTTP request latency by route template (unmatched URLs count as route "unmatched")',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly modelDuration = new Histogram({
    name: 'visage_model_inference_seconds',
    help: 'Time of one ONNX model run, measured in the inference worker',
    labelNames: ['model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly analysisDuration = new Histogram({
    name: 'visage_image_analysis_seconds',
    help: 'Time to analyse one image in a worker (decode, detection, every face), without the queue wait',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Feeds the inference histograms; give it to the analyzer pool as `onAnalyzed`. */
  readonly observeAnalysis = (timings: TaskTimings): void => {
    this.analysisDuration.observe(timings.analysisSeconds);
    for (const run of timings.models) this.modelDuration.observe({ model: run.model }, run.seconds);
  };

  /** Registers the gauges once the pool and the store exist. */
  watch(sources: MetricSources): void {
    const registers = [this.registry];
    new Gauge({
      name: 'visage_inference_queue_depth',
      help: 'Image analyses waiting for a free inference worker',
      registers,
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'visage_inference_threads',
      help: 'Inference worker threads alive',
      registers,
      collect() {
        this.set(sources.liveThreads());
      },
    });
    new Gauge({
      name: 'visage_library_faces',
      help: 'Faces registered in the library',
      registers,
      async collect() {
        this.set(await sources.faceCount());
      },
    });
    new Gauge({
      name: 'visage_library_groups',
      help: 'Face groups, default included',
      registers,
      async collect() {
        this.set(await sources.groupCount());
      },
    });
  }
}

/**
 * Server configuration from the environment, validated once at start-up so a typo fails loudly
 * (naming the variable) instead of surfacing as odd behaviour later.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseEncryptionKey } from './store/at-rest-cipher.js';
import { DEFAULT_QUALITY_THRESHOLDS, type QualityThresholds } from './library/quality-gate.js';
import { DEFAULT_LIVENESS_THRESHOLD } from './recognition/liveness-scale.js';
import { isPostgresUrl } from './store/location.js';

export interface VisageConfig {
  port: number;
  host: string;
  /** Holds the SQLite database and the image files (when no databaseUrl is set). */
  dataDir: string;
  /** postgres://… : the library is in PostgreSQL, shared by every replica; unset: SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** PostgreSQL connections per replica. */
  databasePoolSize: number;
  /** Safety poll of the change log (ms), besides LISTEN/NOTIFY; PostgreSQL only. */
  changePollMs: number;
  /** Changes older than this are pruned from the change log (ms); undefined = never. PostgreSQL only. */
  changeRetentionMs: number | undefined;
  /** Holds the .onnx models. */
  modelDir: string;
  /** Inference worker threads. */
  threads: number;
  /** Linux nice of the inference threads (0: the event loop's own priority). */
  visionNice: number;
  /** Total number of groups, `default` included (api.md: 64). */
  groupLimit: number;
  /** Image-analysing requests in flight before new ones get 503. */
  maxPendingAnalyses: number;
  /** Bytes of those requests' bodies (by Content-Length) before new ones get 503. */
  maxPendingBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** On SIGTERM/SIGINT, in-flight requests get this long to finish before the process exits anyway (ms). */
  shutdownTimeoutMs: number;
  quality: QualityThresholds;
  /** livenessScore below this → `liveness: false` in compare and search. */
  livenessThreshold: number;
  /** Registration refuses a face scoring at least this against an enrolled one (FACE_ALREADY_EXIST); undefined = off. */
  duplicateThreshold: number | undefined;
  security: SecurityOptions;
  /** AES-256 key for encryption at rest (VISAGE_ENCRYPTION_KEY); absent = stored in plaintext. */
  encryptionKey?: Buffer;
}

/** Access control and browser-facing protections; all off by default, like the original device. */
export interface SecurityOptions {
  /** API keys required (VISAGE_AUTH=on). */
  auth: boolean;
  /** Requests per minute per key (or client address); 0 = no limit. */
  rateLimitPerMinute: number;
  /** Origins allowed by CORS; empty = CORS off. */
  corsOrigins: readonly string[];
}

/**
 * glibc allocator settings every launcher of the server sets: `npm start`, the Docker image and `visage`'s
 * first line (a test keeps the three in step with these). Freed buffers under 16 MB (a 1080p photo's decoded
 * pixels are 6 MB) are reused instead of unmapped, so they are not faulted in afresh each time; larger ones
 * (a 4096×2160 photo's 26 MB) go back to the system when freed instead of staying in a thread's arena
 * (README, Configuration).
 */
export const ALLOCATOR_ENV = { MALLOC_MMAP_THRESHOLD_: '16777216', MALLOC_TRIM_THRESHOLD_: '536870912' } as const;

/**
 * The node flag every launcher of the server passes beside ALLOCATOR_ENV: a 64 MB old-generation floor for the
 * event loop's heap, as the vision pool gives its workers' heaps (pool.ts). Request bodies and photos are
 * ArrayBuffers V8 counts against that limit, so with the default the loop's heap (~30 MB, at 1 M faces too)
 * ran a full mark-compact every ~0.5 s under 2-client registration, every ~0.25 s under the overload flood;
 * with the floor, one every ~4.6 s. V8 reads it only when it makes the heap, and NODE_OPTIONS refuses it.
 */
export const MAIN_HEAP_FLAG = '--initial-old-space-size=64';

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Unset and empty variables take the default. */
const orDefault = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((text) => (text === undefined || text.trim() === '' ? fallback : text.trim()));

const integerVar = (fallback: number, min: number, max: number) =>
  orDefault(String(fallback))
    .pipe(z.string().regex(/^\d+$/, 'expected a whole number'))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const numberVar = (fallback: number) =>
  orDefault(String(fallback))
    .pipe(z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number'))
    .transform(Number);

const quality = DEFAULT_QUALITY_THRESHOLDS;

/** Never echoed in an error message. */
const SECRET_VARIABLES = new Set(['VISAGE_ENCRYPTION_KEY', 'VISAGE_DATABASE_URL']);

const encryptionKeyVar = () =>
  orDefault('').transform((text, context): Buffer | undefined => {
    if (text === '') return undefined;
    const key = parseEncryptionKey(text);
    if (key === undefined) {
      context.addIssue({ code: 'custom', message: 'expected 64 hex digits or the base64 of 32 bytes (e.g. `openssl rand -hex 32`)' });
      return z.NEVER;
    }
    return key;
  });

const DURATION_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `off`, or a whole number with a unit: `90s`, `30m`, `24h`, `7d`; in ms. */
const durationOrOffVar = (fallback: string) =>
  orDefault(fallback)
    .pipe(z.union([z.literal('off'), z.string().regex(/^\d+[smhd]$/, 'expected off or a duration such as 90s, 30m, 24h or 7d')]))
    .transform((text) =>
      text === 'off' ? undefined : Number(text.slice(0, -1)) * DURATION_UNIT_MS[text.at(-1) as keyof typeof DURATION_UNIT_MS],
    );

/** Comma-separated list; blanks dropped. */
const listVar = () => orDefault('').transform((text) => text.split(',').map((item) => item.trim()).filter((item) => item !== ''));

const environmentSchema = z.object({
  PORT: integerVar(8080, 0, 65535),
  HOST: orDefault('0.0.0.0'),
  VISAGE_DATA: orDefault('./data'),
  VISAGE_DATABASE_URL: orDefault('').refine((text) => text === '' || isPostgresUrl(text), {
    message: 'expected postgres://user:password@host:port/database',
  }),
  VISAGE_DATABASE_POOL: integerVar(10, 1, 1000),
  VISAGE_CHANGE_POLL_MS: integerVar(5000, 100, 3_600_000),
  VISAGE_CHANGE_RETENTION: durationOrOffVar('24h'),
  VISAGE_MODELS: orDefault('./models'),
  VISAGE_THREADS: integerVar(availableParallelism(), 1, 256),
  VISAGE_VISION_NICE: integerVar(0, 0, 19),
  VISAGE_GROUP_LIMIT: integerVar(64, 1, 100_000),
  VISAGE_MAX_PENDING: integerVar(64, 1, 100_000),
  VISAGE_MAX_PENDING_MB: integerVar(64, 1, 1_000_000),
  VISAGE_LOG_LEVEL: orDefault('info').pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  VISAGE_ENCRYPTION_KEY: encryptionKeyVar(),
  VISAGE_SHUTDOWN_TIMEOUT: integerVar(10, 1, 3600),
  VISAGE_AUTH: orDefault('off').pipe(z.enum(['on', 'off'])),
  VISAGE_RATE_LIMIT: integerVar(0, 0, 1_000_000),
  VISAGE_CORS_ORIGINS: listVar(),
  VISAGE_QUALITY_MAX_YAW: numberVar(quality.maxYaw),
  VISAGE_QUALITY_MAX_PITCH: numberVar(quality.maxPitch),
  VISAGE_QUALITY_MAX_BLURNESS: numberVar(quality.maxBlurness),
  VISAGE_QUALITY_MIN_BRIGHTNESS: numberVar(quality.minBrightness),
  VISAGE_QUALITY_MAX_BRIGHTNESS: numberVar(quality.maxBrightness),
  VISAGE_QUALITY_MIN_CONTRAST: numberVar(quality.minContrast),
  VISAGE_QUALITY_MIN_FACE_SIZE: numberVar(quality.minFaceSize),
  VISAGE_LIVENESS_THRESHOLD: numberVar(DEFAULT_LIVENESS_THRESHOLD).pipe(z.number().min(0).max(100)),
  VISAGE_DUPLICATE_THRESHOLD: orDefault('off').pipe(
    z.union([z.literal('off'), z.string().regex(/^\d+(\.\d+)?$/, 'expected off or a score 0..100').transform(Number).pipe(z.number().max(100))]),
  ),
});

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): VisageConfig {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '?');
        // A database URL may carry a password, a key is a secret: never echo them.
        const shown = SECRET_VARIABLES.has(variable) ? '(value hidden)' : JSON.stringify(environment[variable] ?? '');
        return `${variable}=${shown}: ${issue.message}`;
      }),
    );
  }
  const env = parsed.data;
  return {
    port: env.PORT,
    host: env.HOST,
    dataDir: resolve(env.VISAGE_DATA),
    databaseUrl: env.VISAGE_DATABASE_URL === '' ? undefined : env.VISAGE_DATABASE_URL,
    databasePoolSize: env.VISAGE_DATABASE_POOL,
    changePollMs: env.VISAGE_CHANGE_POLL_MS,
    changeRetentionMs: env.VISAGE_CHANGE_RETENTION,
    modelDir: resolve(env.VISAGE_MODELS),
    threads: env.VISAGE_THREADS,
    visionNice: env.VISAGE_VISION_NICE,
    groupLimit: env.VISAGE_GROUP_LIMIT,
    maxPendingAnalyses: env.VISAGE_MAX_PENDING,
    maxPendingBytes: env.VISAGE_MAX_PENDING_MB * 1024 * 1024,
    logLevel: env.VISAGE_LOG_LEVEL,
    shutdownTimeoutMs: env.VISAGE_SHUTDOWN_TIMEOUT * 1000,
    quality: {
      maxYaw: env.VISAGE_QUALITY_MAX_YAW,
      maxPitch: env.VISAGE_QUALITY_MAX_PITCH,
      maxBlurness: env.VISAGE_QUALITY_MAX_BLURNESS,
      minBrightness: env.VISAGE_QUALITY_MIN_BRIGHTNESS,
      maxBrightness: env.VISAGE_QUALITY_MAX_BRIGHTNESS,
      minContrast: env.VISAGE_QUALITY_MIN_CONTRAST,
      minFaceSize: env.VISAGE_QUALITY_MIN_FACE_SIZE,
    },
    duplicateThreshold: env.VISAGE_DUPLICATE_THRESHOLD === 'off' ? undefined : env.VISAGE_DUPLICATE_THRESHOLD,
    security: {
      auth: env.VISAGE_AUTH === 'on',
      rateLimitPerMinute: env.VISAGE_RATE_LIMIT,
      corsOrigins: env.VISAGE_CORS_ORIGINS,
    },
    livenessThreshold: env.VISAGE_LIVENESS_THRESHOLD,
    ...(env.VISAGE_ENCRYPTION_KEY === undefined ? {} : { encryptionKey: env.VISAGE_ENCRYPTION_KEY }),
  };
}

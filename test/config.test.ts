import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { DEFAULT_QUALITY_THRESHOLDS } from '../src/library/quality-gate.js';

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.deepEqual(config, {
      port: 8080,
      host: '0.0.0.0',
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      databasePoolSize: 10,
      changePollMs: 5000,
      changeRetentionMs: 24 * 3_600_000,
      modelDir: resolve('./models'),
      threads: availableParallelism(),
      visionNice: 0,
      groupLimit: 64,
      maxPendingAnalyses: 64,
      maxPendingBytes: 64 * 1024 * 1024,
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      quality: { ...DEFAULT_QUALITY_THRESHOLDS },
      duplicateThreshold: undefined,
      security: { auth: false, rateLimitPerMinute: 0, corsOrigins: [] },
      livenessThreshold: 50,
    });
  });

  it('reads every variable; empty means default', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      VISAGE_DATA: '/srv/visage',
      VISAGE_MODELS: '',
      VISAGE_THREADS: '3',
      VISAGE_VISION_NICE: '5',
      VISAGE_GROUP_LIMIT: '10',
      VISAGE_MAX_PENDING: '5',
      VISAGE_MAX_PENDING_MB: '16',
      VISAGE_LOG_LEVEL: 'warn',
      VISAGE_SHUTDOWN_TIMEOUT: '25',
      VISAGE_QUALITY_MAX_YAW: '30.5',
      VISAGE_QUALITY_MIN_FACE_SIZE: '64',
      VISAGE_AUTH: 'on',
      VISAGE_RATE_LIMIT: '600',
      VISAGE_CORS_ORIGINS: ' https://a.example, https://b.example ,',
      VISAGE_LIVENESS_THRESHOLD: '62.5',
      VISAGE_DUPLICATE_THRESHOLD: '92.5',
      VISAGE_DATABASE_URL: 'postgres://visage:secret@db.example:5432/visage',
      VISAGE_DATABASE_POOL: '20',
      VISAGE_CHANGE_POLL_MS: '1000',
      VISAGE_CHANGE_RETENTION: '90m',
    });
    assert.equal(config.duplicateThreshold, 92.5);
    assert.equal(config.port, 9000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, '/srv/visage');
    assert.equal(config.modelDir, resolve('./models'));
    assert.equal(config.threads, 3);
    assert.equal(config.visionNice, 5);
    assert.equal(config.groupLimit, 10);
    assert.equal(config.maxPendingAnalyses, 5);
    assert.equal(config.maxPendingBytes, 16 * 1024 * 1024);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.shutdownTimeoutMs, 25_000);
    assert.equal(config.quality.maxYaw, 30.5);
    assert.equal(config.quality.minFaceSize, 64);
    assert.deepEqual(config.security, { auth: true, rateLimitPerMinute: 600, corsOrigins: ['https://a.example', 'https://b.example'] });
    assert.equal(config.livenessThreshold, 62.5);
    assert.equal(config.encryptionKey, undefined);
    const hexKey = 'ab'.repeat(32);
    assert.deepEqual(loadConfig({ VISAGE_ENCRYPTION_KEY: hexKey }).encryptionKey, Buffer.from(hexKey, 'hex'));
    const base64Key = Buffer.alloc(32, 7).toString('base64');
    assert.deepEqual(loadConfig({ VISAGE_ENCRYPTION_KEY: base64Key }).encryptionKey, Buffer.alloc(32, 7));
    assert.equal(config.databaseUrl, 'postgres://visage:secret@db.example:5432/visage');
    assert.equal(config.databasePoolSize, 20);
    assert.equal(config.changePollMs, 1000);
    assert.equal(config.changeRetentionMs, 90 * 60_000);
    assert.equal(loadConfig({ VISAGE_CHANGE_RETENTION: '7d' }).changeRetentionMs, 7 * 86_400_000);
    assert.equal(loadConfig({ VISAGE_CHANGE_RETENTION: 'off' }).changeRetentionMs, undefined);
  });

  it('names every bad variable in one start-up error', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: '80a',
          VISAGE_THREADS: '0',
          VISAGE_LOG_LEVEL: 'loud',
          VISAGE_QUALITY_MAX_BLURNESS: 'high',
          VISAGE_AUTH: 'yes',
          VISAGE_LIVENESS_THRESHOLD: '101',
          VISAGE_ENCRYPTION_KEY: 'hunter2-secret',
          VISAGE_DUPLICATE_THRESHOLD: '101',
          VISAGE_DATABASE_URL: 'mysql://db/visage',
          VISAGE_CHANGE_RETENTION: '24',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const variables = ['PORT', 'VISAGE_THREADS', 'VISAGE_LOG_LEVEL', 'VISAGE_QUALITY_MAX_BLURNESS', 'VISAGE_AUTH'];
        for (const variable of [...variables, 'VISAGE_LIVENESS_THRESHOLD', 'VISAGE_ENCRYPTION_KEY', 'VISAGE_DUPLICATE_THRESHOLD', 'VISAGE_DATABASE_URL', 'VISAGE_CHANGE_RETENTION']) {
          assert.match(error.message, new RegExp(`${variable}=`));
        }
        // A key is never echoed, not even a malformed one.
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });
});

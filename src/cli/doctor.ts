/**
 * `visage doctor`: checks what the server needs before it starts — the configuration, every model (present,
 * matching its sha256 pin in src/vision/models.json, loadable by onnxruntime), and the store (reachable,
 * schema current, counts, embeddings of the current model, files matching rows) — and prints one OK / WARN /
 * FAIL line each. Read-only: it never migrates, sweeps or writes. Exit code 1 when anything FAILs.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { ALLOCATOR_ENV, ConfigError, loadConfig, MAIN_HEAP_FLAG, type VisageConfig } from '../config.js';
import { inspectStoreSchema, openConfiguredStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { EMBEDDING_MODEL_ID } from '../vision/embed.js';
import { loadModel, MODEL_FILES } from '../vision/onnx.js';

type Status = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  status: Status;
  subject: string;
  detail: string;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check the configuration, the models and the store; exit code 1 if anything fails')
    .option('--json', 'print the checks as JSON', false)
    .action(async (options: { json: boolean }) => {
      const checks = await runChecks(process.env);
      if (options.json) console.log(JSON.stringify(checks, null, 2));
      else for (const check of checks) console.log(`${check.status.padEnd(4)}  ${check.subject.padEnd(22)}  ${check.detail}`);
      if (checks.some((check) => check.status === 'FAIL')) process.exitCode = 1;
    });
}

export async function runChecks(environment: NodeJS.ProcessEnv, nodeFlags: readonly string[] = process.execArgv): Promise<Check[]> {
  let config: VisageConfig;
  try {
    config = loadConfig(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [{ status: 'FAIL', subject: 'configuration', detail: error.message.replace(/^Invalid configuration:\s*/, '').replace(/\n\s*/g, '; ') }];
  }
  return [...checkConfig(config), checkAllocator(environment), checkHeapFloor(nodeFlags), ...(await checkModels(config)), ...(await checkStore(config))];
}

function checkConfig(config: VisageConfig): Check[] {
  const checks: Check[] = [
    {
      status: 'OK',
      subject: 'configuration',
      detail:
        `listen ${config.host}:${config.port}, data ${config.dataDir}, models ${config.modelDir}, ${config.threads} worker(s), ` +
        `group limit ${config.groupLimit}, queue ${config.maxPendingAnalyses} requests or ${config.maxPendingBytes / (1024 * 1024)} MB of bodies, auth ${config.security.auth ? 'on' : 'off'}`,
    },
  ];
  const cores = availableParallelism();
  if (config.threads > cores) {
    checks.push({ status: 'WARN', subject: 'VISAGE_THREADS', detail: `${config.threads} workers on ${cores} core(s): they will contend` });
  }
  return checks;
}

/** Whether this process started with the allocator settings (glibc reads them only at start). */
function checkAllocator(environment: NodeJS.ProcessEnv): Check {
  const settings = Object.entries(ALLOCATOR_ENV).map(([name, value]) => `${name}=${value}`).join(' ');
  const unset = Object.entries(ALLOCATOR_ENV).filter(([name, value]) => environment[name] !== value);
  if (unset.length === 0) return { status: 'OK', subject: 'allocator', detail: settings };
  return {
    status: 'WARN',
    subject: 'allocator',
    detail:
      `${unset.map(([name]) => name).join(', ')} not as recommended in this process: a server started the same way decodes ` +
      `photos several times slower; start it with \`visage serve\`, \`npm start\` or the Docker image, or set ${settings}`,
  };
}

/** Whether this process started with the event loop's heap floor (V8 reads it only when it makes the heap). */
function checkHeapFloor(nodeFlags: readonly string[]): Check {
  if (nodeFlags.includes(MAIN_HEAP_FLAG)) return { status: 'OK', subject: 'heap floor', detail: MAIN_HEAP_FLAG };
  return {
    status: 'WARN',
    subject: 'heap floor',
    detail:
      `node was started without ${MAIN_HEAP_FLAG}: a server started the same way runs a full collection of its event loop's heap ` +
      `every ~0.5 s under load; start it with \`visage serve\`, \`npm start\` or the Docker image, or pass the flag to node`,
  };
}

async function checkModels(config: VisageConfig): Promise<Check[]> {
  const checks: Check[] = [];
  for (const file of MODEL_FILES) {
    try {
      await loadModel(config.modelDir, file); // reads, checks the sha256 pin, opens an onnxruntime session
      checks.push({ status: 'OK', subject: `model ${file}`, detail: 'present, sha256 as pinned, loads' });
    } catch (error) {
      checks.push({ status: 'FAIL', subject: `model ${file}`, detail: message(error) });
    }
  }
  return checks;
}

async function checkStore(config: VisageConfig): Promise<Check[]> {
  let inspected;
  try {
    inspected = await inspectStoreSchema(config);
  } catch (error) {
    return [{ status: 'FAIL', subject: 'store', detail: `cannot read the store: ${message(error)}` }];
  }
  const { location, schema } = inspected;
  if (schema === undefined) {
    const writable = await access(config.dataDir, constants.W_OK).then(() => true, (error: NodeJS.ErrnoException) => error.code === 'ENOENT');
    return [
      writable
        ? { status: 'OK', subject: 'store', detail: `none yet at ${location}: the first start creates it` }
        : { status: 'FAIL', subject: 'store', detail: `${config.dataDir} is not writable` },
    ];
  }
  const checks: Check[] = [];
  if (schema.applied > schema.latest) {
    return [{ status: 'FAIL', subject: 'store schema', detail: `version ${schema.applied} at ${location} is newer than this build (${schema.latest})` }];
  }
  checks.push(
    schema.applied === schema.latest
      ? { status: 'OK', subject: 'store schema', detail: `version ${schema.applied}, current (${location})` }
      : { status: 'WARN', subject: 'store schema', detail: `version ${schema.applied} of ${schema.latest}: the next start migrates it (${location})` },
  );
  if (schema.applied < schema.latest) return checks; // opening would migrate it; doctor changes nothing

  let store: Store;
  try {
    store = await openConfiguredStore(config, { checkConsistency: false });
  } catch (error) {
    return [...checks, { status: 'FAIL', subject: 'store', detail: `cannot open: ${message(error)}` }];
  }
  try {
    checks.push(...(await checkContents(store, config)));
  } finally {
    await store.close();
  }
  return checks;
}

async function checkContents(store: Store, config: VisageConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const groups = await store.listGroups();
  let images = 0;
  for await (const _imageId of store.streamImageIds()) images++;
  const byModel = new Map<string, number>();
  for await (const vector of store.streamVectors()) byModel.set(vector.modelId, (byModel.get(vector.modelId) ?? 0) + 1);
  const faces = [...byModel.values()].reduce((sum, count) => sum + count, 0);
  checks.push({ status: 'OK', subject: 'store contents', detail: `${groups.length} group(s), ${images} image(s), ${faces} face(s)` });

  const otherModels = [...byModel].filter(([modelId]) => modelId !== EMBEDDING_MODEL_ID);
  checks.push(
    otherModels.length === 0
      ? { status: 'OK', subject: 'store embeddings', detail: `all by ${EMBEDDING_MODEL_ID}, the current model` }
      : {
          status: 'WARN',
          subject: 'store embeddings',
          detail: `${otherModels.map(([id, count]) => `${count} by ${id}`).join(', ')}: not searchable until re-enrolled with ${EMBEDDING_MODEL_ID}`,
        },
  );

  const files = await store.checkFiles();
  if (files.missingFiles > 0) {
    const stray = files.unreferencedFiles > 0 ? `, and ${files.unreferencedFiles} file(s) no row references` : '';
    checks.push({ status: 'FAIL', subject: 'store files', detail: `${files.missingFiles} image file(s) referenced by rows are missing${stray}` });
  } else if (files.unreferencedFiles > 0) {
    checks.push({ status: 'WARN', subject: 'store files', detail: `${files.unreferencedFiles} file(s) no row references (left by a crash, or in flight); the next start removes them` });
  } else {
    checks.push({ status: 'OK', subject: 'store files', detail: 'every row has its file, no stray files' });
  }

  if (config.security.auth) {
    const active = (await store.listApiKeys()).filter((key) => key.revokedAt === undefined).length;
    checks.push(
      active > 0
        ? { status: 'OK', subject: 'API keys', detail: `${active} active key(s)` }
        : { status: 'FAIL', subject: 'API keys', detail: 'VISAGE_AUTH=on but no active key: every request is refused (visage keys create)' },
    );
  }
  return checks;
}

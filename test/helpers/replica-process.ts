/**
 * A real Visage server in a child process (`src/main.ts`), as a replica of a deployment: its own
 * port, its own in-memory index, the store named by VISAGE_DATABASE_URL. Tests talk to it over HTTP
 * and may SIGKILL it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Envelope } from '../../src/http/envelope.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ReplicaProcess {
  baseUrl: string;
  child: ChildProcess;
  call<Data extends object = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Envelope<Data>>;
  /** SIGKILL: no shutdown handler runs, open transactions are cut off mid-way. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function startReplica(env: Record<string, string>): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', VISAGE_THREADS: '1', VISAGE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start within 120 s:\n${output}`)), 120_000);
    const scan = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', scan);
    child.stderr!.on('data', scan);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code} before listening:\n${output}`));
    });
  });

  const call = async <Data extends object>(method: string, path: string, body?: unknown): Promise<Envelope<Data>> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return (await response.json()) as Envelope<Data>;
  };

  return {
    baseUrl,
    child,
    call,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Polls `check` until it returns a value other than undefined. The deadline is generous: it is there to
 * end a broken test, not to measure (the replication lag is measured by `npm run bench:replication`).
 */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const started = performance.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

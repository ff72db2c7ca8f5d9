/**
 * A real Visage server in a child process (`visage serve`), as a replica of a deployment: its own port,
 * its own in-memory index, the store named by VISAGE_DATABASE_URL. Tests talk to it over HTTP and may
 * SIGKILL it.
 */
import type { Envelope } from '../../src/http/envelope.js';
import { serveVisage } from './cli.js';

export interface ReplicaProcess {
  baseUrl: string;
  call<Data extends object = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Envelope<Data>>;
  /** SIGKILL: no shutdown handler runs, open transactions are cut off mid-way. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function startReplica(env: Record<string, string>): Promise<ReplicaProcess> {
  const server = await serveVisage(env);
  const exited = new Promise<void>((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) resolve();
    else server.child.once('close', () => resolve());
  });
  const running = () => server.child.exitCode === null && server.child.signalCode === null;

  const call = async <Data extends object>(method: string, path: string, body?: unknown): Promise<Envelope<Data>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return (await response.json()) as Envelope<Data>;
  };

  return {
    baseUrl: server.url,
    call,
    async kill() {
      if (running()) server.child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) await server.stop();
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

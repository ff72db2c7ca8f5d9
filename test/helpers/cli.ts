/**
 * Runs the real `visage` executable (bin/visage.mjs) as a child process, as a user would: the file itself, so its
 * `#!/usr/bin/env -S …` line runs (it sets the allocator variables, which `node bin/visage.mjs` would skip).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VISAGE_BIN = fileURLToPath(new URL('../../bin/visage.mjs', import.meta.url));

export interface CliRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Quiet, single-threaded defaults for tests; `env` overrides them. */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, VISAGE_LOG_LEVEL: 'silent', VISAGE_THREADS: '1', ...env };
}

export function runVisage(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(VISAGE_BIN, args, { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

export interface ServingVisage {
  child: ChildProcessWithoutNullStreams;
  /** http://host:port the server listens on. */
  url: string;
  /** Everything the server wrote to stdout so far. */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `visage serve` on a free port; resolves once the server says where it listens. */
export function serveVisage(env: NodeJS.ProcessEnv): Promise<ServingVisage> {
  const child = spawn(VISAGE_BIN, ['serve'], {
    env: childEnv({ HOST: '127.0.0.1', PORT: '0', VISAGE_LOG_LEVEL: 'info', ...env }),
  });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/[\d.:]+)/.exec(stdout);
      if (match) {
        resolve({
          child,
          url: match[1]!,
          output: () => stdout,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`visage serve exited (${code}) before listening: ${stderr}${stdout}`)));
  });
}
